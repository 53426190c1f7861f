package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/schemas"
)

// samplePage is how many sampled records one LoadSample call returns, so each
// activity result stays well under Temporal's payload guidance.
const samplePage = 100

// gate is the review gate's state inside a DatasetWorkflow.
type gate struct {
	opts     ReviewOptions
	queue    *review.Queue
	check    review.CheckFunc
	deadline *time.Time
}

// reviewDefaults fills unset review options.
func reviewDefaults(o ReviewOptions) (ReviewOptions, error) {
	if o.Policy == "" {
		o.Policy = ReviewRequired
	}
	if o.Policy != ReviewRequired && o.Policy != ReviewAuto {
		return o, fmt.Errorf("review policy %q: want %s or %s", o.Policy, ReviewRequired, ReviewAuto)
	}
	if o.MaxRegenerations <= 0 {
		o.MaxRegenerations = 2
	}
	if o.Fraction <= 0 {
		o.Fraction = 0.10
	}
	if o.Threshold <= 0 {
		o.Threshold = review.DefaultThreshold
	}
	if o.OnDeadline == "" {
		o.OnDeadline = "fail"
	}
	if o.OnDeadline != "fail" && o.OnDeadline != "release" {
		return o, fmt.Errorf("review on_deadline %q: want fail or release", o.OnDeadline)
	}
	if o.Fraction > 1 || o.Threshold > 1 || o.DeadlineSeconds < 0 {
		return o, errors.New("review: fraction and threshold must be in (0, 1], deadline >= 0")
	}
	return o, nil
}

// registerReview registers the review updates and query. They exist for the
// whole run; the validators refuse decisions until the gate is open.
func (d *datasetImpl) registerReview(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, ReviewQuery, func() (ReviewStatus, error) {
		st := ReviewStatus{Phase: d.progress.Phase, Task: d.st.Plan.Task, Policy: d.gate.opts.Policy, DeadlineAt: d.gate.deadline,
			OnDeadline: d.gate.opts.OnDeadline, ReviewRound: d.st.ReviewRound}
		for _, e := range d.st.EarlierReviews {
			st.Earlier = append(st.Earlier, e.Summary)
		}
		if d.gate.queue != nil {
			st.Progress, st.Summary = d.gate.queue.Progress(), d.gate.queue.Summary()
		}
		return st, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, ReviewRecordQuery, func(id string) (RecordStatus, error) {
		if d.gate.queue == nil {
			return RecordStatus{}, nil
		}
		status, ok := d.gate.queue.Status(id)
		if !ok {
			return RecordStatus{}, nil
		}
		for i := range d.gate.queue.Items {
			if d.gate.queue.Items[i].Record.ID == id {
				rec := d.gate.queue.Items[i].Record
				return RecordStatus{Record: &rec, Status: status}, nil
			}
		}
		return RecordStatus{}, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ReviewLeaseUpdate,
		func(ctx workflow.Context, r LeaseRequest) (LeaseResult, error) {
			if d.progress.Phase != "review" {
				return LeaseResult{}, nil // the review just finished: nothing left
			}
			rec, err := d.gate.queue.Lease(r.Reviewer, workflow.Now(ctx))
			if errors.Is(err, review.ErrQueueEmpty) {
				return LeaseResult{}, nil
			}
			return LeaseResult{Record: rec}, reviewErr(err)
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r LeaseRequest) error {
			if d.gate.queue != nil && d.gate.queue.Done() && r.Reviewer != "" {
				return nil // answered with an empty lease
			}
			return d.gateOpen(r.Reviewer)
		}}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ReviewDecideUpdate,
		func(ctx workflow.Context, dec review.Decision) (review.Outcome, error) {
			dec.At = workflow.Now(ctx)
			return d.gate.queue.Apply(dec), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, dec review.Decision) error {
			if d.gate.queue != nil && d.gate.queue.Applied[dec.RequestID] != "" {
				return nil // a double submit: Apply answers with the first outcome
			}
			if err := d.gateOpen(dec.Reviewer); err != nil {
				return err
			}
			dec.At = workflow.Now(ctx)
			return reviewErr(d.gate.queue.Validate(dec, d.gate.check))
		}}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ReviewAdjudicateUpdate,
		func(ctx workflow.Context, dec review.Decision) (review.Outcome, error) {
			dec.At = workflow.Now(ctx)
			return d.gate.queue.Adjudicate(dec), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, dec review.Decision) error {
			if err := d.gateOpen(dec.Reviewer); err != nil {
				return err
			}
			dec.At = workflow.Now(ctx)
			return reviewErr(d.gate.queue.ValidateAdjudication(dec, d.gate.check))
		}}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, ReviewUndoUpdate,
		func(ctx workflow.Context, r UndoRequest) error {
			return reviewErr(d.gate.queue.Undo(r.Reviewer, r.RecordID, workflow.Now(ctx)))
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r UndoRequest) error {
			if err := d.gateOpen(r.Reviewer); err != nil {
				return err
			}
			return reviewErr(d.gate.queue.CanUndo(r.Reviewer, r.RecordID))
		}})
}

