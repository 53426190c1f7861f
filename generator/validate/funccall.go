package validate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/internal/callargs"
	"github.com/cyclecore/mlmforge/schemas"
)

// checkFuncCall validates an EdgeFuncCall example: every gold call against
// its function, the scenario's shape, the input (one JSON string per turn for
// multi_turn), the gold calls against the mock, and each turn's stated
// arguments against that turn's text.
func (v *Validator) checkFuncCall(s generator.Sample, input string, target json.RawMessage, val generator.Validation) (generator.Validation, *generator.Rejection) {
	var ft generator.FuncCallTarget
	if err := decodeStrictJSON(target, &ft); err != nil {
		return val, rejectf(generator.RejectSchema, "target is not a function-calling label: %v", err)
	}
	calls := 0
	for i, turn := range ft.Turns {
		for j, c := range turn.Calls {
			calls++
			sch, err := v.cat.CompiledParameters(c.Name)
			if err != nil {
				return val, rejectf(generator.RejectSchema, "turn %d call %d: %v", i+1, j+1, err)
			}
			args, err := callargs.Canonical(c.Arguments)
			if err == nil {
				err = sch.Validate(args)
			}
			if err != nil {
				return val, rejectf(generator.RejectSchema, "turn %d call %d %s: %v", i+1, j+1, c.Name, callargs.DescribeArgError(err))
			}
		}
	}
	val.Checks = append(val.Checks, "schema")
	if rej := v.checkScenario(s, ft); rej != nil {
		return val, rej
	}
	val.Checks = append(val.Checks, "label")
	texts, rej := v.turnTexts(s, input, len(ft.Turns), &val)
	if rej != nil {
		return val, rej
	}
	if calls > 0 {
		state, _, err := generator.ExecuteTarget(v.cat, ft)
		if err != nil {
			return val, rejectf(generator.RejectMockExecution, "%v", err)
		}
		if len(ft.FinalState) > 0 && !generator.SameJSON(ft.FinalState, state) {
			return val, rejectf(generator.RejectMockExecution, "final_state %.200s differs from the executed state %.200s", ft.FinalState, state)
		}
		val.Checks = append(val.Checks, "mock_execution")
	}
	if v.cfg.CheckGrounding {
		if rej := v.groundFuncCall(s, ft, texts, &val); rej != nil {
			return val, rej
		}
		val.Checks = append(val.Checks, "grounding")
	}
	return val, nil
}

// checkScenario checks the target's shape against the cell's scenario:
// single_turn and multi_turn call the cell's function, missing_param and
// invalid_value ask about real parameters of it, irrelevant makes no call.
func (v *Validator) checkScenario(s generator.Sample, ft generator.FuncCallTarget) *generator.Rejection {
	c := s.Cell
	if ft.Scenario != c.Scenario {
		return rejectf(generator.RejectLabel, "target scenario %q is not the cell's %q", ft.Scenario, c.Scenario)
	}
	n := len(ft.Turns)
	if (c.Scenario == schemas.MultiTurn && (n < 2 || n > 3)) || (c.Scenario != schemas.MultiTurn && n != 1) {
		return rejectf(generator.RejectLabel, "scenario %s cannot have %d turns", c.Scenario, n)
	}
	if len(s.Turns) > 0 && len(s.Turns) != n {
		return rejectf(generator.RejectLabel, "sample has %d turn plans for %d gold turns", len(s.Turns), n)
	}
	called := false
	for i, t := range ft.Turns {
		fn := c.Function
		if i < len(s.Turns) && s.Turns[i].Function != "" {
			fn = s.Turns[i].Function
		}
		if rej := v.checkTurnShape(i, t, fn); rej != nil {
			return rej
		}
		called = called || slices.ContainsFunc(t.Calls, func(call generator.Call) bool { return call.Name == c.Function })
	}
	t := ft.Turns[0]
	want := map[schemas.Scenario]string{schemas.SingleTurn: generator.ActionCall, schemas.MissingParam: generator.ActionAsk,
		schemas.InvalidValue: generator.ActionAsk, schemas.Irrelevant: generator.ActionNone}
	switch c.Scenario {
	case schemas.SingleTurn, schemas.MultiTurn:
		if !called {
			return rejectf(generator.RejectLabel, "no gold call of the cell's function %q", c.Function)
		}
		for i, t := range ft.Turns {
			if t.Action == generator.ActionNone {
				return rejectf(generator.RejectLabel, "turn %d of a %s dialogue makes no call and asks nothing", i+1, c.Scenario)
			}
		}
	case schemas.MissingParam:
		if len(t.Missing) == 0 || len(t.Invalid) > 0 {
			return rejectf(generator.RejectLabel, "missing_param must ask for missing parameters only (missing %v, invalid %v)", t.Missing, t.Invalid)
		}
		if len(s.Turns) == 1 && s.Turns[0].Omit != nil && !sameSet(s.Turns[0].Omit, t.Missing) {
			return rejectf(generator.RejectLabel, "gold asks for %v but the user omits %v", t.Missing, s.Turns[0].Omit)
		}
	case schemas.InvalidValue:
		if len(t.Invalid) == 0 {
			return rejectf(generator.RejectLabel, "invalid_value must name the invalid parameters")
		}
		if len(s.Turns) == 1 && s.Turns[0].Invalid != "" {
			p := s.Turns[0]
			if !slices.Contains(t.Invalid, p.Invalid) {
				return rejectf(generator.RejectLabel, "gold names invalid %v but the user's invalid value is %q", t.Invalid, p.Invalid)
			}
			if _, ok := p.Args[p.Invalid]; !ok {
				return rejectf(generator.RejectLabel, "the turn plan has no value for the invalid parameter %q", p.Invalid)
			}
		}
	case schemas.Irrelevant:
		if c.Function != "" {
			return rejectf(generator.RejectLabel, "irrelevant cell %q names function %q", c.Key, c.Function)
		}
	default:
		return rejectf(generator.RejectLabel, "unknown scenario %q", c.Scenario)
	}
	if w, ok := want[c.Scenario]; ok && t.Action != w {
		return rejectf(generator.RejectLabel, "scenario %s wants action %q, target has %q", c.Scenario, w, t.Action)
	}
	return nil
}

