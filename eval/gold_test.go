package eval

import (
	"testing"

	"github.com/cyclecore/mlmforge/internal/testutil/records"
	"github.com/cyclecore/mlmforge/schemas"
)

// TestGoldScoresPerfect scores each task's builtin-generated gold answers:
// every metric must be 100%, so any canonicalization or parsing mismatch
// between the generator's targets and the scorer shows up here.
func TestGoldScoresPerfect(t *testing.T) {
	s := testScorer(t)
	t.Run("edgejson", func(t *testing.T) {
		recs := records.Builtin(t, schemas.EdgeJSON, "", 120)
		rep, err := s.Score(recs, goldPredictions(recs))
		if err != nil {
			t.Fatal(err)
		}
		m := rep.EdgeJSON
		if m == nil || len(m.ByComplexity) != 3 {
			t.Fatalf("metrics %+v: want 3 complexity levels", m)
		}
		for level, sc := range m.ByComplexity {
			if sc.N == 0 || sc.JSONExact != 1 || sc.FieldF1 != 1 || sc.FieldPrecision != 1 || sc.FieldRecall != 1 || sc.SchemaCompliance != 1 || sc.ParseFailures != 0 {
				t.Errorf("%s: %+v, want all 1", level, sc)
			}
		}
		if m.JSONExact != 1 || m.FieldF1 != 1 || m.SchemaCompliance != 1 {
			t.Errorf("overall %+v", m.JSONScores)
		}
	})
	t.Run("edgeintent", func(t *testing.T) {
		for _, v := range []string{"50", "200"} {
			recs := records.Builtin(t, schemas.EdgeIntent, v, 250)
			rep, err := s.Score(recs, goldPredictions(recs))
			if err != nil {
				t.Fatal(err)
			}
			m := rep.EdgeIntent
			if m.Top1 != 1 || m.Top5 != 1 || m.MacroF1 != 1 || m.Invalid != 0 || len(m.MostConfused) != 0 {
				t.Errorf("variant %s: %+v", v, m)
			}
		}
	})
	t.Run("edgefunccall", func(t *testing.T) {
		recs := records.Builtin(t, schemas.EdgeFuncCall, "20", 300)
		rep, err := s.Score(recs, goldPredictions(recs))
		if err != nil {
			t.Fatal(err)
		}
		m := rep.EdgeFuncCall
		for _, sc := range schemas.Scenarios {
			if got := m.ByScenario[string(sc)]; got.N == 0 || got.Accuracy != 1 {
				t.Errorf("scenario %s: %+v", sc, got)
			}
		}
		er := m.ErrorRecovery
		for name, r := range map[string]Rate{"ask_missing": er.AskMissing, "ask_invalid": er.AskInvalid, "abstain": er.Abstain,
			"no_call_irrelevant": er.NoCallIrrelevant, "overall": er.Overall, "multi_turn_success": m.MultiTurnSuccess, "multi_turn_state": m.MultiTurnState} {
			if r.Total == 0 || r.Rate != 1 {
				t.Errorf("%s: %+v", name, r)
			}
		}
		if m.FunctionExact != 1 || m.CallExact != 1 || m.ParamF1 != 1 || m.AST != 1 || m.TurnAccuracy != 1 || m.ExampleAccuracy != 1 || m.ParseFailures != 0 {
			t.Errorf("metrics %+v", m)
		}
		for _, ex := range rep.Examples {
			if !ex.Correct {
				t.Errorf("example %s (%s) wrong: %s parsed %s", ex.ID, ex.Raw, ex.ParseError, ex.Parsed)
				break
			}
		}
	})
}
