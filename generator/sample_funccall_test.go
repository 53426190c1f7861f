package generator

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/internal/testutil"

	"github.com/cyclecore/mlmforge/generator/lexicon"
	"github.com/cyclecore/mlmforge/schemas"
)

// funcCallSamples is how many samples each applicable function/scenario draws.
const funcCallSamples = 50

func TestScenarioApplicableAgreesWithSampleTarget(t *testing.T) {
	cat := testutil.Catalog(t)
	counts := map[schemas.Scenario]int{}
	var notMulti []string
	for _, sc := range schemas.Scenarios {
		if sc == schemas.Irrelevant {
			continue
		}
		for _, f := range cat.Functions {
			cell := Cell{Key: f.Name + "/" + string(sc), Task: schemas.EdgeFuncCall, Function: f.Name, Scenario: sc}
			ok := ScenarioApplicable(cat, f.Name, sc)
			_, err := SampleTarget(cat, cell, sampleRand(6))
			switch {
			case ok && err != nil:
				t.Errorf("%s: applicable but SampleTarget failed: %v", cell.Key, err)
			case !ok && !errors.Is(err, ErrScenarioNotApplicable):
				t.Errorf("%s: not applicable but SampleTarget gave %v", cell.Key, err)
			}
			if ok {
				counts[sc]++
			} else if sc == schemas.MultiTurn {
				notMulti = append(notMulti, f.Name)
			}
		}
	}
	for _, sc := range schemas.Scenarios {
		if sc != schemas.Irrelevant {
			t.Logf("%-14s applies to %3d of %d functions", sc, counts[sc], len(cat.Functions))
		}
	}
	t.Logf("multi_turn does not apply to: %s", strings.Join(notMulti, ", "))
	if counts[schemas.SingleTurn] != len(cat.Functions) {
		t.Errorf("single_turn applies to %d functions, want all %d", counts[schemas.SingleTurn], len(cat.Functions))
	}
	// Most functions must have a dialogue; a planner that quietly drops them would shrink the task.
	if counts[schemas.MultiTurn] < len(cat.Functions)*8/10 {
		t.Errorf("multi_turn applies to only %d of %d functions", counts[schemas.MultiTurn], len(cat.Functions))
	}
}

func TestSampleTargetFuncCallScenarios(t *testing.T) {
	cat := testutil.Catalog(t)
	ts, err := samplerFor(cat)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range []schemas.Scenario{schemas.SingleTurn, schemas.MissingParam, schemas.InvalidValue, schemas.MultiTurn} {
		t.Run(string(sc), func(t *testing.T) {
			r := sampleRand(7)
			for _, f := range cat.Functions {
				if !ScenarioApplicable(cat, f.Name, sc) {
					continue
				}
				cell := Cell{Key: f.Name + "/" + string(sc), Task: schemas.EdgeFuncCall, Function: f.Name, Scenario: sc}
				for i := range funcCallSamples {
					smp, err := SampleTarget(cat, cell, r)
					if err != nil {
						t.Fatalf("%s: %v", cell.Key, err)
					}
					if err := checkFuncCallSample(ts, smp); err != nil {
						t.Fatalf("%s sample %d: %v\nturns: %s\ntarget: %s", cell.Key, i, err, mustMarshal(smp.Turns), smp.Target)
					}
				}
			}
		})
	}
}

func TestSampleTargetIrrelevant(t *testing.T) {
	cat := testutil.Catalog(t)
	cell := Cell{Key: "irrelevant", Task: schemas.EdgeFuncCall, Scenario: schemas.Irrelevant}
	r := sampleRand(8)
	seen := map[string]bool{}
	for range 100 {
		smp, err := SampleTarget(cat, cell, r)
		if err != nil {
			t.Fatal(err)
		}
		var ft FuncCallTarget
		if err := json.Unmarshal(smp.Target, &ft); err != nil {
			t.Fatal(err)
		}
		if ft.Scenario != schemas.Irrelevant || len(ft.Turns) != 1 || ft.Turns[0].Action != ActionNone || len(ft.Turns[0].Calls) > 0 {
			t.Fatalf("target %s", smp.Target)
		}
		if len(smp.Turns) != 1 || smp.Turns[0].Function != "" || !slices.Contains(cat.Irrelevant, smp.Turns[0].Request) {
			t.Fatalf("turns %+v", smp.Turns)
		}
		seen[smp.Turns[0].Request] = true
	}
	if len(seen) < 20 {
		t.Errorf("only %d distinct irrelevant requests in 100 samples", len(seen))
	}
}

