package workflows

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/validate"
	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/schemas"
)

// samplePage is how many sampled records one LoadSample call returns, so each
// activity result stays well under Temporal's payload guidance.
const samplePage = 100

// Journal pages: what one SaveReviewOps or LoadReviewOps call carries.
const (
	opsPageOps   = 100
	opsPageBytes = 512 << 10
)

// A gate run hands over to the next (continue-as-new) well before Temporal's
// limits: the server refuses updates past 2,000 per run and fails a
// workflow past 51,200 events or 50 MB of history.
const (
	reviewUpdatesPerRun = 1500
	historyEventsPerRun = 20000
	historyBytesPerRun  = 24 << 20
	// keysEvery is how often a waiting gate reads the reviewers store again,
	// so a removed reviewer is locked out within it even if nobody reloads.
	keysEvery = 10 * time.Minute
)

// reviewGate stages the sample and, with policy required, waits until every
// sampled record is decided (or the deadline passes), then decides release.
func (d *datasetImpl) reviewGate(ctx workflow.Context) (*ReviewCommit, error) {
	if workflow.GetVersion(ctx, "review-journal", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return d.legacyReviewGate(ctx)
	}
	d.gate.signed = true
	if d.st.Review == nil {
		st, err := d.stage(ctx)
		if err != nil {
			return nil, err
		}
		if d.gate.opts.Policy == ReviewAuto {
			return &ReviewCommit{Policy: ReviewAuto, SamplePath: st.SamplePath, Summary: review.Summary{Sampled: st.Sampled}}, nil
		}
		if st.Sampled > MaxRequiredSample {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the review sample has %d records, more than the %d a "+
				"required review takes: lower --review-fraction or use --review auto", st.Sampled, MaxRequiredSample), ErrInvalidSpec, nil)
		}
		rs := &ReviewState{SamplePath: st.SamplePath, Sampled: st.Sampled,
			OpsDir: filepath.Join(d.st.Plan.RunDir, fmt.Sprintf("review-%d", d.st.ReviewRound)), Clock: workflow.Now(ctx)}
		if s := d.gate.opts.DeadlineSeconds; s > 0 {
			at := workflow.Now(ctx).Add(time.Duration(s) * time.Second)
			rs.DeadlineAt = &at
		}
		d.st.Review = rs
	}
	if err := d.openSignedGate(ctx); err != nil {
		return nil, err
	}
	d.progress.Phase = "review"
	timedOut, err := d.waitReview(ctx)
	if err != nil {
		return nil, err
	}
	d.progress.Phase = "releasing"
	if err := d.flushJournal(ctx); err != nil {
		return nil, err
	}
	rs, q := d.st.Review, d.gate.queue
	cfg := q.Config
	cfg.Journal = false
	rc := &ReviewCommit{Policy: ReviewRequired, SamplePath: rs.SamplePath, Config: cfg, OpsDir: rs.OpsDir, OpsParts: rs.OpsParts,
		Summary: q.Summary()}
	d.st.Review = nil
	return d.releaseDecision(rc, timedOut)
}

