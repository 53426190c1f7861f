package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// HealthWorkflow pings each activity queue in parallel and reports which worker
// answered. It is the smallest end-to-end proof that a server, a workflow worker
// and the activity workers are wired together.
func HealthWorkflow(ctx workflow.Context, in HealthInput) (HealthResult, error) {
	queues := in.Queues
	if len(queues) == 0 {
		queues = []string{TaskQueueGenerate, TaskQueueTrain, TaskQueueEval}
	}
	wait := time.Duration(in.ScheduleToStartSeconds) * time.Second
	if wait <= 0 {
		wait = 10 * time.Second
	}
	var res HealthResult
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 5 * time.Second})
	if err := workflow.ExecuteLocalActivity(lctx, WorkerIdentityActivityName).Get(ctx, &res.WorkflowWorker); err != nil {
		return res, err
	}
	futures := make([]workflow.Future, len(queues))
	for i, q := range queues {
		// A queue nobody serves must fail fast and be reported, not hang the check:
		// schedule-to-start bounds the wait and a single attempt avoids retries.
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			TaskQueue:              q,
			ScheduleToStartTimeout: wait,
			StartToCloseTimeout:    10 * time.Second,
			RetryPolicy:            &temporal.RetryPolicy{MaximumAttempts: 1},
		})
		futures[i] = ping(actx, PingInput{Queue: q})
	}
	for i, f := range futures {
		var pr PingResult
		qh := QueueHealth{Queue: queues[i]}
		if err := f.Get(ctx, &pr); err != nil {
			qh.Error = err.Error()
		} else {
			qh.Worker = pr.Worker
		}
		res.Queues = append(res.Queues, qh)
	}
	return res, nil
}
