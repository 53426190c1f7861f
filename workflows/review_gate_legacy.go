package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/cyclecore/mlmforge/review"
)

// legacyReviewGate is the gate of runs that opened it before the signed gate
// (workflow version "review-journal" at its default): requests are not
// signed, edits are checked in the validator, and the decisions travel to
// the commit inline. It is kept so those histories replay and those gates
// finish; new gates never take it.
func (d *datasetImpl) legacyReviewGate(ctx workflow.Context) (*ReviewCommit, error) {
	d.progress.Phase = "staging"
	actx := d.activityCtx(ctx, TaskQueueGenerate, 10*time.Minute, time.Minute)
	var st StageResult
	in := StageInput{ShardSet: ShardSet{PlanPath: d.st.Plan.PlanPath, Shards: d.st.Shards, Drops: d.st.Drops},
		Fraction: d.gate.opts.Fraction, ReviewRound: d.st.ReviewRound}
	if err := stageReview(actx, in).Get(ctx, &st); err != nil {
		return nil, err
	}
	if d.gate.opts.Policy == ReviewAuto {
		return &ReviewCommit{Policy: ReviewAuto, SamplePath: st.SamplePath, Summary: review.Summary{Sampled: st.Sampled}}, nil
	}
	sample, err := d.loadSample(ctx, st)
	if err != nil {
		return nil, err
	}
	d.gate.queue = review.NewQueue(review.Config{TwoReviewers: d.gate.opts.TwoReviewers, Threshold: d.gate.opts.Threshold}, sample)
	d.progress.Phase = "review"
	timedOut := false
	if s := d.gate.opts.DeadlineSeconds; s > 0 {
		at := workflow.Now(ctx).Add(time.Duration(s) * time.Second)
		d.gate.deadline = &at
		ok, err := workflow.AwaitWithTimeout(ctx, time.Duration(s)*time.Second, d.gate.queue.Done)
		if err != nil {
			return nil, err
		}
		timedOut = !ok
	} else if err := workflow.Await(ctx, d.gate.queue.Done); err != nil {
		return nil, err
	}
	d.progress.Phase = "releasing"
	if err := d.settle(ctx); err != nil {
		return nil, err
	}
	q := d.gate.queue
	rc := &ReviewCommit{Policy: ReviewRequired, SamplePath: st.SamplePath, Final: q.Final(), Rows: q.Rows(), Summary: q.Summary()}
	return d.releaseDecision(rc, timedOut)
}
