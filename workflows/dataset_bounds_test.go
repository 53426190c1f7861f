package workflows

import (
	"cmp"
	"errors"
	"reflect"
	"slices"
	"testing"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// TestDatasetWorkflowRefusesHugeCounts (issue 14 item 2): a count above the
// documented limit, or a batch size or parallelism out of range, fails at
// once with InvalidSpec instead of starting.
func TestDatasetWorkflowRefusesHugeCounts(t *testing.T) {
	tests := []struct {
		name string
		edit func(in *DatasetInput)
		frag string
	}{
		{"a billion", func(in *DatasetInput) { in.Spec.Counts = map[string]int{"train": 1_000_000_000} }, "above the limit"},
		{"splits together", func(in *DatasetInput) {
			in.Spec.Counts = map[string]int{"train": MaxExamples, "test": 1}
		}, "in all splits"},
		{"negative parallel", func(in *DatasetInput) { in.MaxParallel = -3 }, "parallel -3"},
		{"huge batch", func(in *DatasetInput) { in.BatchSize = MaxBatchSize + 1 }, "batch size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			env.RegisterWorkflowWithOptions(DatasetWorkflow, workflow.RegisterOptions{Name: DatasetWorkflowName})
			in := datasetInput()
			tc.edit(&in)
			env.ExecuteWorkflow(DatasetWorkflowName, in)
			var appErr *temporal.ApplicationError
			if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != "InvalidSpec" || !containsAny(err.Error(), tc.frag) {
				t.Fatalf("err = %v, want InvalidSpec naming %q", err, tc.frag)
			}
		})
	}
}

// runToEnd runs a Dataset workflow through its continue-as-new chain and
// returns the batches asked for, the number of runs and the largest input a
// run continued with.
func runToEnd(t *testing.T, f *fakeGen, in DatasetInput) (runs, maxInput int) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	for runs = 1; runs < 100; runs++ {
		env := s.NewTestWorkflowEnvironment()
		env.RegisterWorkflowWithOptions(DatasetWorkflow, workflow.RegisterOptions{Name: DatasetWorkflowName})
		f.register(env)
		before := len(f.batches)
		env.ExecuteWorkflow(DatasetWorkflowName, in)
		if got := len(f.batches) - before; in.Limits.Batches > 0 && got > in.Limits.Batches {
			t.Fatalf("run %d scheduled %d batches, over its limit of %d", runs, got, in.Limits.Batches)
		}
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if !errors.As(err, &can) {
			if err != nil {
				t.Fatal(err)
			}
			return runs, maxInput
		}
		maxInput = max(maxInput, len(can.Input.Payloads[0].Data))
		in = DatasetInput{}
		if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("the workflow never finished")
	return runs, maxInput
}

// TestDatasetWorkflowLargestCount (issue 14 item 2): the largest accepted
// count runs with bounded work per run: batches are cut lazily, a run moves
// on in the middle of a round after its batch budget, the state it carries
// names shards by reference, and the batches are exactly those of an
// uninterrupted run.
func TestDatasetWorkflowLargestCount(t *testing.T) {
	if testing.Short() {
		t.Skip("hundreds of activities in the test environment; skipped with -short")
	}
	in := DatasetInput{Spec: generator.Spec{Task: schemas.EdgeIntent, Variant: "50",
		Counts: map[string]int{"train": MaxExamples * 9 / 10, "test": MaxExamples / 10}, Seed: 1},
		BatchSize: 2500, MaxParallel: 8, Review: ReviewOptions{Policy: ReviewAuto}}
	cells := 50
	fake := func() *fakeGen {
		f := newFakeGen(cells, 0)
		for i := range f.plan.Cells {
			f.plan.Cells[i].Quota = map[string]int{"test": MaxExamples / 10 / cells, "train": MaxExamples * 9 / 10 / cells}
		}
		return f
	}
	whole, bounded := fake(), fake()
	wholeRuns, _ := runToEnd(t, whole, in)
	in.Limits.Batches = 60
	runs, maxInput := runToEnd(t, bounded, in)
	if want := MaxExamples / 2500; len(bounded.batches) != want || runs < 6 || wholeRuns != 1 {
		t.Fatalf("%d batches in %d runs (uninterrupted: %d runs); want %d batches over at least 6 runs", len(bounded.batches), runs,
			wholeRuns, want)
	}
	if maxInput > 16<<10 {
		t.Fatalf("a run continued with a %d-byte input: the state grows with the count", maxInput)
	}
	byBatch := func(b []BatchInput) []BatchInput {
		out := slices.Clone(b)
		slices.SortFunc(out, func(x, y BatchInput) int { return cmp.Or(cmp.Compare(x.Round, y.Round), cmp.Compare(x.Batch, y.Batch)) })
		return out
	}
	if !reflect.DeepEqual(byBatch(bounded.batches), byBatch(whole.batches)) {
		t.Fatal("moving on mid-round changed the batches: ids would differ from an uninterrupted run")
	}
	if got := bounded.committed.ShardRounds; len(got) != 1 || got[0] != len(bounded.batches) || len(bounded.committed.Shards) != 0 {
		t.Fatalf("commit names shards %v + %d paths, want all %d by reference", got, len(bounded.committed.Shards), len(bounded.batches))
	}
	for i, k := range bounded.kept {
		if k["test"] != MaxExamples/10/cells || k["train"] != MaxExamples*9/10/cells {
			t.Fatalf("cell %d kept %v", i, k)
		}
	}
}
