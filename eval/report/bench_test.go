package report

import (
	"fmt"
	"testing"

	"github.com/cyclecore/mlmforge/eval"
)

// BenchmarkWrite writes a full report of three jobs (one per task) with
// 10,000 examples each: predictions files, plots, confusion matrix, tables.
func BenchmarkWrite(b *testing.B) {
	results := handMadeResults()
	for _, i := range []int{0, 3, 7} { // one job per task
		rep := *results[i].Report
		rep.Examples = make([]eval.ExampleResult, 10_000)
		for k := range rep.Examples {
			rep.Examples[k] = example(fmt.Sprintf("ex-%05d", k), results[i].Dataset.Task, k%4 != 0, float64(5+k%50), 24)
			rep.Examples[k].Raw = fmt.Sprintf(`{"name": "customer %d", "items": [{"sku": "A-%d", "qty": %d}]}`, k, k, k%9)
		}
		rep.N = len(rep.Examples)
		results[i].Report = &rep
	}
	results = []Result{results[0], results[3], results[7]}
	dir := b.TempDir()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Write(dir, results, testLineage); err != nil {
			b.Fatal(err)
		}
	}
}