// checkTurnShape checks one gold turn: a known action with what it needs,
// and asks that name parameters of fn (missing ones must be required).
func (v *Validator) checkTurnShape(i int, t generator.GoldTurn, fn string) *generator.Rejection {
	asks := len(t.Missing) + len(t.Invalid)
	switch t.Action {
	case generator.ActionCall:
		if len(t.Calls) == 0 || asks > 0 {
			return rejectf(generator.RejectLabel, "turn %d: action call needs calls and no missing/invalid", i+1)
		}
	case generator.ActionNone:
		if len(t.Calls) > 0 || asks > 0 {
			return rejectf(generator.RejectLabel, "turn %d: action none has calls or asks", i+1)
		}
	case generator.ActionAsk:
		if len(t.Calls) > 0 || asks == 0 {
			return rejectf(generator.RejectLabel, "turn %d: action ask needs missing or invalid parameters and no calls", i+1)
		}
		fp, ok := v.params[fn]
		if !ok {
			return rejectf(generator.RejectLabel, "turn %d asks about unknown function %q", i+1, fn)
		}
		for _, m := range t.Missing {
			if !fp.required[m] {
				return rejectf(generator.RejectLabel, "turn %d: missing %q is not a required parameter of %s", i+1, m, fn)
			}
		}
		for _, p := range t.Invalid {
			if !fp.props[p] {
				return rejectf(generator.RejectLabel, "turn %d: invalid %q is not a parameter of %s", i+1, p, fn)
			}
		}
	default:
		return rejectf(generator.RejectLabel, "turn %d: unknown action %q", i+1, t.Action)
	}
	return nil
}

// turnTexts checks the input and returns the text of each turn: the input
// itself, or for multi_turn the utterances of its JSON array, one per turn.
func (v *Validator) turnTexts(s generator.Sample, input string, turns int, val *generator.Validation) ([]string, *generator.Rejection) {
	if s.Cell.Scenario != schemas.MultiTurn {
		return []string{input}, v.checkInput(input, val)
	}
	if len(input) > 4*v.cfg.MaxInputChars {
		return nil, v.checkLength(input) // do not parse a huge input
	}
	var utts []string
	if err := json.Unmarshal([]byte(input), &utts); err != nil {
		return nil, rejectf(generator.RejectJSONParse, "multi_turn input must be a JSON array of %d strings: %v", turns, err)
	}
	if len(utts) != turns {
		return nil, rejectf(generator.RejectJSONParse, "multi_turn input has %d utterances for %d turns", len(utts), turns)
	}
	for i, u := range utts {
		if strings.TrimSpace(u) == "" {
			return nil, rejectf(generator.RejectJSONParse, "multi_turn utterance %d is empty", i+1)
		}
	}
	val.Checks = append(val.Checks, "turns")
	return utts, v.checkInput(strings.Join(utts, "\n"), val)
}

// groundFuncCall grounds each turn's stated arguments in that turn's text.
// With turn plans (label-first) the stated arguments are the plan's Args,
// less the Refs the user says "it" for; the invalid value of invalid_value
// must be stated too. Without plans (teacher-labels) they are the gold
// calls' arguments, less mock ids. Omitted parameters are not checked for
// absence: a paraphrase can state a value in ways no normalizer reads.
func (v *Validator) groundFuncCall(s generator.Sample, ft generator.FuncCallTarget, texts []string, val *generator.Validation) *generator.Rejection {
	for i := range ft.Turns {
		g := newGroundText(texts[i])
		where := "input"
		if len(texts) > 1 {
			where = fmt.Sprintf("turn %d", i+1)
		}
		var leaves []Leaf
		if len(s.Turns) == len(ft.Turns) {
			p := s.Turns[i]
			for _, name := range slices.Sorted(maps.Keys(p.Args)) {
				if _, ref := p.Refs[name]; ref {
					continue
				}
				leaves = append(leaves, prefixLeaves(fmt.Sprintf("$.turns[%d].args.%s", i, name), p.Args[name])...)
			}
			if rej := groundLeaves(g, leaves, where, val); rej != nil {
				if p.Invalid != "" && strings.HasPrefix(rej.Detail, fmt.Sprintf("$.turns[%d].args.%s", i, p.Invalid)) {
					rej.Detail = "invalid value " + rej.Detail
				}
				return rej
			}
			continue
		}
		for j, c := range ft.Turns[i].Calls {
			for _, name := range slices.Sorted(maps.Keys(c.Arguments)) {
				if callargs.MockIDCollection(v.cat, c.Arguments[name]) != "" {
					continue
				}
				leaves = append(leaves, prefixLeaves(fmt.Sprintf("$.turns[%d].calls[%d].arguments.%s", i, j, name), c.Arguments[name])...)
			}
		}
		if rej := groundLeaves(g, leaves, where, val); rej != nil {
			return rej
		}
	}
	return nil
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}