func TestSampleTargetMultiTurnFamilies(t *testing.T) {
	cat := testutil.Catalog(t)
	ts, err := samplerFor(cat)
	if err != nil {
		t.Fatal(err)
	}
	families := map[string]int{}
	lengths := map[int]int{}
	for _, fi := range ts.funcs {
		for _, sh := range fi.dialogues {
			families[sh.family]++
			lengths[len(sh.steps)]++
		}
	}
	t.Logf("dialogue shapes by family %v, by length %v", families, lengths)
	for _, f := range []string{familyRecord, familyKey, familyWriteRead, familyShared} {
		if families[f] == 0 {
			t.Errorf("no %s dialogues", f)
		}
	}
	if lengths[2] == 0 || lengths[3] == 0 {
		t.Errorf("dialogue lengths %v, want both 2 and 3 turns", lengths)
	}
	// A follower of a collection with several creates acts on the right one.
	for _, sh := range ts.funcs["travel_check_in"].dialogues {
		if sh.family == familyRecord && sh.steps[0].fi.fn.Name != "travel_book_flight" {
			t.Errorf("travel_check_in follows %s", sh.steps[0].fi.fn.Name)
		}
	}
}

// checkFuncCallSample checks one EdgeFuncCall sample against its scenario.
func checkFuncCallSample(ts *targetSampler, smp Sample) error {
	var ft FuncCallTarget
	if err := json.Unmarshal(smp.Target, &ft); err != nil {
		return err
	}
	cell := smp.Cell
	if ft.Scenario != cell.Scenario || len(ft.Turns) != len(smp.Turns) || ft.FinalState != nil {
		return fmt.Errorf("scenario %s with %d gold turns and %d plans", ft.Scenario, len(ft.Turns), len(smp.Turns))
	}
	fi := ts.funcs[cell.Function]
	switch cell.Scenario {
	case schemas.SingleTurn:
		if len(ft.Turns) != 1 {
			return fmt.Errorf("%d turns", len(ft.Turns))
		}
		return checkCallTurn(ts, smp.Turns[0], ft.Turns[0], nil)
	case schemas.MissingParam:
		p, g := smp.Turns[0], ft.Turns[0]
		if g.Action != ActionAsk || len(g.Missing) != 1 || len(g.Invalid) > 0 || len(g.Calls) > 0 {
			return fmt.Errorf("gold turn %+v", g)
		}
		miss := g.Missing[0]
		if !fi.params.required[miss] || !slices.Equal(p.Omit, g.Missing) || p.Function != fi.fn.Name {
			return fmt.Errorf("missing %q, omit %v", miss, p.Omit)
		}
		if _, ok := p.Args[miss]; ok {
			return fmt.Errorf("the user states the missing %q", miss)
		}
		// The arguments are complete but for the missing one.
		full := maps.Clone(p.Args)
		v, err := fi.params.prop(miss).sample(sampleRand(1), lexicon.Source{})
		if err != nil {
			return err
		}
		full[miss] = v
		if err := ts.checkArgs(fi, full); err != nil {
			return fmt.Errorf("arguments with %s filled in: %v", miss, err)
		}
		if ts.checkArgs(fi, p.Args) == nil {
			return fmt.Errorf("arguments without %s pass the schema", miss)
		}
	case schemas.InvalidValue:
		p, g := smp.Turns[0], ft.Turns[0]
		if g.Action != ActionAsk || len(g.Invalid) != 1 || len(g.Missing) > 0 || g.Invalid[0] != p.Invalid {
			return fmt.Errorf("gold turn %+v, plan invalid %q", g, p.Invalid)
		}
		if _, ok := p.Args[p.Invalid]; !ok {
			return fmt.Errorf("the user does not state the invalid %q", p.Invalid)
		}
		if ts.checkArgs(fi, p.Args) == nil {
			return fmt.Errorf("the invalid value %v passes", p.Args[p.Invalid])
		}
		fixed := maps.Clone(p.Args)
		v, err := fi.params.prop(p.Invalid).sample(sampleRand(1), lexicon.Source{})
		if err != nil {
			return err
		}
		fixed[p.Invalid] = v
		if err := ts.checkArgs(fi, fixed); err != nil {
			return fmt.Errorf("arguments with a valid %s fail: %v", p.Invalid, err)
		}
	case schemas.MultiTurn:
		return checkDialogue(ts, smp, ft)
	}
	return nil
}

