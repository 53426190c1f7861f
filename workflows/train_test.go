package workflows

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

func trainEnv(t *testing.T, train func(context.Context, TrainPlan) (TrainResult, error)) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(TrainWorkflow, workflow.RegisterOptions{Name: TrainWorkflowName})
	env.RegisterActivityWithOptions(func(_ context.Context, in TrainInput) (TrainPlan, error) {
		if in.Preset == "huge" {
			return TrainPlan{}, temporal.NewNonRetryableApplicationError(`unknown preset "huge"`, "InvalidSpec", nil)
		}
		return TrainPlan{Input: in, Task: "edgeintent", DatasetVersion: "v2", RunDir: "/runs/train-x"}, nil
	}, activity.RegisterOptions{Name: PrepareTrainActivityName})
	env.RegisterActivityWithOptions(train, activity.RegisterOptions{Name: TrainActivityName})
	return env
}

func TestTrainWorkflowRetriesTheTrainingActivity(t *testing.T) {
	attempts := 0
	env := trainEnv(t, func(ctx context.Context, p TrainPlan) (TrainResult, error) {
		attempts++
		if attempts == 1 {
			return TrainResult{}, errors.New("worker killed")
		}
		return TrainResult{Checkpoint: p.RunDir + "/final", DatasetVersion: p.DatasetVersion, Resumes: 1}, nil
	})
	env.ExecuteWorkflow(TrainWorkflowName, TrainInput{Preset: "tiny-intent", Dataset: "edgeintent@latest"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res TrainResult
	_ = env.GetWorkflowResult(&res)
	if attempts != 2 || res.Checkpoint != "/runs/train-x/final" || res.DatasetVersion != "v2" {
		t.Fatalf("attempts %d result %+v", attempts, res)
	}
}

func TestTrainWorkflowStopsOnBadInputAndDivergence(t *testing.T) {
	for _, tc := range []struct {
		name   string
		preset string
		errTyp string
	}{{"bad preset", "huge", "InvalidSpec"}, {"diverged", "tiny-intent", "TrainingDiverged"}} {
		t.Run(tc.name, func(t *testing.T) {
			attempts := 0
			env := trainEnv(t, func(ctx context.Context, p TrainPlan) (TrainResult, error) {
				attempts++
				return TrainResult{}, temporal.NewNonRetryableApplicationError("loss is NaN at step 12", "TrainingDiverged", nil)
			})
			env.ExecuteWorkflow(TrainWorkflowName, TrainInput{Preset: tc.preset, Dataset: "edgeintent@v1"})
			var appErr *temporal.ApplicationError
			if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != tc.errTyp {
				t.Fatalf("err %v, want %s", err, tc.errTyp)
			}
			if attempts > 1 {
				t.Errorf("a non-retryable failure ran %d attempts", attempts)
			}
		})
	}
}
