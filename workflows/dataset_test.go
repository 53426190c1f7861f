package workflows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// fakeGen is an in-memory stand-in for the generation activities: each batch
// "keeps" all it was asked for, and the first merge drops dropFirst examples
// of cell 0 as cross-batch duplicates, forcing a second round.
type fakeGen struct {
	mu        sync.Mutex
	plan      PlanResult
	kept      []map[string]int
	dropFirst int
	merges    int
	batches   []BatchInput
	committed CommitInput
	sample    []datasets.Record
	journal   *journalStore
	revoked   []string
}

func newFakeGen(cells, quota int) *fakeGen {
	f := &fakeGen{plan: PlanResult{PlanPath: "/runs/x/plan.json", RunDir: "/runs/x", SpecHash: "abc", Task: "edgeintent",
		Splits: []string{"test", "train"}, AttemptFactor: 4}}
	for i := 0; i < cells; i++ {
		f.plan.Cells = append(f.plan.Cells, PlanCell{Key: fmt.Sprintf("c%d", i), Quota: map[string]int{"test": quota, "train": 2 * quota}})
		f.kept = append(f.kept, map[string]int{})
	}
	return f
}

func (f *fakeGen) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(_ context.Context, in PlanInput) (PlanResult, error) { return f.plan, nil },
		activity.RegisterOptions{Name: PlanDatasetActivityName})
	env.RegisterActivityWithOptions(func(_ context.Context, in BatchInput) (BatchResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.batches = append(f.batches, in)
		res := BatchResult{Shard: fmt.Sprintf("r%d-b%d", in.Round, in.Batch), Stats: generator.Stats{Attempts: 1}}
		for _, it := range in.Items {
			if it.FirstAttempt >= it.MaxAttempt {
				return res, errors.New("empty attempt range")
			}
			f.kept[it.Cell][it.Split] += it.Need
			res.Items = append(res.Items, generator.ItemResult{Cell: it.Cell, Split: it.Split, Kept: it.Need, NextAttempt: it.FirstAttempt + it.Need})
		}
		return res, nil
	}, activity.RegisterOptions{Name: GenerateBatchActivityName})
	env.RegisterActivityWithOptions(func(_ context.Context, in MergeInput) (MergeResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.merges++
		if f.merges == 1 {
			f.kept[0]["test"] -= f.dropFirst
		}
		out := MergeResult{Stats: generator.Stats{Rejects: map[generator.RejectReason]int{generator.RejectNearDup: f.dropFirst}}}
		for _, k := range f.kept {
			out.Kept = append(out.Kept, map[string]int{"test": k["test"], "train": k["train"]})
		}
		return out, nil
	}, activity.RegisterOptions{Name: MergeShardsActivityName})
	env.RegisterActivityWithOptions(func(_ context.Context, in StageInput) (StageResult, error) {
		return StageResult{SamplePath: "/runs/x/sample.parquet", Sampled: len(f.sample)}, nil
	}, activity.RegisterOptions{Name: StageReviewActivityName})
	env.RegisterActivityWithOptions(func(_ context.Context, in LoadSampleInput) ([]datasets.Record, error) {
		return f.sample[in.Offset:min(len(f.sample), in.Offset+in.Limit)], nil
	}, activity.RegisterOptions{Name: LoadSampleActivityName})
	env.RegisterActivityWithOptions(func(_ context.Context, in CommitInput) (CommitResult, error) {
		f.committed = in
		return CommitResult{Version: "v1", Dir: "/d/edgeintent/v1", Counts: map[string]int{"test": 1, "train": 2}}, nil
	}, activity.RegisterOptions{Name: CommitDatasetActivityName})
	f.registerReview(env)
}

// shardCount is the number of shards a merge or commit input names.
func shardCount(in ShardSet) int {
	n := len(in.Shards)
	for _, b := range in.ShardRounds {
		n += b
	}
	return n
}

func datasetInput() DatasetInput {
	return DatasetInput{Spec: generator.Spec{Task: schemas.EdgeIntent, Variant: "50", Counts: map[string]int{"test": 30, "train": 60}, Seed: 1},
		BatchSize: 25, MaxParallel: 3, Review: ReviewOptions{Policy: ReviewAuto}}
}

