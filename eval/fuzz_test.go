package eval

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/internal/testutil/records"
	"github.com/cyclecore/mlmforge/schemas"
)

// FuzzParseOutput feeds arbitrary model output to the function-call answer
// parser. It must not panic, every turn it returns has an action, and the
// turns it returns, written in the gold target's shape ({"turns": [...]}),
// parse back to the same turns.
func FuzzParseOutput(f *testing.F) {
	for _, s := range hostileOutputs()[:14] {
		f.Add(s)
	}
	for _, s := range []string{
		`[{"name": "lights_turn_on", "arguments": {"room": "kitchen", "level": 3}}]`,
		`{"action": "ask", "missing": ["room"], "message": "Which room?"}`,
		`{"turns": [{"action": "call", "calls": [{"function": {"name": "f", "arguments": "{\"a\": 1.50}"}}]}, {"action": "none"}]}`,
		`{"tool_calls": [{"name": "f", "parameters": {"x": [1, 2, {"y": null}]}}]}`,
		"```json\n[{\"name\": \"f\", \"args\": {}}]\n```",
		`[f(a=1, b='x', c=[1.5, -2e3], d={'k': True, 'n': None}), g()]`,
		`math.factorial(n=5)`,
		`f(a="unterminated`,
		`[{}]`, `[]`, `Which room do you mean?`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		turns, err := parseOutput(raw)
		if err != nil {
			if turns != nil {
				t.Fatalf("turns %+v with error %v", turns, err)
			}
			return
		}
		if len(turns) == 0 && !strings.Contains(raw, "turns") {
			t.Fatalf("no turn and no error for %q", raw)
		}
		for i, tn := range turns {
			if tn.Action == "" {
				t.Fatalf("turn %d has no action: %+v", i, tn)
			}
		}
		b, err := json.Marshal(map[string]any{"turns": turns})
		if err != nil {
			t.Fatalf("marshal parsed turns: %v", err)
		}
		// Invalid UTF-8 in the output becomes U+FFFD in the first write, so
		// the turns are compared from the first re-parse on.
		back, err := parseOutput(string(b))
		if err != nil {
			t.Fatalf("re-parse of %.300s: %v", b, err)
		}
		b2, _ := json.Marshal(map[string]any{"turns": back})
		back2, err := parseOutput(string(b2))
		if err != nil {
			t.Fatalf("re-parse of %.300s: %v", b2, err)
		}
		b3, _ := json.Marshal(map[string]any{"turns": back2})
		if string(b2) != string(b3) || (utf8.ValidString(raw) && string(b) != string(b2)) {
			t.Fatalf("turns not stable:\n%.300s\n%.300s\n%.300s", b, b2, b3)
		}
	})
}

