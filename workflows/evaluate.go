package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// EvaluateWorkflow fans model x dataset x variant out as shards on the eval
// queue, at most MaxParallel at a time, then scores them into one report.
// Finished shards are in the history and on disk: a worker that dies costs
// only its shard in flight, and a rerun of the same evaluation reuses every
// shard file already written.
func EvaluateWorkflow(ctx workflow.Context, in EvalInput) (EvalResult, error) {
	if len(in.Models) == 0 || len(in.Datasets) == 0 {
		return EvalResult{}, temporal.NewNonRetryableApplicationError("evaluate: models and datasets are required", ErrInvalidSpec, nil)
	}
	if in.MaxParallel <= 0 {
		in.MaxParallel = 4
	}
	prog := EvalProgress{Phase: "preparing"}
	if err := workflow.SetQueryHandler(ctx, EvalProgressQuery, func() (EvalProgress, error) { return prog, nil }); err != nil {
		return EvalResult{}, err
	}
	short := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           TaskQueueEval,
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: []string{ErrInvalidSpec}},
	})
	var plan EvalPlan
	if err := prepareEval(short, in).Get(ctx, &plan); err != nil {
		prog.Phase = "failed"
		return EvalResult{}, err
	}
	for _, j := range plan.Jobs {
		prog.ShardsTotal += j.Shards
		prog.Jobs = append(prog.Jobs, EvalJobProgress{Key: j.Key, Shards: j.Shards})
	}
	prog.Phase = "evaluating"
	res := EvalResult{ReportDir: plan.ReportDir, Skipped: plan.Skipped}
	if err := runShards(ctx, in.MaxParallel, plan, &prog, &res); err != nil {
		prog.Phase = "failed"
		return res, err
	}
	prog.Phase = "reporting"
	var rep EvalResult
	if err := evalReport(short, plan).Get(ctx, &rep); err != nil {
		prog.Phase = "failed"
		return res, err
	}
	res.Table = rep.Table
	prog.Phase = "done"
	return res, nil
}

// runShards runs every shard of every job with at most limit in flight.
func runShards(ctx workflow.Context, limit int, plan EvalPlan, prog *EvalProgress, res *EvalResult) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: TaskQueueEval,
		// A shard of 100 examples of a 7B baseline on a CPU can take many minutes;
		// the heartbeat notices a dead worker long before this bound.
		StartToCloseTimeout: 2 * time.Hour,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			MaximumAttempts: 8, NonRetryableErrorTypes: []string{ErrInvalidSpec, ErrModelNotFound}},
	})
	type shard struct{ job, idx int }
	var todo []shard
	for j, job := range plan.Jobs {
		for s := 0; s < job.Shards; s++ {
			todo = append(todo, shard{j, s})
		}
	}
	var errs error
	next := 0
	fanOut(ctx, limit, func() bool { return next < len(todo) && errs == nil }, func() (workflow.Future, func(workflow.Future)) {
		sh := todo[next]
		next++
		in := EvalShardInput{ReportDir: plan.ReportDir, Job: plan.Jobs[sh.job], Shard: sh.idx, ShardSize: plan.ShardSize,
			OllamaHost: plan.OllamaHost}
		return evalShard(actx, in), func(f workflow.Future) {
			var r EvalShardResult
			if err := f.Get(ctx, &r); err != nil {
				errs = errors.Join(errs, fmt.Errorf("%s shard %d: %w", plan.Jobs[sh.job].Key, sh.idx, err))
				return
			}
			res.Shards++
			if r.Reused {
				res.ReusedShards++
			}
			prog.ShardsDone++
			prog.Jobs[sh.job].ShardsDone++
		}
	})
	return errs
}