// releaseDecision turns the gate's outcome into the commit, a failed review
// to regenerate, or the deadline's error.
func (d *datasetImpl) releaseDecision(rc *ReviewCommit, timedOut bool) (*ReviewCommit, error) {
	sum := rc.Summary
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

// stage runs StageReview for the current review round.
func (d *datasetImpl) stage(ctx workflow.Context) (StageResult, error) {
	d.progress.Phase = "staging"
	actx := d.activityCtx(ctx, TaskQueueGenerate, 10*time.Minute, time.Minute)
	var st StageResult
	in := StageInput{ShardSet: d.shards(), Fraction: d.gate.opts.Fraction, ReviewRound: d.st.ReviewRound}
	err := stageReview(actx, in).Get(ctx, &st)
	return st, err
}

// openSignedGate rebuilds the gate of d.st.Review: the sample paged in, the
// journal of earlier runs replayed, leases and clock restored, reviewers'
// keys loaded.
func (d *datasetImpl) openSignedGate(ctx workflow.Context) error {
	rs := d.st.Review
	sample, err := d.loadSample(ctx, StageResult{SamplePath: rs.SamplePath, Sampled: rs.Sampled})
	if err != nil {
		return err
	}
	q := review.NewQueue(review.Config{TwoReviewers: d.gate.opts.TwoReviewers, Threshold: d.gate.opts.Threshold, Journal: true}, sample)
	actx := d.activityCtx(ctx, TaskQueueGenerate, 2*time.Minute, 0)
	total := 1
	for off := 0; off < total; {
		var page LoadReviewOpsResult
		in := LoadReviewOpsInput{Dir: rs.OpsDir, Parts: rs.OpsParts, Offset: off, Limit: opsPageOps}
		if err := loadReviewOps(actx, in).Get(ctx, &page); err != nil {
			return err
		}
		for _, op := range page.Ops {
			if err := q.Replay(op); err != nil {
				return temporal.NewNonRetryableApplicationError("review journal "+rs.OpsDir+": "+err.Error(), ErrPermanent, err)
			}
		}
		total, off = page.Total, off+len(page.Ops)
		if len(page.Ops) == 0 {
			break
		}
	}
	q.Leases, q.Clock = rs.Leases, rs.Clock
	d.gate.queue, d.gate.deadline = q, rs.DeadlineAt
	return d.loadKeys(ctx)
}

// waitReview waits until every record is decided (false) or the deadline
// passes (true), reloading reviewers' keys every keysEvery, and hands over to
// the next run when this one has taken enough updates or history.
func (d *datasetImpl) waitReview(ctx workflow.Context) (timedOut bool, err error) {
	q := d.gate.queue
	for !q.Done() {
		wait := keysEvery
		if d.gate.deadline != nil {
			left := d.gate.deadline.Sub(workflow.Now(ctx))
			if left <= 0 {
				return true, d.settle(ctx)
			}
			wait = min(wait, left)
		}
		moved, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return q.Done() || d.shouldMove(ctx) })
		if err != nil {
			return false, err
		}
		switch {
		case q.Done():
		case moved:
			return false, d.moveOn(ctx)
		case d.gate.deadline == nil || workflow.Now(ctx).Before(*d.gate.deadline):
			if err := d.loadKeys(ctx); err != nil {
				return false, err
			}
		}
	}
	return false, d.settle(ctx)
}

