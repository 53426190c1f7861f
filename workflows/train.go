package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// TrainWorkflow trains one student: resolve the dataset and check the preset,
// then run the training activity on the train queue. The activity heartbeats
// its step and latest checkpoint; when a worker dies, Temporal retries it on
// any worker of the queue and it resumes from that checkpoint, so the loss
// curve continues where it stopped.
func TrainWorkflow(ctx workflow.Context, in TrainInput) (TrainResult, error) {
	if in.Preset == "" || (in.Dataset == "" && len(in.Datasets) == 0) {
		return TrainResult{}, temporal.NewNonRetryableApplicationError("train: preset and dataset(s) are required", ErrInvalidSpec, nil)
	}
	pctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           TaskQueueTrain,
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: []string{ErrInvalidSpec}},
	})
	var plan TrainPlan
	if err := prepareTrain(pctx, in).Get(ctx, &plan); err != nil {
		return TrainResult{}, err
	}
	heartbeat := 2 * time.Minute
	if in.HeartbeatSeconds > 0 {
		heartbeat = time.Duration(in.HeartbeatSeconds) * time.Second
	}
	tctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: TaskQueueTrain,
		// Training of the big presets takes hours; the heartbeat, not this
		// bound, is what notices a dead worker.
		StartToCloseTimeout: 48 * time.Hour,
		// A checkpoint of the 135M preset writes ~1.6 GB (weights and Adam
		// moments): the timeout leaves room for that between heartbeats.
		HeartbeatTimeout: heartbeat,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        10,
			NonRetryableErrorTypes: []string{ErrInvalidSpec, ErrTrainingDiverged},
		},
	})
	var res TrainResult
	if err := trainModel(tctx, plan).Get(ctx, &res); err != nil {
		return TrainResult{}, err
	}
	return res, nil
}
