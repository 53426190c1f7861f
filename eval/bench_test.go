package eval

import (
	"fmt"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/internal/testutil/records"
	"github.com/cyclecore/mlmforge/schemas"
)

// benchSet builds 10,000 records of a task from a generated base set (ids
// made unique) and predictions: two thirds gold, one third cut in half.
func benchSet(b *testing.B, task schemas.Task, variant string, base int) ([]datasets.Record, []Prediction) {
	src := records.Builtin(b, task, variant, base)
	const n = 10000
	recs := make([]datasets.Record, n)
	preds := make([]Prediction, n)
	for i := range recs {
		r := src[i%len(src)]
		r.ID = fmt.Sprintf("%s-%d", r.ID, i)
		recs[i] = r
		raw := r.Target
		if i%3 == 2 {
			raw = raw[:len(raw)/2]
		}
		preds[i] = Prediction{ID: r.ID, Raw: raw, Cost: Cost{LatencyMS: float64(5 + i%50), OutputTokens: 10 + i%40}}
	}
	return recs, preds
}

func benchScore(b *testing.B, task schemas.Task, variant string, base int) {
	s := testScorer(b)
	recs, preds := benchSet(b, task, variant, base)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Score(recs, preds); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "predictions/s")
}

// BenchmarkScoreEdgeJSON10k scores 10,000 EdgeJSON predictions (target < 1 s).
func BenchmarkScoreEdgeJSON10k(b *testing.B) { benchScore(b, schemas.EdgeJSON, "", 600) }

// BenchmarkScoreEdgeIntent10k scores 10,000 EdgeIntent predictions (200 classes).
func BenchmarkScoreEdgeIntent10k(b *testing.B) { benchScore(b, schemas.EdgeIntent, "200", 1000) }

// BenchmarkScoreEdgeFuncCall10k scores 10,000 EdgeFuncCall predictions
// (all functions, every scenario, multi-turn ones executed against the mock).
func BenchmarkScoreEdgeFuncCall10k(b *testing.B) { benchScore(b, schemas.EdgeFuncCall, "", 1000) }
