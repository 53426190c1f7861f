package train

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/internal/testutil"
)

// TestScramble checks that free-text values are replaced consistently in the input
// and the answer, with their shape kept, while enum, date and short values and
// values not in the text stay; and that function-call arguments scramble by their
// parameters' schema.
func TestScramble(t *testing.T) {
	cat := testutil.Catalog(t)
	schema := `{"type":"object","properties":{"name":{"type":"string"},"city":{"type":"string"},` +
		`"kind":{"type":"string","enum":["Premium","Basic"]},"when":{"type":"string","format":"date"},` +
		`"code":{"type":"string"},"note":{"type":"string"},"phone":{"type":"string"}}}`
	r := datasets.Record{ID: "j1", Task: "edgejson", Cell: "own", Meta: `{"schema":` + schema + `}`,
		Input:  "Liam Ueda (Premium) moved to Oslo on 2026-01-17; call (194) 555-0132. Liam Ueda says hi. ID AB",
		Target: `{"name":"Liam Ueda","city":"Oslo","kind":"Premium","when":"2026-01-17","code":"AB","note":"not in text","phone":"(194) 555-0132"}`}
	out, ok := Scramble(cat, &r, rand.New(rand.NewPCG(1, 2)))
	if !ok {
		t.Fatal("nothing scrambled")
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out.Target), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"kind", "when", "code", "note"} { // enum, date, short, not in the text
		if want := map[string]string{"kind": "Premium", "when": "2026-01-17", "code": "AB", "note": "not in text"}[k]; got[k] != want {
			t.Errorf("%s scrambled to %q", k, got[k])
		}
	}
	for _, k := range []string{"name", "city", "phone"} {
		orig := map[string]string{"name": "Liam Ueda", "city": "Oslo", "phone": "(194) 555-0132"}[k]
		v := got[k]
		if v == orig || len(v) != len(orig) || strings.Count(out.Input, v) != strings.Count(r.Input, orig) || strings.Contains(out.Input, orig) {
			t.Errorf("%s: %q -> %q, input %q", k, orig, v, out.Input)
		}
		for i := range v { // same shape
			a, b := orig[i], v[i]
			if (a >= 'a' && a <= 'z') != (b >= 'a' && b <= 'z') || (a >= 'A' && a <= 'Z') != (b >= 'A' && b <= 'Z') ||
				(a >= '0' && a <= '9') != (b >= '0' && b <= '9') || !isAlnum(a) && a != b {
				t.Errorf("%s: %q -> %q changes the shape at %d", k, orig, v, i)
			}
		}
	}
	if strings.Contains(out.Input, "Premium") == false || !strings.Contains(out.Input, "2026-01-17") {
		t.Errorf("input %q lost an enum or date value", out.Input)
	}
	again, _ := Scramble(cat, &r, rand.New(rand.NewPCG(1, 2)))
	if again.Input != out.Input || again.Target != out.Target {
		t.Error("the same seed scrambled differently")
	}

	fc := datasets.Record{ID: "f1", Task: "edgefunccall", Input: "send 20 euros to Maria Lopez for the Rent Account",
		Meta:   `{"functions":[{"name":"pay","parameters":{"type":"object","properties":{"to":{"type":"string"},"currency":{"type":"string","enum":["euros","dollars"]},"amount":{"type":"number"}}}}]}`,
		Target: `{"scenario":"single_turn","turns":[{"action":"call","calls":[{"name":"pay","arguments":{"to":"Maria Lopez","currency":"euros","amount":20}}]}]}`}
	out, ok = Scramble(cat, &fc, rand.New(rand.NewPCG(3, 4)))
	if !ok || strings.Contains(out.Input, "Maria Lopez") || !strings.Contains(out.Input, "euros") || !strings.Contains(out.Target, `"amount":20`) ||
		!strings.Contains(out.Target, `"name":"pay"`) {
		t.Errorf("function call scrambled to %q / %s", out.Input, out.Target)
	}
	if recs := Augment(cat, []datasets.Record{r, fc}, 2, 7); len(recs) != 6 || recs[2].ID != "j1~s1" || recs[5].ID != "f1~s2" {
		t.Errorf("Augment gave %d records", len(recs))
	}
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
