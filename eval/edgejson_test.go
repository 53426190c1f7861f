package eval

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/internal/testutil/records"
	"github.com/cyclecore/mlmforge/schemas"
)

// firstStringLeaf returns a top-level string field of an object, or "".
func firstStringField(obj map[string]any) string {
	for _, k := range sortedKeys(obj) {
		if _, ok := obj[k].(string); ok {
			return k
		}
	}
	return ""
}

func TestEdgeJSONScoring(t *testing.T) {
	s := testScorer(t)
	recs := records.Builtin(t, schemas.EdgeJSON, "", 120)
	rec := firstRecord(t, recs, func(r datasets.Record) bool {
		var m map[string]any
		return r.Complexity == "simple" && json.Unmarshal([]byte(r.Target), &m) == nil && firstStringField(m) != ""
	})
	var gold map[string]any
	if err := json.Unmarshal([]byte(rec.Target), &gold); err != nil {
		t.Fatal(err)
	}
	field := firstStringField(gold)
	with := func(k string, v any) string {
		m := map[string]any{}
		for kk, vv := range gold {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, _ := json.MarshalIndent(m, "", "   ")
		return string(b)
	}
	n := len(gold)
	tests := []struct {
		name            string
		raw             string
		exact, complies bool
		f1              float64
		parseFail       bool
	}{
		{"gold reformatted", with(field, gold[field]), true, true, 1, false},
		{"fenced gold", "```json\n" + rec.Target + "\n```", true, true, 1, false},
		{"gold wrapped in prose", "Here you go: " + rec.Target + " -- done", true, true, 1, false},
		{"one string changed", with(field, "zzz-not-it"), false, true, float64(n-1) / float64(n), false},
		{"wrong type", with(field, 12345), false, false, float64(n-1) / float64(n), false},
		{"field dropped", with(field, nil), false, false, 2 * (1 * float64(n-1) / float64(n)) / (1 + float64(n-1)/float64(n)), false},
		{"truncated", rec.Target[:len(rec.Target)/2], false, false, 0, true},
		{"garbage", "I cannot do that.", false, false, 0, true},
		{"array instead of object", "[1,2,3]", false, false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := s.Score([]datasets.Record{rec}, []Prediction{{ID: rec.ID, Raw: tt.raw}})
			if err != nil {
				t.Fatal(err)
			}
			m, ex := rep.EdgeJSON, rep.Examples[0]
			if (m.JSONExact == 1) != tt.exact || (m.SchemaCompliance == 1) != tt.complies || (ex.ParseError != "") != tt.parseFail {
				t.Errorf("metrics %+v parse error %q", m.JSONScores, ex.ParseError)
			}
			if d := m.FieldF1 - tt.f1; d > 1e-9 || d < -1e-9 {
				t.Errorf("field F1 %.4f, want %.4f", m.FieldF1, tt.f1)
			}
			if ex.Raw != tt.raw {
				t.Errorf("raw output not kept")
			}
			if m.ByComplexity["simple"].N != 1 {
				t.Errorf("by complexity %+v", m.ByComplexity)
			}
		})
	}
	t.Run("truncation is reported", func(t *testing.T) {
		rep, err := s.Score([]datasets.Record{rec}, []Prediction{{ID: rec.ID, Raw: rec.Target[:10], Truncated: true}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(rep.Examples[0].ParseError, "truncated") {
			t.Errorf("parse error %q does not name truncation", rep.Examples[0].ParseError)
		}
	})
}

// TestEdgeJSONParsedIsValidUTF8 checks that a report stays readable by any JSON
// reader when a student emits half a UTF-8 sequence inside a string (a SNIPS
// student wrote "\xc3anyland"): the parsed answer keeps its key order with the
// bad byte as U+FFFD.
func TestEdgeJSONParsedIsValidUTF8(t *testing.T) {
	s := testScorer(t)
	rec := records.Builtin(t, schemas.EdgeJSON, "", 120)[0]
	rep, err := s.Score([]datasets.Record{rec}, []Prediction{{ID: rec.ID, Raw: "{\"zeta\":\"\xc3anyland\",\"alpha\":1}"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(b) {
		t.Fatalf("report is not valid UTF-8: %q", rep.Examples[0].Parsed)
	}
	if got, want := string(rep.Examples[0].Parsed), "{\"zeta\":\"\uFFFDanyland\",\"alpha\":1}"; got != want {
		t.Errorf("parsed %q, want %q", got, want)
	}
}
