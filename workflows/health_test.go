package workflows

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

func newHealthEnv(t *testing.T, ping func(context.Context, PingInput) (PingResult, error)) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(HealthWorkflow, workflow.RegisterOptions{Name: HealthWorkflowName})
	env.RegisterActivityWithOptions(func(context.Context) (string, error) { return "wf@host", nil },
		activity.RegisterOptions{Name: WorkerIdentityActivityName})
	env.RegisterActivityWithOptions(ping, activity.RegisterOptions{Name: PingActivityName})
	return env
}

func TestHealthWorkflowAllQueues(t *testing.T) {
	env := newHealthEnv(t, func(_ context.Context, in PingInput) (PingResult, error) {
		return PingResult{Queue: in.Queue, Worker: "w-" + in.Queue}, nil
	})
	env.ExecuteWorkflow(HealthWorkflowName, HealthInput{})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res HealthResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.WorkflowWorker != "wf@host" {
		t.Errorf("workflow worker = %q", res.WorkflowWorker)
	}
	want := []string{TaskQueueGenerate, TaskQueueTrain, TaskQueueEval}
	if len(res.Queues) != len(want) {
		t.Fatalf("queues = %+v", res.Queues)
	}
	for i, q := range res.Queues {
		if q.Queue != want[i] || q.Worker != "w-"+want[i] || q.Error != "" {
			t.Errorf("queue %d = %+v, want %s answered", i, q, want[i])
		}
	}
}

func TestHealthWorkflowReportsFailedQueue(t *testing.T) {
	env := newHealthEnv(t, func(_ context.Context, in PingInput) (PingResult, error) {
		if in.Queue == TaskQueueTrain {
			return PingResult{}, errors.New("no gpu")
		}
		return PingResult{Queue: in.Queue, Worker: "w"}, nil
	})
	env.ExecuteWorkflow(HealthWorkflowName, HealthInput{Queues: []string{TaskQueueTrain, TaskQueueEval}})
	var res HealthResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(res.Queues) != 2 || res.Queues[0].Error == "" || res.Queues[0].Worker != "" || res.Queues[1].Error != "" {
		t.Fatalf("want train failed and eval ok, got %+v", res.Queues)
	}
}
