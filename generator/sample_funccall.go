package generator

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"

	"github.com/cyclecore/mlmforge/generator/internal/callargs"
	"github.com/cyclecore/mlmforge/generator/lexicon"
	"github.com/cyclecore/mlmforge/schemas"
)

// sampleFuncCall samples an EdgeFuncCall target for the cell's scenario.
func (ts *targetSampler) sampleFuncCall(cell Cell, r *rand.Rand, src lexicon.Source) (Sample, error) {
	if cell.Scenario == schemas.Irrelevant {
		return ts.sampleIrrelevant(cell, r, src)
	}
	fi, ok := ts.funcs[cell.Function]
	if !ok {
		_, err := ts.cat.Function(cell.Function)
		if err == nil {
			err = fmt.Errorf("function %q is not prepared for sampling", cell.Function)
		}
		return Sample{}, fmt.Errorf("cell %q: %w", cell.Key, err)
	}
	if !ScenarioApplicable(ts.cat, cell.Function, cell.Scenario) {
		return Sample{}, fmt.Errorf("%w: %s for function %s", ErrScenarioNotApplicable, cell.Scenario, cell.Function)
	}
	var plans []TurnPlan
	var gold []GoldTurn
	var err error
	switch cell.Scenario {
	case schemas.SingleTurn:
		plans, gold, err = ts.sampleSingleTurn(fi, r, src)
	case schemas.MissingParam:
		plans, gold, err = ts.sampleMissingParam(fi, r, src)
	case schemas.InvalidValue:
		plans, gold, err = ts.sampleInvalidValue(fi, r, src)
	case schemas.MultiTurn:
		plans, gold, err = ts.sampleDialogue(fi, r, src)
	default:
		err = fmt.Errorf("unknown scenario %q", cell.Scenario)
	}
	if err != nil {
		return Sample{}, fmt.Errorf("cell %q: %w", cell.Key, err)
	}
	return funcCallSample(cell, plans, gold)
}

// funcCallSample assembles a sample from turn plans and gold turns.
func funcCallSample(cell Cell, plans []TurnPlan, gold []GoldTurn) (Sample, error) {
	b, err := json.Marshal(FuncCallTarget{Scenario: cell.Scenario, Turns: gold})
	if err != nil {
		return Sample{}, fmt.Errorf("cell %q: encode target: %w", cell.Key, err)
	}
	return Sample{Cell: cell, Target: b, Turns: plans}, nil
}

// sampleIrrelevant samples a request no function serves; in a held-out run,
// from the side's part of the catalog's irrelevant requests (they are the
// whole input, so they count as templates).
func (ts *targetSampler) sampleIrrelevant(cell Cell, r *rand.Rand, src lexicon.Source) (Sample, error) {
	if cell.Function != "" || len(ts.cat.Irrelevant) == 0 {
		return Sample{}, fmt.Errorf("%w: irrelevant cell %q (function %q, %d irrelevant requests)",
			ErrScenarioNotApplicable, cell.Key, cell.Function, len(ts.cat.Irrelevant))
	}
	req := src.Pick(r, lexicon.NSTemplate, "irrelevant-request", ts.cat.Irrelevant)
	return funcCallSample(cell, []TurnPlan{{Request: req}}, []GoldTurn{{Action: ActionNone}})
}

// sampleArgs draws valid arguments for fi (preset and force as in
// valueNode.sampleObject) and checks them against the compiled parameters.
func (ts *targetSampler) sampleArgs(fi *funcInfo, r *rand.Rand, src lexicon.Source, preset map[string]any, force map[string]bool) (map[string]any, error) {
	args, err := fi.params.sampleObject(r, src, preset, force)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fi.fn.Name, err)
	}
	if err := ts.checkArgs(fi, args); err != nil {
		return nil, fmt.Errorf("sampled arguments are invalid (a sampler bug): %w", err)
	}
	return args, nil
}

// checkArgs validates arguments against the function's compiled parameters.
func (ts *targetSampler) checkArgs(fi *funcInfo, args map[string]any) error {
	sch, err := ts.cat.CompiledParameters(fi.fn.Name)
	if err != nil {
		return err
	}
	if err := validateAgainst(sch, args); err != nil {
		return fmt.Errorf("%s: %w", fi.fn.Name, callargs.DescribeArgError(err))
	}
	return nil
}