// checkCallTurn checks a call turn: one valid call of the plan's function
// whose arguments are the stated ones plus the references.
func checkCallTurn(ts *targetSampler, p TurnPlan, g GoldTurn, created []string) error {
	if g.Action != ActionCall || len(g.Calls) != 1 || len(g.Missing)+len(g.Invalid) > 0 {
		return fmt.Errorf("gold turn %+v", g)
	}
	c := g.Calls[0]
	fi, ok := ts.funcs[c.Name]
	if !ok || c.Name != p.Function {
		return fmt.Errorf("call %s for plan %s", c.Name, p.Function)
	}
	if c.Arguments == nil {
		return errors.New("arguments are null, want an object")
	}
	if err := ts.checkArgs(fi, c.Arguments); err != nil {
		return err
	}
	want := maps.Clone(p.Args)
	if want == nil {
		want = map[string]any{}
	}
	for param, turn := range p.Refs {
		if turn < 0 || turn >= len(created) || created[turn] == "" {
			return fmt.Errorf("ref %s -> turn %d, which creates nothing", param, turn)
		}
		if _, stated := p.Args[param]; stated {
			return fmt.Errorf("ref %s is also stated", param)
		}
		want[param] = created[turn]
	}
	if !reflect.DeepEqual(jsonRoundTrip(want), jsonRoundTrip(c.Arguments)) {
		return fmt.Errorf("call arguments %v are not the stated %v plus refs %v", c.Arguments, p.Args, p.Refs)
	}
	return nil
}

// checkDialogue checks a multi_turn sample: 2-3 valid call turns, the cell's
// function among them, refs to created records, and a clean mock execution.
func checkDialogue(ts *targetSampler, smp Sample, ft FuncCallTarget) error {
	if n := len(ft.Turns); n < 2 || n > 3 {
		return fmt.Errorf("%d turns", n)
	}
	created := make([]string, len(ft.Turns))
	counts := map[string]int{}
	called := false
	for i, g := range ft.Turns {
		if err := checkCallTurn(ts, smp.Turns[i], g, created); err != nil {
			return fmt.Errorf("turn %d: %w", i+1, err)
		}
		name := g.Calls[0].Name
		called = called || name == smp.Cell.Function
		if m := ts.funcs[name].fn.Mock; m.Op == schemas.MockCreate {
			counts[m.Collection]++
			created[i] = MockID(m.Collection, counts[m.Collection])
		}
	}
	if !called {
		return fmt.Errorf("no turn calls %s", smp.Cell.Function)
	}
	if _, _, err := ExecuteTarget(ts.cat, ft); err != nil {
		return fmt.Errorf("mock execution: %w", err)
	}
	return nil
}

func jsonRoundTrip(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSampledArgsAreDistinct: two arguments of one call never share a string
// value ("move 2195.05 from Renovation Fund to Renovation Fund"), which read
// as a mistake and taught students that a complete request may be invalid.
// Before the fix 5 of 65 transfers in a 1,000-record test split did.
func TestSampledArgsAreDistinct(t *testing.T) {
	cat := testutil.Catalog(t)
	r := sampleRand(11)
	for _, f := range cat.Functions {
		if !ScenarioApplicable(cat, f.Name, schemas.SingleTurn) {
			continue
		}
		cell := Cell{Key: f.Name + "/single_turn", Task: schemas.EdgeFuncCall, Function: f.Name, Scenario: schemas.SingleTurn}
		for i := range 40 {
			smp, err := SampleTarget(cat, cell, r)
			if err != nil {
				t.Fatal(err)
			}
			for _, tp := range smp.Turns {
				seen := map[string]string{}
				for name, v := range tp.Args {
					s, ok := v.(string)
					if !ok {
						continue
					}
					if other, dup := seen[s]; dup {
						t.Errorf("%s sample %d: %s and %s are both %q", f.Name, i, other, name, s)
					}
					seen[s] = name
				}
			}
		}
	}
}
