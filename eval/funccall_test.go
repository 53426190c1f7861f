package eval

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/internal/testutil/records"
	"github.com/cyclecore/mlmforge/schemas"
)

func funcRecord(t *testing.T, scenario schemas.Scenario) (datasets.Record, generator.FuncCallTarget) {
	t.Helper()
	recs := records.Builtin(t, schemas.EdgeFuncCall, "20", 300)
	var ft generator.FuncCallTarget
	// Every call must have at least two arguments, so one can be changed
	// and parameter F1 stays between 0 and 1.
	rec := firstRecord(t, recs, func(r datasets.Record) bool {
		ft = generator.FuncCallTarget{}
		if r.Scenario != string(scenario) || json.Unmarshal([]byte(r.Target), &ft) != nil {
			return false
		}
		for _, tn := range ft.Turns {
			for _, c := range tn.Calls {
				if len(c.Arguments) < 2 {
					return false
				}
			}
		}
		return true
	})
	return rec, ft
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// changedArgs returns a copy of the call with one argument's value replaced.
func changedArgs(c generator.Call) generator.Call {
	args := map[string]any{}
	for k, v := range c.Arguments {
		args[k] = v
	}
	k := sortedKeys(args)[0]
	args[k] = "definitely-wrong-value"
	return generator.Call{Name: c.Name, Arguments: args}
}

type funcCase struct {
	name    string
	pred    Prediction
	correct bool
	check   func(t *testing.T, m *FuncCallMetrics)
}

func runFuncCases(t *testing.T, rec datasets.Record, cases []funcCase) {
	t.Helper()
	s := testScorer(t)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			tt.pred.ID = rec.ID
			rep, err := s.Score([]datasets.Record{rec}, []Prediction{tt.pred})
			if err != nil {
				t.Fatal(err)
			}
			ex := rep.Examples[0]
			if ex.Correct != tt.correct {
				t.Errorf("correct = %v, want %v (parsed %s, error %q)", ex.Correct, tt.correct, ex.Parsed, ex.ParseError)
			}
			if ex.Raw != tt.pred.Raw {
				t.Error("raw output not kept")
			}
			if tt.check != nil {
				tt.check(t, rep.EdgeFuncCall)
			}
		})
	}
}

func TestFuncCallSingleTurn(t *testing.T) {
	rec, ft := funcRecord(t, schemas.SingleTurn)
	g := ft.Turns[0].Calls[0]
	other := "calendar_create_event"
	if g.Name == other {
		other = "lights_turn_on"
	}
	callsOK := func(t *testing.T, m *FuncCallMetrics) {
		if m.FunctionExact != 1 || m.CallExact != 1 || m.ParamF1 != 1 || m.AST != 1 {
			t.Errorf("metrics %+v", m)
		}
	}
	argsJSON := mustJSON(t, g.Arguments)
	runFuncCases(t, rec, []funcCase{
		{"gold turn object", Prediction{Raw: mustJSON(t, ft.Turns[0])}, true, callsOK},
		{"bare call", Prediction{Raw: mustJSON(t, g)}, true, callsOK},
		{"array of calls in a fence", Prediction{Raw: "```json\n" + mustJSON(t, []generator.Call{g}) + "\n```"}, true, callsOK},
		{"openai tool call with string arguments", Prediction{Raw: fmt.Sprintf(`{"tool_calls":[{"function":{"name":%q,"arguments":%q}}]}`, g.Name, argsJSON)}, true, callsOK},
		{"one argument wrong", Prediction{Raw: mustJSON(t, changedArgs(g))}, false, func(t *testing.T, m *FuncCallMetrics) {
			if m.FunctionExact != 1 || m.CallExact != 0 || m.AST != 0 || m.ParamF1 >= 1 || (len(g.Arguments) > 1 && m.ParamF1 == 0) {
				t.Errorf("metrics %+v", m)
			}
		}},
		{"wrong function", Prediction{Raw: fmt.Sprintf(`{"name":%q,"arguments":%s}`, other, argsJSON)}, false, func(t *testing.T, m *FuncCallMetrics) {
			if m.FunctionExact != 0 || m.CallExact != 0 || m.AST != 0 || m.ParamF1 != 0 {
				t.Errorf("metrics %+v", m)
			}
		}},
		{"two calls", Prediction{Raw: mustJSON(t, []generator.Call{g, g})}, false, nil},
		{"plain text instead of a call", Prediction{Raw: "Sure, I will do that."}, false, nil},
		{"truncated", Prediction{Raw: mustJSON(t, g)[:20], Truncated: true}, false, func(t *testing.T, m *FuncCallMetrics) {
			if m.ParseFailures != 1 || m.CallTurns != 1 || m.FunctionExact != 0 {
				t.Errorf("metrics %+v", m)
			}
		}},
		{"name of the wrong type", Prediction{Raw: `{"name": 5, "arguments": {}}`}, false, func(t *testing.T, m *FuncCallMetrics) {
			if m.ParseFailures != 1 {
				t.Errorf("metrics %+v", m)
			}
		}},
		{"arguments of the wrong type", Prediction{Raw: fmt.Sprintf(`{"name": %q, "arguments": [1]}`, g.Name)}, false, nil},
		{"unknown action", Prediction{Raw: `{"action": "dance"}`}, false, nil},
	})
}