// gateOpen refuses review calls while the workflow is not waiting for review.
func (d *datasetImpl) gateOpen(reviewer string) error {
	if d.gate.queue == nil || d.progress.Phase != "review" {
		return temporal.NewApplicationError(fmt.Sprintf("dataset is not waiting for review (phase %s)", d.progress.Phase), "Review409")
	}
	if reviewer == "" {
		return temporal.NewApplicationError("reviewer is required", "Review422")
	}
	return nil
}

// reviewErr turns a review.DecisionError into an application error whose type
// carries the HTTP-like code ("Review404", "Review409", "Review422"), so that
// clients can map it back.
func reviewErr(err error) error {
	var de *review.DecisionError
	if errors.As(err, &de) {
		return temporal.NewApplicationError(de.Msg, fmt.Sprintf("Review%d", de.Code))
	}
	return err
}

// reviewGate stages the sample and, with policy required, waits until every
// sampled record is decided (or the deadline passes), then decides release.
func (d *datasetImpl) reviewGate(ctx workflow.Context) (*ReviewCommit, error) {
	d.progress.Phase = "staging"
	actx := d.activityCtx(ctx, TaskQueueGenerate, 10*time.Minute, time.Minute)
	var st StageResult
	in := MergeInput{PlanPath: d.st.Plan.PlanPath, Shards: d.st.Shards, Fraction: d.gate.opts.Fraction,
		Drops: d.st.Drops, ReviewRound: d.st.ReviewRound}
	if err := workflow.ExecuteActivity(actx, StageReviewActivityName, in).Get(ctx, &st); err != nil {
		return nil, err
	}
	if d.gate.opts.Policy == ReviewAuto {
		return &ReviewCommit{Policy: ReviewAuto, SamplePath: st.SamplePath, Summary: review.Summary{Sampled: st.Sampled}}, nil
	}
	sample, err := d.loadSample(ctx, st)
	if err != nil {
		return nil, err
	}
	if err := d.openGate(sample); err != nil {
		return nil, err
	}
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
	// Let decisions that were accepted finish before the state is read.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return nil, err
	}
	sum := d.gate.queue.Summary()
	rc := &ReviewCommit{Policy: ReviewRequired, SamplePath: st.SamplePath, Final: d.gate.queue.Final(),
		Rows: d.gate.queue.Rows(), Summary: sum}
	switch {
	case timedOut && d.gate.opts.OnDeadline == "release":
		rc.DeadlineReleased = true
		return rc, nil
	case timedOut:
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"review deadline passed with %d of %d sampled records decided", sum.Decided, sum.Sampled), "ReviewDeadline", nil)
	case !sum.Released:
		rc.Failed = true
	}
	return rc, nil
}

