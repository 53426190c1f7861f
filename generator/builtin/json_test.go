package builtin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// Hand-built targets that validate against real schemas: simple, medium, complex.
const (
	btPayment = `{"merchant": "Corner Bakery", "amount": 12.5, "currency": "EUR", "paid_on": "2026-03-14",
		"category": "groceries"}`
	btOrderConfirmation = `{"order_id": "ORD-88231", "order_date": "2026-02-03", "customer_name": "Maria Gonzalez",
		"items": [
			{"sku": "BLU-WID-12", "product_name": "Blue Widget", "quantity": 2, "unit_price": 9.99},
			{"sku": "RED-GAD-07", "product_name": "Red Gadget Pro", "quantity": 1, "unit_price": 149}
		],
		"subtotal": 168.98, "currency": "USD", "coupon_code": "SPRING10"}`
	btItinerary = `{"itinerary_ref": "QX7P2L", "issued_on": "2026-01-20",
		"traveler": {"full_name": "Ken Watanabe", "email": "ken.w@example.org", "loyalty_number": "FF-7788123"},
		"journeys": [
			{"direction": "outbound", "segments": [
				{"flight_number": "LH401", "airline": "Lufthansa", "cabin_class": "premium_economy", "seat": "14C",
				 "departure": {"airport_code": "JFK", "scheduled_at": "2026-02-10T18:30:00Z", "terminal": "1"},
				 "arrival": {"airport_code": "FRA", "scheduled_at": "2026-02-11T07:45:00Z", "terminal": "B"}}]},
			{"direction": "return", "segments": [
				{"flight_number": "LH400", "airline": "Lufthansa", "cabin_class": "economy", "seat": "31A",
				 "departure": {"airport_code": "FRA", "scheduled_at": "2026-02-20T10:05:00+01:00", "terminal": "1"},
				 "arrival": {"airport_code": "JFK", "scheduled_at": "2026-02-20T12:55:00-05:00", "terminal": "4"}}]}
		],
		"total_fare": 1284.4, "currency": "USD"}`
)

// btDocSample builds an EdgeJSON sample and checks that its target is valid.
func btDocSample(t testing.TB, cat *schemas.Catalog, id, target string) generator.Sample {
	t.Helper()
	sch, err := cat.CompiledSchema(id)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(target))
	if err != nil {
		t.Fatalf("%s target: %v", id, err)
	}
	if err := sch.Validate(v); err != nil {
		t.Fatalf("%s target does not validate: %v", id, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(target)); err != nil {
		t.Fatal(err)
	}
	return generator.Sample{Cell: generator.Cell{Key: id, Task: schemas.EdgeJSON, Variant: "edgejson", SchemaID: id}, Target: compact.Bytes()}
}

// btDigitRe finds digits, which distractor and frame text must not hold.
var btDigitRe = regexp.MustCompile(`[0-9]`)

func TestBuiltinDocumentHandBuilt(t *testing.T) {
	b, cat := btTestTeacher(t)
	for _, c := range []struct{ id, target string }{
		{"finance.payment", btPayment},
		{"ecommerce.order_confirmation", btOrderConfirmation},
		{"travel.multi_leg_itinerary", btItinerary},
	} {
		s := btDocSample(t, cat, c.id, c.target)
		target, _ := btDecode(s.Target)
		for seed := int64(0); seed < 40; seed++ {
			text := btWrite(t, b, s, seed)
			what := fmt.Sprintf("%s seed %d", c.id, seed)
			btCheckClean(t, what, text)
			btCheckLeaves(t, what, text, target)
		}
	}
}

func TestBuiltinDocumentEverySchema(t *testing.T) {
	b, cat := btTestTeacher(t)
	for _, sch := range cat.Schemas {
		for k := range 3 {
			target := btTestValue(btRawSchemaMap(t, sch.Schema), "", k)
			raw, _ := json.Marshal(target)
			s := generator.Sample{Cell: generator.Cell{Key: sch.ID, Task: schemas.EdgeJSON, SchemaID: sch.ID}, Target: raw}
			norm, _ := btDecode(raw)
			for seed := int64(0); seed < 15; seed++ {
				seed := seed + int64(k)*100
				text := btWrite(t, b, s, seed)
				what := fmt.Sprintf("%s k=%d seed %d", sch.ID, k, seed)
				btCheckClean(t, what, text)
				btCheckLeaves(t, what, text, norm)
				if n := len([]rune(text)); n > 4000 {
					t.Errorf("%s: %d characters, more than the validator's 4000", what, n)
				}
			}
		}
	}
}

func TestBuiltinDocumentVariety(t *testing.T) {
	b, cat := btTestTeacher(t)
	for _, sch := range cat.Schemas {
		target := btTestValue(btRawSchemaMap(t, sch.Schema), "", 0)
		raw, _ := json.Marshal(target)
		s := generator.Sample{Cell: generator.Cell{Key: sch.ID, Task: schemas.EdgeJSON, SchemaID: sch.ID}, Target: raw}
		texts, shapes := map[string]bool{}, map[string]bool{}
		for seed := int64(0); seed < 100; seed++ {
			text := btWrite(t, b, s, seed)
			texts[text] = true
			shapes[btShape(text)] = true
		}
		if len(texts) < 98 || len(shapes) < 40 {
			t.Errorf("%s: 100 seeds gave %d texts in %d layouts, want >= 98 and >= 40", sch.ID, len(texts), len(shapes))
		}
	}
}

// btShape reduces a document to its layout: per line, the indentation, the
// bullet, and how a value is attached (": ", " - ", "|", "=", or prose).
func btShape(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimLeft(line, " ")
		b.WriteString(strings.Repeat(">", len(line)-len(t)))
		for _, bullet := range []string{"- ", "* ", "• "} {
			if strings.HasPrefix(t, bullet) {
				b.WriteString(bullet)
			}
		}
		switch {
		case t == "":
			b.WriteString("_")
		case strings.Contains(t, " | "):
			b.WriteString("|")
		case strings.Contains(t, "="):
			b.WriteString("=")
		case strings.Contains(t, ": "), strings.HasSuffix(t, ":"):
			b.WriteString(":")
		case strings.Contains(t, " - "):
			b.WriteString("-")
		default:
			b.WriteString(".")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestBuiltinDocumentFrames(t *testing.T) {
	d, err := btLoadData()
	if err != nil {
		t.Fatal(err)
	}
	frames := map[string]btFrame{"generic": d.docs.Generic}
	for id, f := range d.docs.Schemas {
		frames[id] = f
	}
	_, cat := btTestTeacher(t)
	for id, f := range frames {
		if _, err := cat.Schema(id); err != nil && id != "generic" {
			t.Errorf("documents.json frames unknown schema %q", id)
		}
		for _, list := range [][]string{f.Openers, f.Closers, f.Distractors} {
			for _, s := range list {
				if btDigitRe.MatchString(s) || strings.Contains(s, "@") {
					t.Errorf("%s: frame text %q holds a digit or an address that could pass for a field", id, s)
				}
			}
		}
		for _, st := range f.Styles {
			switch st {
			case "lines", "bullets", "prose", "mixed", "table", "form", "log", "sms", "signature":
			default:
				t.Errorf("%s: unknown style %q", id, st)
			}
		}
	}
}
