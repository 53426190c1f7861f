package builtin

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

func TestBuiltinFuncCallEveryFunction(t *testing.T) {
	b, cat := btTestTeacher(t)
	for _, f := range cat.Functions {
		full := btFuncArgs(t, f, true, 0)
		plans := map[string]generator.TurnPlan{
			"all args":      {Function: f.Name, Args: full},
			"required args": {Function: f.Name, Args: btFuncArgs(t, f, false, 1)},
		}
		for _, p := range btRequired(t, f) {
			args := maps.Clone(full)
			delete(args, p)
			plans["missing "+p] = generator.TurnPlan{Function: f.Name, Args: args, Omit: []string{p}}
		}
		for name, v := range full {
			if _, isObj := v.(map[string]any); isObj {
				continue
			}
			args := maps.Clone(full)
			args[name] = "not-a-valid-" + name
			plans["invalid "+name] = generator.TurnPlan{Function: f.Name, Args: args, Invalid: name}
			break
		}
		for what, plan := range plans {
			sc := schemas.SingleTurn
			switch {
			case len(plan.Omit) > 0:
				sc = schemas.MissingParam
			case plan.Invalid != "":
				sc = schemas.InvalidValue
			}
			hidden := map[string]any{}
			for _, o := range plan.Omit {
				hidden[o] = full[o]
			}
			for seed := int64(0); seed < 4; seed++ {
				text := btWrite(t, b, btFuncSample(sc, plan), seed)
				if strings.HasPrefix(text, "[") {
					t.Errorf("%s %s: single-turn input is a JSON array: %s", f.Name, what, text)
				}
				btCheckTurn(t, fmt.Sprintf("%s %s seed %d", f.Name, what, seed), text, plan, hidden)
			}
		}
	}
}

// btRefTarget finds, for a function that addresses a record by an id
// parameter, a function that creates records in the same collection.
func btRefTarget(cat *schemas.Catalog, f *schemas.Function) *schemas.Function {
	if f.Mock.Key == "" || (f.Mock.Op != schemas.MockUpsert && f.Mock.Op != schemas.MockDelete) {
		return nil
	}
	for _, g := range cat.Functions {
		if g.Mock.Op == schemas.MockCreate && g.Mock.Collection == f.Mock.Collection {
			return g
		}
	}
	return nil
}

func TestBuiltinFuncCallMultiTurn(t *testing.T) {
	b, cat := btTestTeacher(t)
	n := 0
	for _, f := range cat.Functions {
		create := btRefTarget(cat, f)
		if create == nil {
			continue
		}
		n++
		key := f.Mock.Key
		id := generator.MockID(f.Mock.Collection, 1)
		args := btFuncArgs(t, f, true, 2)
		// The sampler may keep the referred-to id in Args; it must not be said.
		args[key] = id
		turns := []generator.TurnPlan{
			{Function: create.Name, Args: btFuncArgs(t, create, false, 0)},
			{Function: f.Name, Args: args, Refs: map[string]int{key: 0}},
		}
		for seed := int64(0); seed < 6; seed++ {
			text := btWrite(t, b, btFuncSample(schemas.MultiTurn, turns...), seed)
			var utts []string
			if err := json.Unmarshal([]byte(text), &utts); err != nil || len(utts) != len(turns) {
				t.Fatalf("%s seed %d: input is not a JSON array of %d strings (%v): %s", f.Name, seed, len(turns), err, text)
			}
			for i, u := range utts {
				what := fmt.Sprintf("%s turn %d seed %d", f.Name, i+1, seed)
				btCheckTurn(t, what, u, turns[i], map[string]any{key: id})
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d functions have a create function to refer to; the test covers too little", n)
	}
	// A multi_turn sample is a JSON array even with one turn, as the validator reads it.
	one := btWrite(t, b, btFuncSample(schemas.MultiTurn, generator.TurnPlan{Function: "clock_list_alarms"}), 1)
	var utts []string
	if err := json.Unmarshal([]byte(one), &utts); err != nil || len(utts) != 1 {
		t.Errorf("one-turn multi_turn input %q is not a JSON array of one string", one)
	}
}

func TestBuiltinFuncCallIrrelevant(t *testing.T) {
	b, cat := btTestTeacher(t)
	seen := map[string]bool{}
	for i, req := range cat.Irrelevant {
		for seed := int64(0); seed < 5; seed++ {
			s := btFuncSample(schemas.Irrelevant, generator.TurnPlan{Request: req})
			s.Cell.Key = "irrelevant"
			text := btWrite(t, b, s, seed+int64(i)*10)
			btCheckClean(t, req, text)
			seen[text] = true
		}
	}
	if len(seen) < 4*len(cat.Irrelevant) {
		t.Errorf("%d irrelevant requests x 5 seeds gave only %d distinct inputs", len(cat.Irrelevant), len(seen))
	}
}

func TestBuiltinFuncCallRefs(t *testing.T) {
	b, _ := btTestTeacher(t)
	plan := generator.TurnPlan{Function: "calendar_get_event", Refs: map[string]int{"event_id": 0}}
	s := btFuncSample(schemas.MultiTurn, generator.TurnPlan{Function: "calendar_create_event",
		Args: map[string]any{"title": "Budget review", "start": "2026-05-04T10:00:00Z"}}, plan)
	refs := 0
	for seed := int64(0); seed < 50; seed++ {
		var utts []string
		if err := json.Unmarshal([]byte(btWrite(t, b, s, seed)), &utts); err != nil {
			t.Fatal(err)
		}
		u := strings.ToLower(utts[1])
		btCheckClean(t, "ref", u)
		if strings.Contains(u, " it") || strings.Contains(u, "event") || strings.Contains(u, "the one") {
			refs++
		}
		if strings.Contains(u, "event event") || strings.Contains(u, "calendar_events") {
			t.Errorf("seed %d: bad reference: %q", seed, utts[1])
		}
	}
	// A typo may hit the reference ("the evnet i just made"): a few may miss.
	if refs < 45 {
		t.Errorf("only %d of 50 second turns refer to the event", refs)
	}
}

func TestBuiltinFuncCallVariety(t *testing.T) {
	b, _ := btTestTeacher(t)
	s := btFuncSample(schemas.SingleTurn, generator.TurnPlan{Function: "lights_set_brightness",
		Args: map[string]any{"room": "kitchen", "brightness": 40, "transition_seconds": 5}})
	seen := map[string]bool{}
	for seed := int64(0); seed < 200; seed++ {
		seen[btWrite(t, b, s, seed)] = true
	}
	if len(seen) < 150 {
		t.Errorf("200 seeds gave %d distinct inputs for one fixed call, want >= 150", len(seen))
	}
}
