package eval

import (
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
)

// TestImportedDatasets scores records of taxonomies and schemas the catalog
// does not know, as importers write them: the label set comes from the gold
// labels, the JSON schema from Meta.schema.
func TestImportedDatasets(t *testing.T) {
	s := testScorer(t)
	recs := []datasets.Record{
		{ID: "c1", Task: "edgeintent", Variant: "clinc150", Target: `{"intent":"balance"}`, Input: "what's my balance"},
		{ID: "c2", Task: "edgeintent", Variant: "clinc150", Target: `{"intent":"transfer"}`, Input: "send money to mom"},
		{ID: "c3", Task: "edgeintent", Variant: "clinc150", Target: `{"intent":"balance"}`, Input: "how much do I have"},
	}
	preds := []Prediction{{ID: "c1", Raw: "balance"}, {ID: "c2", Raw: "balance"}, {ID: "c3", Raw: "nonsense"}}
	rep, err := s.Score(recs, preds)
	if err != nil {
		t.Fatal(err)
	}
	if m := rep.EdgeIntent; m.Top1 < 0.333 || m.Top1 > 0.334 || m.Invalid != 1 {
		t.Errorf("imported intents: %+v", m)
	}
	schema := `{"schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}`
	jrecs := []datasets.Record{
		{ID: "s1", Task: "edgejson", Cell: "snips.GetWeather", Target: `{"city":"Paris"}`, Meta: schema},
		{ID: "s2", Task: "edgejson", Cell: "snips.GetWeather", Target: `{"city":"Oslo"}`, Meta: schema},
	}
	rep, err = s.Score(jrecs, []Prediction{{ID: "s1", Raw: `{"city":"Paris"}`}, {ID: "s2", Raw: `{"town":"Oslo"}`}})
	if err != nil {
		t.Fatal(err)
	}
	if m := rep.EdgeJSON; m.JSONExact != 0.5 || m.SchemaCompliance != 0.5 {
		t.Errorf("imported JSON: %+v", m.JSONScores)
	}
	if _, err := s.Score([]datasets.Record{{ID: "x", Task: "edgejson", Cell: "nope", Target: `{}`}}, nil); err == nil {
		t.Error("a record with neither a catalog schema nor Meta.schema scored")
	}
}

// TestIntentLabelsNormalizedOnBothSides: a class with capitals scores when the
// model writes it in any case, and the confusion matrix names it as written.
func TestIntentLabelsNormalizedOnBothSides(t *testing.T) {
	s := testScorer(t)
	recs := []datasets.Record{
		{ID: "b1", Task: "edgeintent", Variant: "bank", Target: `{"intent":"Check_Balance"}`, Input: "balance?"},
		{ID: "b2", Task: "edgeintent", Variant: "bank", Target: `{"intent":"Transfer-Money"}`, Input: "send 5"},
	}
	preds := []Prediction{{ID: "b1", Raw: `{"intent": "Check_Balance"}`}, {ID: "b2", Raw: "transfer money"}}
	rep, err := s.Score(recs, preds)
	if err != nil {
		t.Fatal(err)
	}
	m := rep.EdgeIntent
	if m.Top1 != 1 || m.Invalid != 0 || m.MacroF1 != 1 {
		t.Errorf("metrics %+v, want every label right", m)
	}
	if m.PerClass["Check_Balance"].F1 != 1 || len(m.MostConfused) != 0 {
		t.Errorf("per class %+v, confused %+v", m.PerClass, m.MostConfused)
	}
}
