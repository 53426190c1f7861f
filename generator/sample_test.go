package generator

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/internal/testutil"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cyclecore/mlmforge/schemas"
)

func sampleRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

// decodeForSchema decodes JSON the way jsonschema wants it (numbers as json.Number).
func decodeForSchema(t *testing.T, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// longDecimal finds numbers with more than two decimals in marshalled JSON.
var longDecimal = regexp.MustCompile(`[:\[,]-?[0-9]+\.[0-9]{3,}`)

func TestSampleTargetEdgeJSON(t *testing.T) {
	cat := testutil.Catalog(t)
	if len(cat.Schemas) == 0 {
		t.Fatal("no schemas")
	}
	for _, s := range cat.Schemas {
		t.Run(s.ID, func(t *testing.T) {
			sch, err := cat.CompiledSchema(s.ID)
			if err != nil {
				t.Fatal(err)
			}
			cell := Cell{Key: s.ID, Task: schemas.EdgeJSON, Variant: "edgejson", SchemaID: s.ID, Complexity: s.Complexity}
			r := sampleRand(1)
			present := map[string]int{}
			distinct := map[string]bool{}
			for range 200 {
				smp, err := SampleTarget(cat, cell, r)
				if err != nil {
					t.Fatal(err)
				}
				if err := sch.Validate(decodeForSchema(t, smp.Target)); err != nil {
					t.Fatalf("target %s: %v", smp.Target, err)
				}
				if m := longDecimal.FindString(string(smp.Target)); m != "" {
					t.Errorf("target has a long decimal %q: %s", m, smp.Target)
				}
				var obj map[string]any
				if err := json.Unmarshal(smp.Target, &obj); err != nil {
					t.Fatal(err)
				}
				for k := range obj {
					present[k]++
				}
				distinct[string(smp.Target)] = true
				if smp.Cell != cell || smp.Turns != nil || smp.Slots != nil {
					t.Fatalf("sample carries the wrong cell or extra fields: %+v", smp)
				}
			}
			if len(distinct) < 190 {
				t.Errorf("only %d distinct targets in 200", len(distinct))
			}
			// Optional top-level properties appear about 60% of the time.
			n, _ := parseValueNode(s.Schema)
			for _, p := range n.props {
				c := present[p.name]
				switch {
				case n.required[p.name] && c != 200:
					t.Errorf("required %s present %d/200 times", p.name, c)
				case !n.required[p.name] && (c < 80 || c > 160):
					t.Errorf("optional %s present %d/200 times, want about 120", p.name, c)
				}
			}
		})
	}
}

func TestSampleTargetEdgeJSONOrderedPairs(t *testing.T) {
	cat := testutil.Catalog(t)
	cell := Cell{Key: "travel.hotel_booking", Task: schemas.EdgeJSON, SchemaID: "travel.hotel_booking"}
	r := sampleRand(2)
	checked := 0
	for range 100 {
		smp, err := SampleTarget(cat, cell, r)
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		_ = json.Unmarshal(smp.Target, &obj)
		in, ok1 := obj["check_in_date"].(string)
		out, ok2 := obj["check_out_date"].(string)
		if ok1 && ok2 {
			checked++
			if out <= in {
				t.Errorf("check-out %s is not after check-in %s", out, in)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no sample had both dates; the test proves nothing")
	}
}

func TestSampleTargetEdgeIntent(t *testing.T) {
	cat := testutil.Catalog(t)
	for _, tax := range cat.Taxonomies {
		t.Run(tax.ID, func(t *testing.T) {
			r := sampleRand(3)
			withSlots, withoutSlots := 0, 0
			for _, c := range tax.Classes {
				cell := Cell{Key: c.ID, Task: schemas.EdgeIntent, Variant: tax.ID, Taxonomy: tax.ID, Class: c.ID}
				for range 20 {
					smp, err := SampleTarget(cat, cell, r)
					if err != nil {
						t.Fatal(err)
					}
					var it IntentTarget
					if err := json.Unmarshal(smp.Target, &it); err != nil {
						t.Fatal(err)
					}
					if it.Intent != c.ID {
						t.Fatalf("intent %q, want %q", it.Intent, c.ID)
					}
					if !mapsEqual(it.Slots, smp.Slots) {
						t.Fatalf("target slots %v differ from sample slots %v", it.Slots, smp.Slots)
					}
					for name, v := range it.Slots {
						i := slices.IndexFunc(c.Slots, func(s schemas.Slot) bool { return s.Name == name })
						if i < 0 {
							t.Fatalf("class %s has no slot %q", c.ID, name)
						}
						if vals := c.Slots[i].Values; len(vals) > 0 && !slices.Contains(vals, v) {
							t.Fatalf("slot %s value %q is not one of %v", name, v, vals)
						}
						if strings.TrimSpace(v) == "" {
							t.Fatalf("slot %s is empty", name)
						}
					}
					if len(c.Slots) > 0 {
						if len(it.Slots) > 0 {
							withSlots++
						} else {
							withoutSlots++
						}
					}
				}
			}
			if withSlots == 0 || withoutSlots == 0 {
				t.Errorf("slot subsets do not vary: %d samples with slots, %d without", withSlots, withoutSlots)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// determinismCells returns one cell per task and scenario.
func determinismCells(cat *schemas.Catalog) []Cell {
	tax := cat.Taxonomies[0]
	cells := []Cell{
		{Key: cat.Schemas[0].ID, Task: schemas.EdgeJSON, SchemaID: cat.Schemas[0].ID},
		{Key: "ecommerce.order_fulfillment", Task: schemas.EdgeJSON, SchemaID: "ecommerce.order_fulfillment"},
		{Key: tax.Classes[0].ID, Task: schemas.EdgeIntent, Taxonomy: tax.ID, Class: tax.Classes[0].ID},
		{Key: "irrelevant", Task: schemas.EdgeFuncCall, Scenario: schemas.Irrelevant},
	}
	for _, sc := range []schemas.Scenario{schemas.SingleTurn, schemas.MultiTurn, schemas.MissingParam, schemas.InvalidValue} {
		cells = append(cells, Cell{Key: "calendar_create_event/" + string(sc), Task: schemas.EdgeFuncCall,
			Function: "calendar_create_event", Scenario: sc})
	}
	return cells
}

func TestSampleTargetDeterminism(t *testing.T) {
	cat := testutil.Catalog(t)
	for _, cell := range determinismCells(cat) {
		t.Run(cell.Key, func(t *testing.T) {
			draw := func(seed uint64) string {
				r := sampleRand(seed)
				var out []string
				for range 5 {
					smp, err := SampleTarget(cat, cell, r)
					if err != nil {
						t.Fatal(err)
					}
					b, err := json.Marshal(smp)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, string(b))
				}
				return strings.Join(out, "\n")
			}
			a, b := draw(11), draw(11)
			if a != b {
				t.Fatalf("the same seed gave different samples:\n%s\n---\n%s", a, b)
			}
			if draw(12) == a {
				t.Fatal("different seeds gave the same five samples: the seed is ignored")
			}
		})
	}
}

func TestSampleTargetErrors(t *testing.T) {
	cat := testutil.Catalog(t)
	r := sampleRand(4)
	cases := []struct {
		cell Cell
		want string
	}{
		{Cell{Key: "x", Task: "nope"}, `unknown task "nope"`},
		{Cell{Key: "x", Task: schemas.EdgeJSON, SchemaID: "no.such"}, `unknown schema "no.such"`},
		{Cell{Key: "x", Task: schemas.EdgeIntent, Taxonomy: cat.Taxonomies[0].ID, Class: "no_such"}, `no class "no_such"`},
		{Cell{Key: "x", Task: schemas.EdgeIntent, Taxonomy: "no-such", Class: "a"}, `unknown taxonomy "no-such"`},
		{Cell{Key: "x", Task: schemas.EdgeFuncCall, Function: "no_such", Scenario: schemas.SingleTurn}, `unknown function "no_such"`},
		{Cell{Key: "x", Task: schemas.EdgeFuncCall, Function: "calendar_create_event", Scenario: "sideways"}, "not applicable"},
	}
	for _, c := range cases {
		if _, err := SampleTarget(cat, c.cell, r); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want an error containing %q", c.cell, err, c.want)
		}
	}
	_, err := SampleTarget(cat, Cell{Key: "x", Task: schemas.EdgeFuncCall, Function: "calendar_create_event", Scenario: schemas.Irrelevant}, r)
	if !errors.Is(err, ErrScenarioNotApplicable) {
		t.Errorf("irrelevant cell with a function: got %v, want ErrScenarioNotApplicable", err)
	}
	if ScenarioApplicable(cat, "calendar_create_event", schemas.Irrelevant) || !ScenarioApplicable(cat, "", schemas.Irrelevant) {
		t.Error("irrelevant applies to the function-less cell only")
	}
	if ScenarioApplicable(cat, "no_such", schemas.SingleTurn) {
		t.Error("an unknown function is applicable")
	}
}

func BenchmarkSampleTarget(b *testing.B) {
	cat := testutil.Catalog(b)
	tax := cat.Taxonomies[len(cat.Taxonomies)-1]
	benches := []struct {
		name string
		cell Cell
	}{
		{"edgejson-simple", Cell{Key: "s", Task: schemas.EdgeJSON, SchemaID: "finance.payment"}},
		{"edgejson-complex", Cell{Key: "c", Task: schemas.EdgeJSON, SchemaID: "travel.multi_leg_itinerary"}},
		{"edgeintent", Cell{Key: "i", Task: schemas.EdgeIntent, Taxonomy: tax.ID, Class: tax.Classes[len(tax.Classes)/2].ID}},
		{"edgefunccall-single", Cell{Key: "f", Task: schemas.EdgeFuncCall, Function: "calendar_create_event", Scenario: schemas.SingleTurn}},
		{"edgefunccall-invalid", Cell{Key: "f", Task: schemas.EdgeFuncCall, Function: "calendar_create_event", Scenario: schemas.InvalidValue}},
		{"edgefunccall-multi", Cell{Key: "f", Task: schemas.EdgeFuncCall, Function: "calendar_create_event", Scenario: schemas.MultiTurn}},
	}
	for _, bc := range benches {
		b.Run(bc.name, func(b *testing.B) {
			r := sampleRand(5)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := SampleTarget(cat, bc.cell, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