// settle lets the decisions that were accepted finish before the state is read.
func (d *datasetImpl) settle(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// shouldMove reports whether this gate run has taken enough updates or
// history to hand over to the next. A run that accepted nothing yet never
// moves: the sample and journal it paged in must not make it move again.
func (d *datasetImpl) shouldMove(ctx workflow.Context) bool {
	if d.gate.updates == 0 || d.gate.moving {
		return false
	}
	info := workflow.GetInfo(ctx)
	events, updates := d.in.Limits.HistoryEvents, d.in.Limits.ReviewUpdates
	if events <= 0 {
		events = historyEventsPerRun
	}
	if updates <= 0 {
		updates = reviewUpdatesPerRun
	}
	return d.gate.updates >= updates || info.GetCurrentHistoryLength() >= events ||
		info.GetCurrentHistorySize() >= historyBytesPerRun || info.GetContinueAsNewSuggested() && d.gate.updates >= 200
}

// moveOn hands the gate over to the next run: new requests are refused as
// retryable, the ones accepted finish, this run's journal is saved, and the
// workflow continues-as-new with the gate's state by reference.
func (d *datasetImpl) moveOn(ctx workflow.Context) error {
	d.gate.moving = true
	if err := d.settle(ctx); err != nil {
		return err
	}
	if err := d.flushJournal(ctx); err != nil {
		return err
	}
	rs := d.st.Review
	rs.Leases, rs.Clock = d.gate.queue.Leases, d.gate.queue.Clock
	rs.Runs++
	next := d.in
	st := d.st
	next.State = &st
	return workflow.NewContinueAsNewError(ctx, DatasetWorkflowName, next)
}

// flushJournal saves the ops this run applied as the next journal segment,
// in parts of bounded size.
func (d *datasetImpl) flushJournal(ctx workflow.Context) error {
	ops := d.gate.queue.TakeJournal()
	if len(ops) == 0 {
		return nil
	}
	rs := d.st.Review
	actx := d.activityCtx(ctx, TaskQueueGenerate, 2*time.Minute, 0)
	segment, parts := len(rs.OpsParts), 0
	for start := 0; start < len(ops); {
		end, size := start, 0
		for end < len(ops) && end-start < opsPageOps {
			//workflowcheck:ignore (encoding a struct is deterministic)
			b, err := json.Marshal(ops[end])
			if err != nil {
				return fmt.Errorf("encode review op %d: %w", ops[end].Seq, err)
			}
			if end > start && size+len(b) > opsPageBytes {
				break
			}
			size += len(b)
			end++
		}
		in := SaveReviewOpsInput{Dir: rs.OpsDir, Segment: segment, Part: parts, Ops: ops[start:end]}
		if err := saveReviewOps(actx, in).Get(ctx, nil); err != nil {
			return err
		}
		parts, start = parts+1, end
	}
	rs.OpsParts = append(rs.OpsParts, parts)
	return nil
}

// loadKeys reads the reviewers' public keys from the store.
func (d *datasetImpl) loadKeys(ctx workflow.Context) error {
	actx := d.activityCtx(ctx, TaskQueueGenerate, time.Minute, 0)
	var res ReviewersResult
	if err := loadReviewers(actx).Get(ctx, &res); err != nil {
		return err
	}
	d.gate.keys = make(map[string]string, len(res.Keys))
	for _, k := range res.Keys {
		d.gate.keys[k.Name] = k.PublicKey
	}
	d.gate.keysAt = workflow.Now(ctx)
	return nil
}

// checkEdit re-validates an edit with the CheckEdit local activity: the
// catalog and the validator are heavy, and workflow code must stay cheap.
func (d *datasetImpl) checkEdit(ctx workflow.Context, dec review.Decision) error {
	v, ok := d.gate.queue.View(dec.RecordID)
	if !ok {
		return temporal.NewApplicationError(fmt.Sprintf("record %q is not in this review sample", dec.RecordID), "Review404")
	}
	input, target := review.Edited(v.Record, dec)
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3}})
	var res CheckEditResult
	in := CheckEditInput{Record: v.Record, Input: input, Target: target, MinInputChars: d.in.Spec.MinInputChars,
		MaxInputChars: d.in.Spec.MaxInputChars}
	if err := checkEditLocal(lctx, in).Get(ctx, &res); err != nil {
		return err
	}
	if res.Error != "" {
		return temporal.NewApplicationError("the edited record fails validation: "+res.Error, "Review422")
	}
	return nil
}

// loadSample pages the staged sample in.
func (d *datasetImpl) loadSample(ctx workflow.Context, st StageResult) ([]datasets.Record, error) {
	actx := d.activityCtx(ctx, TaskQueueGenerate, 2*time.Minute, 0)
	var sample []datasets.Record
	for off := 0; off < st.Sampled; off += samplePage {
		var page []datasets.Record
		in := LoadSampleInput{SamplePath: st.SamplePath, Offset: off, Limit: samplePage}
		if err := loadSample(actx, in).Get(ctx, &page); err != nil {
			return nil, err
		}
		sample = append(sample, page...)
	}
	return sample, nil
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
func (d *datasetImpl) rejectedCells() []int {
	bad := map[string]bool{}
	final := d.gate.queue.Final()
	for i := range d.gate.queue.Items {
		r := d.gate.queue.Items[i].Record
		if f, ok := final[r.ID]; ok && f.Kind == review.Reject {
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
	cells := d.rejectedCells()
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

// legacyEditCheck is the edit check of a legacy gate's validator (nil for
// signed gates, whose handler checks edits with CheckEdit). It loads the
// catalog in workflow code, once per process, which only gates opened
// before the signed gate still do.
func (d *datasetImpl) legacyEditCheck() review.CheckFunc {
	if d.gate.signed {
		return nil
	}
	if d.gate.legacyCheck == nil {
		//workflowcheck:ignore
		cat, err := schemas.Load()
		if err != nil {
			return func(datasets.Record, string, json.RawMessage) error { return err }
		}
		spec := d.in.Spec
		//workflowcheck:ignore
		v := validate.New(cat, validate.Config{MinInputChars: spec.MinInputChars,
			MaxInputChars: spec.MaxInputChars, CheckGrounding: true})
		d.gate.legacyCheck = review.ValidatorCheck(v)
	}
	return d.gate.legacyCheck
}
