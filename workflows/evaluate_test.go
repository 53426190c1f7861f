package workflows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

func TestEvaluateWorkflowFansOutAndReports(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(EvaluateWorkflow, workflow.RegisterOptions{Name: EvaluateWorkflowName})
	plan := EvalPlan{ReportDir: "/r", ShardSize: 10, Jobs: []EvalJob{
		{Key: "a", Model: "ollama:x", Task: "edgeintent", N: 25, Shards: 3},
		{Key: "b", Model: "student:/c", Task: "edgeintent", N: 5, Shards: 1},
	}, Skipped: []string{"student:/c on edgejson@v1: trained for edgeintent"}}
	env.RegisterActivityWithOptions(func(_ context.Context, in EvalInput) (EvalPlan, error) { return plan, nil },
		activity.RegisterOptions{Name: PrepareEvalActivityName})
	var mu sync.Mutex
	attempts := map[string]int{}
	maxRunning, running := 0, 0
	env.RegisterActivityWithOptions(func(ctx context.Context, in EvalShardInput) (EvalShardResult, error) {
		key := fmt.Sprintf("%s/%d", in.Job.Key, in.Shard)
		mu.Lock()
		attempts[key]++
		n := attempts[key]
		running++
		maxRunning = max(maxRunning, running)
		mu.Unlock()
		defer func() { mu.Lock(); running--; mu.Unlock() }()
		if key == "a/1" && n == 1 {
			return EvalShardResult{}, errors.New("worker lost")
		}
		return EvalShardResult{Path: key, Records: 10, Reused: key == "a/0"}, nil
	}, activity.RegisterOptions{Name: EvalShardActivityName})
	var reported EvalPlan
	env.RegisterActivityWithOptions(func(_ context.Context, p EvalPlan) (EvalResult, error) {
		reported = p
		return EvalResult{Table: "| model | top-1 |"}, nil
	}, activity.RegisterOptions{Name: EvalReportActivityName})
	env.ExecuteWorkflow(EvaluateWorkflowName, EvalInput{Models: []string{"ollama:x", "student:/c"}, Datasets: []string{"edgeintent@v1"}, MaxParallel: 2})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res EvalResult
	_ = env.GetWorkflowResult(&res)
	if res.Shards != 4 || res.ReusedShards != 1 || res.Table == "" || len(res.Skipped) != 1 || reported.ReportDir != "/r" {
		t.Fatalf("result %+v", res)
	}
	if attempts["a/1"] != 2 || attempts["a/0"] != 1 || attempts["b/0"] != 1 {
		t.Errorf("attempts %v: only the failed shard is retried", attempts)
	}
	if maxRunning > 2 {
		t.Errorf("%d shards ran at once, limit 2", maxRunning)
	}
	var prog EvalProgress
	if v, err := env.QueryWorkflow(EvalProgressQuery); err != nil || v.Get(&prog) != nil {
		t.Fatalf("progress query: %v", err)
	}
	if prog.Phase != "done" || prog.ShardsDone != 4 || prog.ShardsTotal != 4 || prog.Jobs[0].ShardsDone != 3 {
		t.Errorf("progress %+v", prog)
	}
}

func TestEvaluateWorkflowRejectsEmptyInput(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(EvaluateWorkflow, workflow.RegisterOptions{Name: EvaluateWorkflowName})
	env.ExecuteWorkflow(EvaluateWorkflowName, EvalInput{Models: []string{"ollama:x"}})
	if err := env.GetWorkflowError(); err == nil {
		t.Fatal("no error for an evaluation without datasets")
	}
}