func TestDatasetWorkflowTopsUpAfterDedup(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(DatasetWorkflow, workflow.RegisterOptions{Name: DatasetWorkflowName})
	f := newFakeGen(3, 10)
	f.dropFirst = 4
	f.register(env)
	env.ExecuteWorkflow(DatasetWorkflowName, datasetInput())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res DatasetResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if f.merges != 2 {
		t.Errorf("merges = %d, want 2 (a top-up round after dedup)", f.merges)
	}
	for i, k := range f.kept {
		if i > 0 && (k["test"] != 10 || k["train"] != 20) {
			t.Errorf("cell %d kept %v, want exactly the quota", i, k)
		}
	}
	// Round 0 asked for 90 examples in batches of at most 25; round 1 for the 4 dropped.
	var r0, r1 int
	attempts := map[string][][2]int{}
	for _, b := range f.batches {
		n := 0
		for _, it := range b.Items {
			n += it.Need
			key := fmt.Sprintf("%d/%s", it.Cell, it.Split)
			// The fake uses attempts [first, first+need); real ids derive from them.
			used := [2]int{it.FirstAttempt, it.FirstAttempt + it.Need}
			if used[1] > it.MaxAttempt {
				t.Errorf("%s: need %d does not fit attempt range [%d,%d)", key, it.Need, it.FirstAttempt, it.MaxAttempt)
			}
			for _, rg := range attempts[key] {
				if used[0] < rg[1] && rg[0] < used[1] {
					t.Errorf("%s: attempts %v overlap %v: ids would collide", key, used, rg)
				}
			}
			attempts[key] = append(attempts[key], used)
		}
		if n > 25 {
			t.Errorf("batch %d/%d has %d examples, over the batch size", b.Round, b.Batch, n)
		}
		if b.Round == 0 {
			r0 += n
		} else {
			r1 += n
		}
	}
	// The top-up asks for half as many again plus one: 4 + 2 + 1.
	if r0 != 90 || r1 != 7 {
		t.Errorf("asked for %d then %d examples, want 90 then 7", r0, r1)
	}
	if shardCount(f.committed.ShardSet) != len(f.batches) {
		t.Errorf("commit got %d shards, want %d", shardCount(f.committed.ShardSet), len(f.batches))
	}
	if res.Version != "v1" || f.committed.Stats.Rejects[generator.RejectNearDup] != 4 {
		t.Errorf("result %+v, committed stats %+v", res, f.committed.Stats)
	}
}

func TestDatasetWorkflowProgressQuery(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(DatasetWorkflow, workflow.RegisterOptions{Name: DatasetWorkflowName})
	f := newFakeGen(2, 5)
	f.register(env)
	var mid DatasetProgress
	env.SetOnActivityCompletedListener(func(info *activity.Info, _ converter.EncodedValue, _ error) {
		if info.ActivityType.Name == MergeShardsActivityName {
			v, err := env.QueryWorkflow(DatasetProgressQuery)
			if err == nil {
				_ = v.Get(&mid)
			}
		}
	})
	env.ExecuteWorkflow(DatasetWorkflowName, datasetInput())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	v, err := env.QueryWorkflow(DatasetProgressQuery)
	if err != nil {
		t.Fatal(err)
	}
	var p DatasetProgress
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	if mid.Phase != "merging" || mid.BatchesTotal == 0 {
		t.Errorf("progress during the merge = %+v, want phase merging with batches counted", mid)
	}
	if p.Phase != "done" || p.Version != "v1" || p.Done["test"] != 10 || p.Target["train"] != 20 || len(p.Cells) != 4 {
		t.Fatalf("final progress %+v", p)
	}
}

func TestDatasetWorkflowRejectsBadSpec(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(DatasetWorkflow, workflow.RegisterOptions{Name: DatasetWorkflowName})
	in := datasetInput()
	in.Spec.Counts = nil
	env.ExecuteWorkflow(DatasetWorkflowName, in)
	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != "InvalidSpec" {
		t.Fatalf("err = %v, want a non-retryable InvalidSpec error", err)
	}
}

// TestDatasetWorkflowContinuesAsNew checks that a run the server suggests to
// continue-as-new carries its state over and finishes in the next run.
func TestDatasetWorkflowContinuesAsNew(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(DatasetWorkflow, workflow.RegisterOptions{Name: DatasetWorkflowName})
	f := newFakeGen(3, 10)
	f.dropFirst = 4
	f.register(env)
	env.SetContinueAsNewSuggested(true)
	env.ExecuteWorkflow(DatasetWorkflowName, datasetInput())
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("err = %v, want continue-as-new after the first round", err)
	}
	var next DatasetInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.State == nil || next.State.Round != 1 || len(next.State.Pending) != 1 || len(next.State.ShardRounds) != 1 ||
		next.State.ShardRounds[0] != len(f.batches) {
		t.Fatalf("carried state %+v", next.State)
	}

	env2 := s.NewTestWorkflowEnvironment()
	env2.RegisterWorkflowWithOptions(DatasetWorkflow, workflow.RegisterOptions{Name: DatasetWorkflowName})
	f.register(env2)
	env2.ExecuteWorkflow(DatasetWorkflowName, next)
	if err := env2.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if f.merges != 2 || shardCount(f.committed.ShardSet) != len(f.batches) {
		t.Fatalf("merges %d, committed %d shards of %d batches", f.merges, shardCount(f.committed.ShardSet), len(f.batches))
	}
}
