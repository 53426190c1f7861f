package eval

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// execute runs a multi_turn prediction against the catalog's stateful mock
// from an empty world, as BFCL's multi-turn checker runs its simulators. The
// dialogue succeeds when it has the gold number of turns; each call turn
// calls the gold functions, every call executes, and the turn's results
// equal the gold calls' results (as multisets); each non-call turn is right
// (turnRight); and the final state equals the gold's. state reports the
// final-state comparison alone. An error means the gold itself does not execute.
func (s *funcScorer) execute(turns []Turn, gold generator.FuncCallTarget) (success, state bool, err error) {
	goldState, goldResults, err := generator.ExecuteTarget(s.cat, gold)
	if err != nil {
		return false, false, fmt.Errorf("gold calls do not execute: %w", err)
	}
	want := json.RawMessage(gold.FinalState)
	if len(want) == 0 {
		want = goldState
	}
	ok := len(turns) == len(gold.Turns)
	w := generator.NewWorld()
	for i, t := range turns {
		var results []string
		for _, c := range t.Calls {
			r, err := w.Execute(s.cat, c)
			if err != nil {
				ok = false
				continue
			}
			results = append(results, canonicalRaw(r))
		}
		if i >= len(gold.Turns) {
			continue
		}
		gt := gold.Turns[i]
		if gt.Action != generator.ActionCall {
			ok = ok && turnRight(&t, gt)
			continue
		}
		wantResults := make([]string, len(goldResults[i]))
		for j, r := range goldResults[i] {
			wantResults[j] = canonicalRaw(r)
		}
		slices.Sort(results)
		slices.Sort(wantResults)
		ok = ok && sameNames(t.Calls, gt.Calls) && slices.Equal(results, wantResults)
	}
	state = generator.SameJSON(w.State(), want)
	return ok && state, state, nil
}

// canonicalRaw is the canonical text of a JSON document (itself if it does
// not parse, which the mock's own output always does).
func canonicalRaw(r json.RawMessage) string {
	v, err := decodeJSON(string(r))
	if err != nil {
		return string(r)
	}
	return canonical(v, false)
}

// checkAST runs the BFCL AST checker on one call turn of our own data: the
// gold calls become possible answers with a single acceptable value per
// given parameter (so an optional parameter the gold leaves out must stay
// out), the catalog's functions become BFCL docs, and one gold call is
// checked as "simple", several as "parallel".
func (s *funcScorer) checkAST(pred, gold []generator.Call) ASTResult {
	answers := make([]BFCLAnswer, 0, len(gold))
	var funcs []BFCLFunction
	for _, g := range gold {
		doc, ok := s.docs[g.Name]
		if !ok {
			return astFail("simple_function_checker:no_description", "gold function %q is not in the catalog", g.Name)
		}
		funcs = append(funcs, doc)
		params := make(map[string][]any, len(g.Arguments))
		for k, v := range g.Arguments {
			params[k] = acceptable(v, doc.Parameters.Properties[k])
		}
		answers = append(answers, BFCLAnswer{g.Name: params})
	}
	out := make([]BFCLCall, len(pred))
	for i, c := range pred {
		out[i] = BFCLCall{Name: c.Name, Args: c.Arguments}
	}
	category := "simple"
	if len(gold) > 1 {
		category = "parallel"
	}
	return CheckAST(category, funcs, out, answers)
}

// acceptable turns a gold value into BFCL's list of acceptable values,
// with dicts (and lists of dicts) in possible-answer form ({key: [value]}).
func acceptable(v any, pd *BFCLParam) []any {
	if pd == nil {
		return []any{v}
	}
	switch x := v.(type) {
	case map[string]any:
		if pd.Type == "dict" {
			return []any{dictAnswer(x)}
		}
	case []any:
		if pd.Type == "array" && pd.Items != nil && pd.Items.Type == "dict" {
			items := make([]any, len(x))
			for i, e := range x {
				if m, ok := e.(map[string]any); ok {
					items[i] = dictAnswer(m)
				} else {
					items[i] = e
				}
			}
			return []any{items}
		}
	}
	return []any{v}
}

func dictAnswer(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = []any{v}
	}
	return out
}

// BFCLFromCatalog converts a catalog function to a BFCL function doc: JSON
// Schema "object" becomes "dict" and "number" becomes "float"; a typeless
// enum takes the type of its first value.
func BFCLFromCatalog(f *schemas.Function) (BFCLFunction, error) {
	var m map[string]any
	if err := json.Unmarshal(f.Parameters, &m); err != nil {
		return BFCLFunction{}, fmt.Errorf("function %s: field parameters: %w", f.Name, err)
	}
	return BFCLFunction{Name: f.Name, Description: f.Description, Parameters: *bfclParam(m)}, nil
}

func bfclParam(m map[string]any) *BFCLParam {
	p := &BFCLParam{}
	p.Type, _ = m["type"].(string)
	p.Description, _ = m["description"].(string)
	p.Enum, _ = m["enum"].([]any)
	if p.Type == "" && len(p.Enum) > 0 {
		p.Type = map[string]string{"str": "string", "int": "integer", "float": "float", "bool": "boolean"}[pyType(toPy(p.Enum[0]))]
	}
	switch p.Type {
	case "object":
		p.Type = "dict"
	case "number":
		p.Type = "float"
	}
	if props, ok := m["properties"].(map[string]any); ok {
		p.Properties = map[string]*BFCLParam{}
		for k, v := range props {
			if pm, ok := v.(map[string]any); ok {
				p.Properties[k] = bfclParam(pm)
			}
		}
	}
	if req, ok := m["required"].([]any); ok {
		for _, r := range req {
			if s, ok := r.(string); ok {
				p.Required = append(p.Required, s)
			}
		}
	}
	if items, ok := m["items"].(map[string]any); ok {
		p.Items = bfclParam(items)
	}
	return p
}

func (s *funcScorer) metrics() *FuncCallMetrics {
	m := &FuncCallMetrics{N: s.n, ParseFailures: s.parseFail, CallTurns: s.callTurns,
		FunctionExact: ratio(s.fexact, s.callTurns), CallExact: ratio(s.cexact, s.callTurns),
		ParamPrecision: ratio(s.pp, s.callTurns), ParamRecall: ratio(s.pr, s.callTurns), ParamF1: ratio(s.pf, s.callTurns),
		AST: ratio(s.ast, s.callTurns), TurnAccuracy: s.turns.Rate, ExampleAccuracy: s.examples.Rate,
		ErrorRecovery: s.rec, MultiTurnSuccess: s.multi, MultiTurnState: s.state, ByScenario: map[string]ScenarioScores{}}
	for sc, r := range s.byScenario {
		m.ByScenario[sc] = ScenarioScores{N: r.Total, Accuracy: r.Rate}
	}
	m.BFCL = s.bfclAcc.metrics()
	return m
}
