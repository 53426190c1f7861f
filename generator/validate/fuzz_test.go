package validate

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/cyclecore/mlmforge/internal/testutil"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

var fuzzValidate struct {
	sync.Once
	v       *Validator
	cat     *schemas.Catalog
	samples []generator.Sample
}

// FuzzValidatorCheck checks arbitrary teacher output (input text and target
// JSON) against samples of every task: the validator that decides what enters
// a dataset. It must not panic; a rejection has a reason; and an accepted
// EdgeJSON target is valid JSON that its cell's JSON Schema accepts.
func FuzzValidatorCheck(f *testing.F) {
	f.Add(uint8(0), "Order 12 for Ann: 2 pens", []byte(`{"order_id": 12}`))
	f.Add(uint8(1), "set a timer for 5 minutes", []byte(`{"intent":"timer_set","slots":{"minutes":5}}`))
	f.Add(uint8(2), `["turn on the kitchen lights"]`, []byte(`{"scenario":"single_turn","turns":[{"action":"call","calls":[{"name":"lights_turn_on","arguments":{"room":"kitchen"}}]}]}`))
	f.Add(uint8(3), "", []byte(`{"a": 1e999}`))
	f.Add(uint8(4), "x", []byte(`[`))
	f.Add(uint8(128), "Order 12 for Ann Lee, ships to Lisbon", []byte(nil))
	f.Add(uint8(135), "set a timer for ten minutes", []byte(nil))
	f.Fuzz(func(t *testing.T, which uint8, input string, target []byte) {
		fuzzValidate.Do(func() {
			cat := testutil.Catalog(t)
			fuzzValidate.cat, fuzzValidate.v = cat, New(cat, DefaultConfig())
			r := rand.New(rand.NewPCG(1, 2))
			for _, spec := range []generator.Spec{{Task: schemas.EdgeJSON}, {Task: schemas.EdgeIntent, Variant: "50"}, {Task: schemas.EdgeFuncCall, Variant: "20"}} {
				spec.Counts = map[string]int{"train": 10}
				p, err := generator.NewPlan(cat, spec)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < len(p.Cells) && i < 6; i++ {
					s, err := generator.SampleTarget(cat, p.Cells[i].Cell, r)
					if err != nil {
						t.Fatal(err)
					}
					fuzzValidate.samples = append(fuzzValidate.samples, s)
				}
			}
		})
		if len(fuzzValidate.samples) == 0 {
			t.Fatal("no samples")
		}
		s := fuzzValidate.samples[int(which)%len(fuzzValidate.samples)]
		if which >= 128 {
			target = s.Target // the sampled gold with the fuzzed input
		}
		val, rej := fuzzValidate.v.Check(s, input, json.RawMessage(target))
		if rej != nil {
			if rej.Reason == "" {
				t.Fatalf("rejection without a reason: %+v", rej)
			}
			return
		}
		if !json.Valid(target) || !slices.Contains(val.Checks, "json") {
			t.Fatalf("accepted invalid JSON %q (checks %v)", target, val.Checks)
		}
		if s.Cell.Task == schemas.EdgeJSON {
			sch, err := fuzzValidate.cat.CompiledSchema(s.Cell.SchemaID)
			if err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(target))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Fatalf("accepted a target its schema %s refuses: %v\n%s", s.Cell.SchemaID, err, target)
			}
		}
	})
}