// FuzzCheckAST runs the BFCL AST checker on arbitrary function docs, gold
// answers and outputs. It must not panic, a rejection says why, and the gold
// calls GoldCalls builds from well-typed answers pass.
func FuzzCheckAST(f *testing.F) {
	f.Add(strings.ReplaceAll(strings.TrimSpace(astDocs[1:len(astDocs)-1]), "\n", ""), astGold,
		`[{"name": "geo.area", "arguments": {"base": 10, "height": 5, "opts": {"mode": "fast"}}}]`, uint8(0))
	f.Add(`{"name": "calc.area", "parameters": {"type": "dict", "properties": {"base": {"type": "integer"}, "unit": {"type": "string"}}, "required": ["base", "unit"]}}`,
		`{"calc.area": {"base": [3], "unit": [""]}}`, `calc.area(base=3, unit="")`, uint8(1))
	f.Add(`{"name": "f", "parameters": {"type": "dict", "properties": {"x": {"type": "tuple", "items": {"type": "float"}}, "y": {"type": "any"}}}}`,
		`{"f": {"x": [[1.0, 2]], "y": [null, ""]}}`+"\n"+`{"f": {"x": [[3.5]]}}`, `[f(x=(1.0, 2)), f(x=[3.5])]`, uint8(2))
	cats := []string{"simple", "multiple", "parallel", "parallel_multiple", "irrelevance", "java", "javascript"}
	f.Fuzz(func(t *testing.T, docs, gold, output string, cat uint8) {
		funcs, err := ReadBFCLFunctions(strings.NewReader(docs))
		if err != nil {
			return
		}
		golds, err := ReadBFCLGold(strings.NewReader("{\"ground_truth\": [" + strings.ReplaceAll(strings.TrimSpace(gold), "\n", ",") + "]}"))
		if err != nil || len(golds) != 1 {
			return
		}
		answers := golds[0].GroundTruth
		category := cats[int(cat)%len(cats)]
		var calls []BFCLCall
		if turns, err := parseOutput(output); err == nil && len(turns) > 0 {
			for _, c := range turns[0].Calls {
				calls = append(calls, BFCLCall{Name: c.Name, Args: c.Arguments})
			}
		}
		r := CheckAST(category, funcs, calls, answers)
		if !r.Valid && r.ErrorType == "" {
			t.Fatalf("rejected without an error type: %+v", r)
		}
		gc := GoldCalls(funcs, answers)
		if len(gc) != len(answers) {
			t.Fatalf("GoldCalls made %d calls of %d answers", len(gc), len(answers))
		}
		_ = CheckAST(category, funcs, gc, answers)
	})
}

// FuzzScore scores arbitrary output against one record of each task (and
// each function-calling scenario). Scoring must not fail or panic on any
// output, every metric is a finite number in [0, 1], and a record's own
// target still scores correct.
func FuzzScore(f *testing.F) {
	for _, s := range hostileOutputs()[:14] {
		f.Add(s, false)
	}
	f.Add(`{"intent": "set_timer"}`, false)
	f.Add(`{"order_id": 1, "customer": "Zoë", "items": [{"name": "x", "qty": 2}]}`, true)
	f.Add(`[lights_turn_on(room="kitchen")]`, true)
	// Built before fuzzing: in a worker's first call it takes longer than
	// the fuzzer waits for a call on a busy machine.
	s := testScorer(f)
	recs := append([]datasets.Record{}, records.Builtin(f, schemas.EdgeJSON, "", 120)[:2]...)
	recs = append(recs, records.Builtin(f, schemas.EdgeIntent, "50", 250)[:2]...)
	fc := records.Builtin(f, schemas.EdgeFuncCall, "20", 300)
	for _, sc := range []schemas.Scenario{schemas.SingleTurn, schemas.MultiTurn, schemas.MissingParam} {
		recs = append(recs, firstRecord(f, fc, func(r datasets.Record) bool { return r.Scenario == string(sc) }))
	}
	f.Fuzz(func(t *testing.T, raw string, turns bool) {
		preds := make([]Prediction, len(recs))
		for j, r := range recs {
			preds[j] = Prediction{ID: r.ID, Raw: raw}
			if turns {
				preds[j].TurnOutputs = []string{raw, raw}
			}
			if raw == "" {
				preds[j].Raw = r.Target // the gold answer still scores correct
			}
		}
		rep, err := s.Score(recs, preds)
		if err != nil {
			t.Fatalf("Score: %v", err)
		}
		for _, ex := range rep.Examples {
			for k, v := range ex.Metrics {
				if math.IsNaN(v) || v < 0 || v > 1 {
					t.Fatalf("%s metric %s = %v", ex.ID, k, v)
				}
			}
			if raw == "" && !turns && !ex.Correct {
				t.Fatalf("gold of %s scored wrong: %+v", ex.ID, ex)
			}
		}
		if raw == "" && !turns {
			return
		}
		rep2, err := s.Score(recs, preds)
		if err != nil || !reflect.DeepEqual(rep.Examples, rep2.Examples) {
			t.Fatalf("scoring is not deterministic (%v)", err)
		}
	})
}
