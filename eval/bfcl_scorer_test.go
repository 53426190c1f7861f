package eval

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
)

// bfclDocs are BFCL function docs for scoring imported cases through Scorer.
const bfclDocs = `[{"name": "calc.area", "description": "Area.", "parameters": {"type": "dict", "properties": {
  "base": {"type": "integer", "description": "base"},
  "scale": {"type": "float", "description": "scale"},
  "label": {"type": "string", "description": "a label the gold gives as a number"},
  "unit": {"type": "string", "description": "unit"}},
  "required": ["base", "unit"]}}]`

// bfclRec builds an imported BFCL record the way datasets/importer writes
// one: the concrete gold in the target, the case in Meta.
func bfclRec(t *testing.T, id, category, possible string) datasets.Record {
	t.Helper()
	meta := map[string]any{"bfcl_id": id, "category": category, "functions": json.RawMessage(bfclDocs)}
	target := `{"scenario":"irrelevant","turns":[{"action":"none"}]}`
	if possible != "" {
		meta["possible_answer"] = json.RawMessage(possible)
		var funcs []BFCLFunction
		var answers []BFCLAnswer
		if err := UnmarshalNumbers([]byte(bfclDocs), &funcs); err != nil {
			t.Fatal(err)
		}
		if err := UnmarshalNumbers([]byte(possible), &answers); err != nil {
			t.Fatal(err)
		}
		var calls []map[string]any
		for _, c := range GoldCalls(funcs, answers) {
			calls = append(calls, map[string]any{"name": c.Name, "arguments": c.Args})
		}
		target = mustJSON(t, map[string]any{"scenario": "single_turn", "turns": []any{map[string]any{"action": "call", "calls": calls}}})
	}
	m := mustJSON(t, meta)
	return datasets.Record{ID: "bfcl-" + id, Task: "edgefunccall", Split: "test", Input: "q", Cell: category,
		Scenario: category, Target: target, Meta: m}
}

// TestScorerBFCLCases scores imported BFCL cases through Scorer: numbers keep
// Python's int/float types from the possible answer to the verdict, every
// acceptable value counts, and the empty-output rules follow BFCL.
func TestScorerBFCLCases(t *testing.T) {
	const answer = `[{"calc.area": {"base": [10], "scale": [2.0, ""], "label": [5, ""], "unit": ["cm", "centimeters"]}}]`
	call := func(args string) string { return `[{"name": "calc.area", "arguments": {` + args + `}}]` }
	tests := []struct {
		name, category, possible, raw string
		valid                         bool
		errType                       string
	}{
		{"gold", "simple", answer, call(`"base": 10, "unit": "cm"`), true, ""},
		{"second acceptable value", "simple", answer, call(`"base": 10, "unit": "Centimeters"`), true, ""},
		{"float for an integer parameter", "simple", answer, call(`"base": 10.0, "unit": "cm"`), false, "type_error:simple"},
		{"int for a float parameter", "simple", answer, call(`"base": 10, "unit": "cm", "scale": 2`), true, ""},
		{"int gold for a string parameter accepts the int", "simple", answer, call(`"base": 10, "unit": "cm", "label": 5`), true, ""},
		{"int gold for a string parameter rejects the float", "simple", answer, call(`"base": 10, "unit": "cm", "label": 5.0`), false, "type_error:simple"},
		{"prompt-style call", "simple", answer, `[calc.area(base=10, unit='cm', scale=2.0)]`, true, ""},
		{"prompt-style call without brackets", "simple", answer, `calc.area(base=10, unit="cm")`, true, ""},
		{"prompt-style float for int", "simple", answer, `[calc.area(base=10.0, unit='cm')]`, false, "type_error:simple"},
		{"truncated JSON on a call case", "simple", answer, `[{"name": "calc.area", "arguments": {"base": 1`, false, "ast_decoder:decoder_failed"},
		{"[{}] on a call case", "simple", answer, `[{}]`, false, "simple_function_checker:wrong_count"},
		{"no call on irrelevance", "irrelevance", "", `[]`, true, ""},
		{"[{}] on irrelevance is no call", "irrelevance", "", `[{}]`, true, ""},
		{"truncated JSON on irrelevance is no call", "irrelevance", "", `[{"name": "calc.ar`, true, ""},
		{"text on irrelevance", "irrelevance", "", `I cannot help with that.`, true, ""},
		{"call on irrelevance", "live_irrelevance", "", call(`"base": 1, "unit": "cm"`), false, "irrelevance:made_call"},
		{"any call on relevance", "live_relevance", answer, call(`"base": 99, "unit": "in"`), true, ""},
		{"no call on relevance", "live_relevance", answer, `[]`, false, "relevance:no_call"},
		{"live_simple follows simple", "live_simple", answer, call(`"base": 10, "unit": "CM"`), true, ""},
	}
	s := testScorer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := bfclRec(t, "x_0", tt.category, tt.possible)
			rep, err := s.Score([]datasets.Record{rec}, []Prediction{{ID: rec.ID, Raw: tt.raw}})
			if err != nil {
				t.Fatal(err)
			}
			ex := rep.Examples[0]
			if ex.AST == nil || ex.AST.Valid != tt.valid || !strings.HasPrefix(ex.AST.ErrorType, tt.errType) {
				t.Fatalf("AST verdict %+v, want valid=%v %q (parse error %q)", ex.AST, tt.valid, tt.errType, ex.ParseError)
			}
			if ex.Correct != tt.valid {
				t.Errorf("correct = %v, want the BFCL verdict %v", ex.Correct, tt.valid)
			}
			b := rep.EdgeFuncCall.BFCL
			name, v := b.Headline()
			if (v == 1) != tt.valid || b.ByCategory[tt.category].Total != 1 {
				t.Errorf("BFCL metrics %+v (headline %s %v)", b, name, v)
			}
		})
	}
}

