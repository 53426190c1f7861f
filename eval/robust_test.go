package eval

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/internal/testutil/records"
	"github.com/cyclecore/mlmforge/schemas"
)

// hostileOutputs are outputs a broken model produces. None may panic or
// make Score fail, and none may score as correct.
func hostileOutputs() []string {
	r := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 4096)
	for i := range noise {
		noise[i] = byte(r.IntN(256))
	}
	return []string{
		"",
		"\x00\xff\xfe garbage",
		string(noise),
		"{",
		`{"a": [1, 2, {"b": "unterminated`,
		"```json\n{\"turns\": [\n```",
		`null`, `true`, `42`, `1e999999`, `"just a string"`,
		`{"turns": 5}`, `{"turns": [1, 2]}`, `{"calls": {"name": "x"}}`, `{"intent": ["a"]}`, `{"missing": [1]}`,
		strings.Repeat("[", 100000),
		strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000),
		"[" + strings.Repeat(`{"name":"lights_turn_on","arguments":{}},`, 20000) + "{}]",
		strings.Repeat("x", 3<<20),
	}
}

func TestHostileOutputsNeverPanic(t *testing.T) {
	s := testScorer(t)
	var recs []datasets.Record
	recs = append(recs, records.Builtin(t, schemas.EdgeJSON, "", 120)[:3]...)
	recs = append(recs, records.Builtin(t, schemas.EdgeIntent, "50", 250)[:3]...)
	fc := records.Builtin(t, schemas.EdgeFuncCall, "20", 300)
	for _, sc := range []schemas.Scenario{schemas.SingleTurn, schemas.MultiTurn, schemas.MissingParam} {
		recs = append(recs, firstRecord(t, fc, func(r datasets.Record) bool { return r.Scenario == string(sc) }))
	}
	for i, out := range hostileOutputs() {
		preds := make([]Prediction, len(recs))
		for j, r := range recs {
			preds[j] = Prediction{ID: r.ID, Raw: out, TurnOutputs: nil}
			if j%2 == 1 {
				preds[j].TurnOutputs = []string{out, out}
			}
		}
		rep, err := s.Score(recs, preds)
		if err != nil {
			t.Fatalf("output %d: %v", i, err)
		}
		for _, ex := range rep.Examples {
			if ex.Correct {
				t.Errorf("output %d (%.40q) scored correct on %s record %s", i, out, ex.Task, ex.ID)
			}
			if ex.Raw != out {
				t.Errorf("output %d: raw output not kept", i)
			}
		}
	}
}

func TestScoreInputErrors(t *testing.T) {
	s := testScorer(t)
	recs := records.Builtin(t, schemas.EdgeIntent, "50", 250)[:2]
	if _, err := s.Score(recs, []Prediction{{ID: recs[0].ID}, {ID: recs[0].ID}}); err == nil {
		t.Error("duplicate prediction: want an error")
	}
	if _, err := s.Score(recs, []Prediction{{ID: "nope"}}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown prediction id: err = %v", err)
	}
	bad := []datasets.Record{{ID: "b", Task: "edgeintent", Variant: "50", Target: "{"}}
	if _, err := s.Score(bad, nil); err == nil || !strings.Contains(err.Error(), "field target") {
		t.Errorf("broken gold: err = %v", err)
	}
	bad[0].Task = "poetry"
	if _, err := s.Score(bad, nil); err == nil {
		t.Error("unknown task: want an error")
	}
	rep, err := s.Score(recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MissingPredictions != 2 || rep.EdgeIntent.Top1 != 0 || !rep.Examples[0].Missing {
		t.Errorf("missing predictions: %+v", rep)
	}
	if _, err := NewScorer(nil); err == nil {
		t.Error("nil catalog: want an error")
	}
}
