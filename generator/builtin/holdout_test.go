package builtin

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/internal/testutil"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/lexicon"
	"github.com/cyclecore/mlmforge/generator/validate"
	"github.com/cyclecore/mlmforge/schemas"
)

// hoShare is the share the held-out tests reserve.
const hoShare = 0.25

// hoRun is one generation through the batch runner, as the Dataset workflow
// runs it (one round, no cross-batch merge).
type hoRun struct {
	plan  *generator.Plan
	recs  []datasets.Record
	stats generator.Stats
	// exhausted lists the "cell/split" items that missed their quota.
	exhausted []string
}

// rate is the share of the teacher's candidates that passed every validator.
func (h hoRun) rate() float64 { return float64(len(h.recs)) / float64(max(1, h.stats.Attempts)) }

// hoGenerate generates spec with the builtin teacher and the default validators.
func hoGenerate(t *testing.T, cat *schemas.Catalog, spec generator.Spec) hoRun {
	t.Helper()
	plan, err := generator.NewPlan(cat, spec)
	if err != nil {
		t.Fatal(err)
	}
	items := plan.QuotaItems()
	r := &generator.Runner{Catalog: cat, Plan: plan, Teacher: New(cat), Info: generator.TeacherInfo{Name: "builtin"},
		Validator: validate.New(cat, validate.DefaultConfig())}
	recs, done, stats, err := r.Run(context.Background(), 0, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	run := hoRun{plan: plan, recs: recs, stats: stats}
	for _, d := range done {
		if d.Exhausted {
			run.exhausted = append(run.exhausted, plan.Cells[d.Cell].Cell.Key+"/"+d.Split)
		}
	}
	return run
}

// hoReplay makes a record again, from its seed and attempt, with the sampler
// and the teacher tracing every list item they draw. It fails the test unless
// the replay gives the record's input and target, so the draws are the ones
// the record was made from.
func hoReplay(t *testing.T, cat *schemas.Catalog, b *Teacher, cell generator.Cell, rec datasets.Record) []lexicon.Draw {
	t.Helper()
	var prov generator.Provenance
	var meta generator.ExampleMeta
	if err := json.Unmarshal([]byte(rec.Provenance), &prov); err != nil {
		t.Fatalf("record %s provenance: %v", rec.ID, err)
	}
	if err := json.Unmarshal([]byte(rec.Meta), &meta); err != nil {
		t.Fatalf("record %s meta: %v", rec.ID, err)
	}
	var draws []lexicon.Draw
	trace := func(d lexicon.Draw) { draws = append(draws, d) }
	s, err := generator.SampleTargetTrace(cat, cell, rand.New(rand.NewPCG(uint64(prov.Seed), uint64(meta.Attempt))), trace)
	if err != nil {
		t.Fatalf("record %s: replay sample: %v", rec.ID, err)
	}
	resp, err := b.write(context.Background(), generator.Request{Mode: generator.LabelFirst, Sample: s, Seed: prov.Seed}, trace)
	if err != nil {
		t.Fatalf("record %s: replay write: %v", rec.ID, err)
	}
	same := generator.SameJSON(s.Target, json.RawMessage(rec.Target))
	if cell.Task == schemas.EdgeFuncCall {
		same = generator.SameLabel(cell.Task, s.Target, json.RawMessage(rec.Target))
	}
	if resp.Input != rec.Input || !same {
		t.Fatalf("record %s (%s/%s): the replay differs:\n%s\n%s\n---\n%s\n%s", rec.ID, rec.Cell, rec.Split,
			rec.Input, rec.Target, resp.Input, s.Target)
	}
	return draws
}

// hoCheckDraws checks that every item a record drew is on its split's side:
// reserved on the test split, not reserved on any other. A draw may fall back
// to the whole list only when the list has fewer than two distinct items; it
// returns the number of such fallbacks and of template draws.
func hoCheckDraws(t *testing.T, rec datasets.Record, draws []lexicon.Draw) (fallbacks, templates int) {
	t.Helper()
	test := rec.Split == generator.HoldoutSplit
	for _, d := range draws {
		if d.NS == lexicon.NSTemplate {
			templates++
		}
		i := slices.Index(d.Items, d.Item)
		if i < 0 {
			t.Errorf("record %s: %s item %q is not in its list", rec.ID, d.List, d.Item)
			continue
		}
		if d.Fallback {
			if n := len(hoDistinct(d.Items)); n >= 2 {
				t.Errorf("record %s: %s fell back to the whole list, which has %d items", rec.ID, d.List, n)
			}
			fallbacks++
			continue
		}
		if reserved := lexicon.Reserved(hoShare, d.NS, d.Items)[i]; reserved != test {
			t.Errorf("record %s (%s split): %s item %q reserved=%v", rec.ID, rec.Split, d.List, d.Item, reserved)
		}
	}
	return fallbacks, templates
}

// hoDistinct returns the distinct items of a list.
func hoDistinct(items []string) map[string]bool {
	m := map[string]bool{}
	for _, it := range items {
		m[it] = true
	}
	return m
}

// hoCases are the task variants the held-out split must serve.
var hoCases = []struct {
	name  string
	spec  generator.Spec
	train int
	test  int
}{
	{"edgejson-simple", generator.Spec{Task: schemas.EdgeJSON, Variant: "simple"}, 100, 40},
	{"edgejson-medium", generator.Spec{Task: schemas.EdgeJSON, Variant: "medium"}, 100, 40},
	{"edgejson-complex", generator.Spec{Task: schemas.EdgeJSON, Variant: "complex"}, 100, 40},
	{"assistant-50", generator.Spec{Task: schemas.EdgeIntent, Variant: "50"}, 200, 100},
	{"assistant-100", generator.Spec{Task: schemas.EdgeIntent, Variant: "100"}, 200, 100},
	{"assistant-200", generator.Spec{Task: schemas.EdgeIntent, Variant: "200"}, 300, 200},
	{"funccall-all", generator.Spec{Task: schemas.EdgeFuncCall}, 400, 400},
}

// TestHoldoutSplitsTemplatesAndValues generates every task variant with a
// quarter of the templates and values held out and checks, record by record,
// that no train example uses a reserved template or value and that every
// test example uses only reserved ones; that every complexity level and
// scenario still generates; and that the validators pass about as many
// candidates as without a held-out split.
func TestHoldoutSplitsTemplatesAndValues(t *testing.T) {
	cat := testutil.Catalog(t)
	b := New(cat)
	for _, tc := range hoCases {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.Seed, spec.Counts = 11, map[string]int{"train": tc.train, generator.HoldoutSplit: tc.test}
			base := hoGenerate(t, cat, spec)
			spec.HoldoutTemplates = hoShare
			run := hoGenerate(t, cat, spec)
			if len(run.exhausted) > 0 {
				t.Errorf("%d items missed their quota: %v", len(run.exhausted), run.exhausted)
			}
			t.Logf("%s: %d records, success rate %.3f at holdout %g vs %.3f at 0; rejects %v vs %v", tc.name,
				len(run.recs), run.rate(), hoShare, base.rate(), run.stats.Rejects, base.stats.Rejects)
			if run.rate() < base.rate()-0.1 {
				t.Errorf("success rate %.3f at holdout %g, %.3f without: the held-out split starves the validators",
					run.rate(), hoShare, base.rate())
			}
			cellOf := run.plan.CellIndex()
			fallbacks := 0
			kinds := map[string]int{}
			for _, rec := range run.recs {
				ci, ok := cellOf(rec.Cell, rec.Split)
				if !ok {
					t.Fatalf("record %s: no plan cell %s for split %s", rec.ID, rec.Cell, rec.Split)
				}
				cell := run.plan.Cells[ci].Cell
				if cell.HeldOut != (rec.Split == generator.HoldoutSplit) {
					t.Fatalf("record %s of split %s came from a cell with HeldOut=%v", rec.ID, rec.Split, cell.HeldOut)
				}
				fb, templates := hoCheckDraws(t, rec, hoReplay(t, cat, b, cell, rec))
				fallbacks += fb
				if templates == 0 {
					t.Errorf("record %s: drew no template", rec.ID)
				}
				hoCheckOutput(t, cat, rec)
				kinds[rec.Split+" "+rec.Complexity+rec.Scenario]++
			}
			t.Logf("%s: %d draws fell back to a whole list; records by split and kind %v", tc.name, fallbacks, kinds)
			hoCheckKinds(t, run.plan, kinds)
		})
	}
}