// reviewFailed is the error that ends a run whose review fell below the threshold.
func reviewFailed(sum review.Summary, rounds int) error {
	again := ""
	if rounds > 0 {
		again = fmt.Sprintf(" after %d regeneration(s) of rejected cells", rounds)
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"review failed%s: approval rate %.3f below threshold %.2f (error rate %.3f, 95%% CI %.3f-%.3f, %d rejected, %d edited of %d)",
		again, sum.ApprovalRate, sum.Threshold, sum.ErrorRate, sum.WilsonLow, sum.WilsonHigh, sum.Rejected, sum.Edited, sum.Decided),
		"ReviewFailed", nil)
}

// rejectedCells lists, in plan order, the cells with a rejected sampled record.
func (d *datasetImpl) rejectedCells(rc *ReviewCommit) []int {
	bad := map[string]bool{}
	for i := range d.gate.queue.Items {
		r := d.gate.queue.Items[i].Record
		if f, ok := rc.Final[r.ID]; ok && f.Kind == review.Reject {
			bad[r.Cell] = true
		}
	}
	var out []int
	for i, c := range d.st.Plan.Cells {
		if bad[c.Key] {
			out = append(out, i)
		}
	}
	return out
}

// regenerate discards the examples of every cell with a rejected record and
// queues the cells for generation anew; the next review samples again.
func (d *datasetImpl) regenerate(rc *ReviewCommit) {
	cells := d.rejectedCells(rc)
	if len(d.st.Regenerated) < len(d.st.Plan.Cells) {
		d.st.Regenerated = append(d.st.Regenerated, make([]int, len(d.st.Plan.Cells)-len(d.st.Regenerated))...)
	}
	for _, i := range cells {
		c := d.st.Plan.Cells[i]
		d.st.Drops = append(d.st.Drops, CellDrop{Cell: c.Key, BeforeRound: d.st.Round})
		d.st.Regenerated[i]++
		for _, split := range d.st.Plan.Splits {
			if q := c.Quota[split]; q > 0 {
				d.st.Pending = append(d.st.Pending, generator.Item{Cell: i, Split: split, Need: q})
			}
		}
	}
	prev := *rc
	prev.Earlier = nil
	d.st.EarlierReviews = append(d.st.EarlierReviews, prev)
	d.st.ReviewRound++
	d.gate.queue, d.gate.deadline = nil, nil
}

// loadSample pages the staged sample in.
func (d *datasetImpl) loadSample(ctx workflow.Context, st StageResult) ([]datasets.Record, error) {
	actx := d.activityCtx(ctx, TaskQueueGenerate, 2*time.Minute, 0)
	var sample []datasets.Record
	for off := 0; off < st.Sampled; off += samplePage {
		var page []datasets.Record
		in := LoadSampleInput{SamplePath: st.SamplePath, Offset: off, Limit: samplePage}
		if err := workflow.ExecuteActivity(actx, LoadSampleActivityName, in).Get(ctx, &page); err != nil {
			return nil, err
		}
		sample = append(sample, page...)
	}
	return sample, nil
}

// openGate builds the review queue and the edit checker (the generator's
// validator over the embedded catalog: pure, so safe in workflow code).
func (d *datasetImpl) openGate(sample []datasets.Record) error {
	//workflowcheck:ignore
	cat, err := schemas.Load()
	if err != nil {
		return err
	}
	spec := d.in.Spec
	//workflowcheck:ignore
	v := generator.NewValidator(cat, generator.ValidationConfig{MinInputChars: spec.MinInputChars,
		MaxInputChars: spec.MaxInputChars, CheckGrounding: true})
	d.gate.check = review.ValidatorCheck(v)
	d.gate.queue = review.NewQueue(review.Config{TwoReviewers: d.gate.opts.TwoReviewers, Threshold: d.gate.opts.Threshold}, sample)
	return nil
}
