package eval

import (
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/internal/testutil"
)

func testScorer(t testing.TB) *Scorer {
	t.Helper()
	s, err := NewScorer(testutil.Catalog(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// goldPredictions answers every record with its own gold target.
func goldPredictions(recs []datasets.Record) []Prediction {
	preds := make([]Prediction, len(recs))
	for i, r := range recs {
		preds[i] = Prediction{ID: r.ID, Raw: r.Target, Cost: Cost{LatencyMS: float64(10 + i%7), OutputTokens: 20}}
	}
	return preds
}

// firstRecord returns the first record matching pred.
func firstRecord(t testing.TB, recs []datasets.Record, pred func(datasets.Record) bool) datasets.Record {
	t.Helper()
	for _, r := range recs {
		if pred(r) {
			return r
		}
	}
	t.Fatal("no matching record")
	return datasets.Record{}
}