func TestFuncCallErrorRecovery(t *testing.T) {
	miss, mft := funcRecord(t, schemas.MissingParam)
	p := mft.Turns[0].Missing[0]
	rate := func(get func(ErrorRecovery) Rate, want Rate) func(t *testing.T, m *FuncCallMetrics) {
		return func(t *testing.T, m *FuncCallMetrics) {
			want.Rate = ratio(float64(want.Correct), want.Total)
			if got := get(m.ErrorRecovery); got != want {
				t.Errorf("rate %+v, want %+v", got, want)
			}
		}
	}
	askMissing := func(e ErrorRecovery) Rate { return e.AskMissing }
	abstain := func(e ErrorRecovery) Rate { return e.Abstain }
	runFuncCases(t, miss, []funcCase{
		{"structured ask", Prediction{Raw: fmt.Sprintf(`{"action":"ask","missing":[%q]}`, p)}, true, rate(askMissing, Rate{Correct: 1, Total: 1})},
		{"question naming the parameter", Prediction{Raw: "Sure - what " + strings.ReplaceAll(strings.ToUpper(p), "_", " ") + " should I use?"}, true, rate(askMissing, Rate{Correct: 1, Total: 1})},
		{"vague question", Prediction{Raw: "Can you tell me more?"}, false, rate(abstain, Rate{Correct: 1, Total: 1})},
		{"guesses a call", Prediction{Raw: fmt.Sprintf(`{"name":%q,"arguments":{}}`, miss.Function)}, false, rate(abstain, Rate{Correct: 0, Total: 1})},
	})
	inv, ift := funcRecord(t, schemas.InvalidValue)
	q := ift.Turns[0].Invalid[0]
	askInvalid := func(e ErrorRecovery) Rate { return e.AskInvalid }
	runFuncCases(t, inv, []funcCase{
		{"flags the invalid value", Prediction{Raw: fmt.Sprintf(`{"action":"ask","invalid":[%q],"message":"That value is not allowed."}`, q)}, true, rate(askInvalid, Rate{Correct: 1, Total: 1})},
		{"asks about another parameter", Prediction{Raw: `{"action":"ask","invalid":["zzz"]}`}, false, rate(askInvalid, Rate{Correct: 0, Total: 1})},
	})
	irr, _ := funcRecord(t, schemas.Irrelevant)
	noCall := func(e ErrorRecovery) Rate { return e.NoCallIrrelevant }
	runFuncCases(t, irr, []funcCase{
		{"declines", Prediction{Raw: "Sorry, I can't help with that."}, true, rate(noCall, Rate{Correct: 1, Total: 1})},
		{"empty output is no call", Prediction{Raw: ""}, true, rate(noCall, Rate{Correct: 1, Total: 1})},
		{"empty call list", Prediction{Raw: "[]"}, true, nil},
		{"calls anyway", Prediction{Raw: `{"name":"lights_turn_on","arguments":{"room":"kitchen"}}`}, false, rate(noCall, Rate{Correct: 0, Total: 1})},
	})
	// A dialogue where the user supplies the missing value in turn 2.
	_, sft := funcRecord(t, schemas.SingleTurn)
	g := sft.Turns[0].Calls[0]
	target := generator.FuncCallTarget{Scenario: schemas.MissingParam, Turns: []generator.GoldTurn{
		{Action: generator.ActionAsk, Missing: []string{"x"}}, {Action: generator.ActionCall, Calls: []generator.Call{g}}}}
	rec := datasets.Record{ID: "recover", Task: "edgefunccall", Target: mustJSON(t, target), Scenario: "missing_param"}
	after := func(e ErrorRecovery) Rate { return e.RecoverAfterAsk }
	runFuncCases(t, rec, []funcCase{
		{"asks, then calls right", Prediction{TurnOutputs: []string{"What x do you want?", mustJSON(t, g)}}, true, rate(after, Rate{Correct: 1, Total: 1})},
		{"asks, then calls wrong", Prediction{TurnOutputs: []string{"What x do you want?", mustJSON(t, changedArgs(g))}}, false, rate(after, Rate{Correct: 0, Total: 1})},
		{"second turn missing", Prediction{TurnOutputs: []string{"What x do you want?"}}, false, rate(after, Rate{Correct: 0, Total: 1})},
	})
}

func TestFuncCallMultiTurn(t *testing.T) {
	rec, ft := funcRecord(t, schemas.MultiTurn)
	perTurn := make([]string, len(ft.Turns))
	for i, tn := range ft.Turns {
		perTurn[i] = mustJSON(t, tn.Calls)
	}
	wrongFirst := append([]string(nil), perTurn...)
	wrongFirst[0] = mustJSON(t, changedArgs(ft.Turns[0].Calls[0]))
	success := func(want bool) func(t *testing.T, m *FuncCallMetrics) {
		return func(t *testing.T, m *FuncCallMetrics) {
			if (m.MultiTurnSuccess.Rate == 1) != want || m.MultiTurnSuccess.Total != 1 {
				t.Errorf("multi-turn success %+v, want %v", m.MultiTurnSuccess, want)
			}
		}
	}
	runFuncCases(t, rec, []funcCase{
		{"whole dialogue at once", Prediction{Raw: rec.Target}, true, success(true)},
		{"interactive turns", Prediction{TurnOutputs: perTurn}, true, success(true)},
		{"last turn missing", Prediction{TurnOutputs: perTurn[:len(perTurn)-1]}, false, success(false)},
		{"first call wrong", Prediction{TurnOutputs: wrongFirst}, false, success(false)},
		{"a turn holding a whole dialogue", Prediction{TurnOutputs: []string{rec.Target}}, false, success(false)},
		{"garbage", Prediction{Raw: "[[[{"}, false, func(t *testing.T, m *FuncCallMetrics) {
			if m.MultiTurnState.Rate != 0 || m.ParseFailures != 1 {
				t.Errorf("metrics %+v", m)
			}
		}},
	})
}