// TestBFCLHeadlines: a set of irrelevance cases reports irrelevance
// detection, never an AST accuracy over no call cases.
func TestBFCLHeadlines(t *testing.T) {
	s := testScorer(t)
	recs := []datasets.Record{bfclRec(t, "i_0", "irrelevance", ""), bfclRec(t, "i_1", "irrelevance", "")}
	rep, err := s.Score(recs, []Prediction{{ID: recs[0].ID, Raw: "[]"}, {ID: recs[1].ID, Raw: `[{"name":"calc.area","arguments":{}}]`}})
	if err != nil {
		t.Fatal(err)
	}
	if name, v := rep.EdgeFuncCall.BFCL.Headline(); name != "irrelevance_detection" || v != 0.5 {
		t.Errorf("headline %s %v, want irrelevance_detection 0.5", name, v)
	}
	const answer = `[{"calc.area": {"base": [10], "unit": ["cm"]}}]`
	recs = append(recs, bfclRec(t, "s_0", "simple", answer))
	rep, err = s.Score(recs, []Prediction{{ID: recs[2].ID, Raw: `[{"name":"calc.area","arguments":{"base":10,"unit":"cm"}}]`}})
	if err != nil {
		t.Fatal(err)
	}
	b := rep.EdgeFuncCall.BFCL
	if name, v := b.Headline(); name != "bfcl_ast" || v != 1 || b.IrrelevanceDetection.Total != 2 {
		t.Errorf("headline %s %v, metrics %+v", name, v, b)
	}
}

// TestGoldCallsKeepsRequiredEmptyString: a required parameter whose only
// acceptable value is "" is given as "", and the gold passes.
func TestGoldCallsKeepsRequiredEmptyString(t *testing.T) {
	var funcs []BFCLFunction
	if err := UnmarshalNumbers([]byte(bfclDocs), &funcs); err != nil {
		t.Fatal(err)
	}
	var answers []BFCLAnswer
	if err := UnmarshalNumbers([]byte(`[{"calc.area": {"base": [3], "unit": [""]}}]`), &answers); err != nil {
		t.Fatal(err)
	}
	calls := GoldCalls(funcs, answers)
	if v, ok := calls[0].Args["unit"]; !ok || v != "" {
		t.Fatalf("gold call %+v: want unit \"\"", calls[0])
	}
	if r := CheckAST("simple", funcs, calls, answers); !r.Valid {
		t.Errorf("gold rejected: %+v", r)
	}
}

// TestOwnDataASTVerdictKept: the per-example result of a generated record
// keeps the AST checker's error type and message.
func TestOwnDataASTVerdictKept(t *testing.T) {
	rec, ft := funcRecord(t, "single_turn")
	wrong := changedArgs(ft.Turns[0].Calls[0])
	rep, err := testScorer(t).Score([]datasets.Record{rec}, []Prediction{{ID: rec.ID, Raw: mustJSON(t, map[string]any{"calls": []any{wrong}})}})
	if err != nil {
		t.Fatal(err)
	}
	ast := rep.Examples[0].AST
	if ast == nil || ast.Valid || ast.ErrorType == "" || ast.Error == "" {
		t.Fatalf("AST verdict %+v, want a rejection with type and message", ast)
	}
	rep, err = testScorer(t).Score([]datasets.Record{rec}, []Prediction{{ID: rec.ID, Raw: `{"calls": [`}})
	if err != nil {
		t.Fatal(err)
	}
	if ast := rep.Examples[0].AST; ast == nil || ast.ErrorType != "ast_decoder:decoder_failed" {
		t.Errorf("AST verdict of unparseable output %+v", ast)
	}
}