func (ts *targetSampler) sampleSingleTurn(fi *funcInfo, r *rand.Rand, src lexicon.Source) ([]TurnPlan, []GoldTurn, error) {
	args, err := ts.sampleArgs(fi, r, src, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	plan := TurnPlan{Function: fi.fn.Name, Args: maps.Clone(args)}
	return []TurnPlan{plan}, []GoldTurn{{Action: ActionCall, Calls: []Call{{Name: fi.fn.Name, Arguments: args}}}}, nil
}

// sampleMissingParam leaves one required parameter out of otherwise valid
// arguments; the assistant must ask for it.
func (ts *targetSampler) sampleMissingParam(fi *funcInfo, r *rand.Rand, src lexicon.Source) ([]TurnPlan, []GoldTurn, error) {
	p := fi.required[r.IntN(len(fi.required))]
	args, err := ts.sampleArgs(fi, r, src, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	delete(args, p)
	plan := TurnPlan{Function: fi.fn.Name, Args: args, Omit: []string{p}}
	return []TurnPlan{plan}, []GoldTurn{{Action: ActionAsk, Missing: []string{p}}}, nil
}

// sampleInvalidValue states one constrained parameter with a value that
// breaks its schema; the assistant must ask for a valid one. The invalid
// arguments are checked to fail and the same arguments with the valid value
// to pass, so the label names the only problem.
func (ts *targetSampler) sampleInvalidValue(fi *funcInfo, r *rand.Rand, src lexicon.Source) ([]TurnPlan, []GoldTurn, error) {
	p := fi.breakable[r.IntN(len(fi.breakable))]
	node := fi.params.prop(p)
	var lastErr error
	for range 10 {
		args, err := ts.sampleArgs(fi, r, src, nil, map[string]bool{p: true})
		if err != nil {
			return nil, nil, err
		}
		bad, err := breakValue(node, r, src)
		if err != nil {
			return nil, nil, fmt.Errorf("%s.%s: %w", fi.fn.Name, p, err)
		}
		args[p] = bad
		if ts.checkArgs(fi, args) == nil {
			lastErr = fmt.Errorf("%s.%s: the invalid value %v passes the schema", fi.fn.Name, p, bad)
			continue
		}
		plan := TurnPlan{Function: fi.fn.Name, Args: args, Invalid: p}
		return []TurnPlan{plan}, []GoldTurn{{Action: ActionAsk, Invalid: []string{p}}}, nil
	}
	return nil, nil, lastErr
}

// breakableFormats are the string formats breakValue can violate with a
// value a user might state.
var breakableFormats = map[string]bool{"date": true, "date-time": true, "time": true, "email": true, "phone": true}

// breakable reports whether a user can state a value that breaks n: a string
// enum, a bounded number, a date/time/email/phone format or a pattern.
func breakable(n *valueNode) bool {
	if len(n.enum) > 0 {
		return enumStrings(n.enum) != nil
	}
	switch n.typ {
	case "integer", "number":
		return n.hasMin && n.hasMax
	case "string":
		return n.pattern != "" || breakableFormats[n.format]
	}
	return false
}

// enumStrings returns a string enum's values, or nil when some are not strings.
func enumStrings(enum []any) []string {
	out := make([]string, len(enum))
	for i, v := range enum {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		out[i] = s
	}
	return out
}

// breakValue returns a plausible value that n rejects: a near-miss enum
// member, a number just out of range, an impossible date, a malformed email
// or phone, a string one character off its pattern.
func breakValue(n *valueNode, r *rand.Rand, src lexicon.Source) (any, error) {
	if len(n.enum) > 0 {
		return src.NearMiss(enumStrings(n.enum), r)
	}
	switch n.typ {
	case "integer":
		lo, hi := n.intBounds()
		if lo > 0 && r.IntN(5) < 2 {
			return lo - 1 - r.IntN(max(1, lo/2)), nil
		}
		return hi + 1 + r.IntN(max(1, (hi-lo)/2)), nil
	case "number":
		span := max(n.max-n.min, 1)
		if n.min > 0 && r.IntN(5) < 2 {
			return decimalIn(r, n.min/2, n.min-0.01, 1), nil
		}
		return decimalIn(r, n.max+0.1, n.max+span/2+0.1, 1), nil
	}
	if n.pattern != "" {
		return src.PatternMismatch(n.pattern, r)
	}
	switch n.format {
	case "date":
		return lexicon.ImpossibleDate(r), nil
	case "date-time":
		t, _ := src.FormatValue("time", r)
		return lexicon.ImpossibleDate(r) + "T" + t + ":00Z", nil
	case "time":
		return lexicon.ImpossibleTime(r), nil
	case "email":
		e, err := src.FormatValue("email", r)
		return strings.Replace(e, "@", ".", 1), err
	case "phone":
		return fmt.Sprintf("555-%03d", r.IntN(1000)), nil
	}
	return nil, fmt.Errorf("parameter %q has no constraint to break", n.name)
}
