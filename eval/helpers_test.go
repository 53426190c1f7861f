package eval

import (
	"context"
	"sync"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/builtin"
	"github.com/cyclecore/mlmforge/schemas"
)

func testCatalog(t testing.TB) *schemas.Catalog {
	t.Helper()
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func testScorer(t testing.TB) *Scorer {
	t.Helper()
	s, err := NewScorer(testCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// generated caches builtin-teacher datasets by task and variant: generation
// is deterministic, so every test sees the same records.
var generated sync.Map // string -> []datasets.Record

// genRecords generates n test records of a task with the builtin teacher,
// the way the generate activity does (plan, batch items, runner).
func genRecords(t testing.TB, task schemas.Task, variant string, n int) []datasets.Record {
	t.Helper()
	key := string(task) + "/" + variant
	if v, ok := generated.Load(key); ok && len(v.([]datasets.Record)) >= n {
		return v.([]datasets.Record)[:n]
	}
	recs, err := builtin.Generate(context.Background(), testCatalog(t),
		generator.Spec{Task: task, Variant: variant, Counts: map[string]int{"test": n}, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < n*9/10 {
		t.Fatalf("generated %d of %d %s records", len(recs), n, task)
	}
	generated.Store(key, recs)
	return recs
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