// hoCheckKinds checks that every complexity level (EdgeJSON) and scenario
// (EdgeFuncCall) the plan gives examples of in a split has them, and that
// the train split has every scenario.
func hoCheckKinds(t *testing.T, plan *generator.Plan, kinds map[string]int) {
	t.Helper()
	want := map[string]int{}
	for _, c := range plan.Cells {
		for split, q := range c.Quota {
			want[split+" "+string(c.Cell.Complexity)+string(c.Cell.Scenario)] += q
		}
	}
	for k, q := range want {
		if q > 0 && kinds[k] == 0 {
			t.Errorf("no %s example (quota %d)", k, q)
		}
	}
	if plan.Spec.Task == schemas.EdgeFuncCall {
		for _, sc := range schemas.Scenarios {
			if kinds["train "+string(sc)] == 0 {
				t.Errorf("the train split has no %s example", sc)
			}
		}
	}
}

// TestHoldoutDeterministic checks that a held-out spec gives the same records
// on every run, and other records than without the option or at another share.
func TestHoldoutDeterministic(t *testing.T) {
	cat := testutil.Catalog(t)
	spec := generator.Spec{Task: schemas.EdgeIntent, Variant: "50", Seed: 4, Counts: map[string]int{"train": 100, generator.HoldoutSplit: 50},
		HoldoutTemplates: hoShare}
	digest := func(s generator.Spec) string {
		var b strings.Builder
		for _, r := range hoGenerate(t, cat, s).recs {
			fmt.Fprintf(&b, "%s %s %s %q\n", r.ID, r.Split, r.Cell, r.Input)
		}
		return b.String()
	}
	a := digest(spec)
	if a != digest(spec) {
		t.Fatal("the same held-out spec gave different records")
	}
	zero, half := spec, spec
	zero.HoldoutTemplates, half.HoldoutTemplates = 0, 0.5
	if a == digest(zero) || a == digest(half) {
		t.Fatal("the share does not change the records")
	}
}

// TestHoldoutSelect checks that the merge keeps each split's records under
// its own twin's quota.
func TestHoldoutSelect(t *testing.T) {
	cat := testutil.Catalog(t)
	spec := generator.Spec{Task: schemas.EdgeJSON, Variant: "simple", Seed: 3, Counts: map[string]int{"train": 12, "test": 6},
		HoldoutTemplates: 0.25}
	run := hoGenerate(t, cat, spec)
	// Every record twice, as a retried batch would write them: the merge keeps one of each.
	sel := generator.Select(run.plan, append(append([]datasets.Record(nil), run.recs...), run.recs...))
	if len(sel.Records) != 18 {
		t.Fatalf("kept %d records, want 18", len(sel.Records))
	}
	for i, c := range run.plan.Cells {
		for split, q := range c.Quota {
			if sel.Kept[i][split] != q {
				t.Errorf("cell %d (%s, held out %v) split %s: kept %d, want %d", i, c.Cell.Key, c.Cell.HeldOut, split, sel.Kept[i][split], q)
			}
		}
	}
	if len(sel.Deficits(run.plan)) != 0 {
		t.Errorf("deficits %v", sel.Deficits(run.plan))
	}
}
