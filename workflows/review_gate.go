package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cyclecore/mlmforge/review"
)

// gate is the review gate's state inside a DatasetWorkflow.
type gate struct {
	opts     ReviewOptions
	queue    *review.Queue
	deadline *time.Time
	// signed is set for gates opened by this version of the workflow:
	// requests are signed and checked against keys, edits are checked by the
	// CheckEdit local activity, decisions go to a journal by reference, and
	// the gate continues-as-new before its history grows too long. Gates
	// opened before keep their rules until they finish (legacy.go).
	signed bool
	// keys maps reviewer names to public keys, as last loaded at keysAt.
	keys   map[string]string
	keysAt time.Time
	// moving is set while the gate hands over to its next run: new requests
	// are refused as retryable (Review503).
	moving bool
	// updates counts the updates this run accepted.
	updates int
	// legacyCheck re-validates edits of legacy gates, built on first use.
	legacyCheck review.CheckFunc
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

// registerReview registers the review updates and queries. They exist for
// the whole run; the validators refuse requests until the gate is open.
func (d *datasetImpl) registerReview(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, ReviewQuery, d.reviewStatus); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, ReviewRecordQuery, func(id string) (RecordStatus, error) {
		if d.gate.queue == nil {
			return RecordStatus{}, nil
		}
		v, ok := d.gate.queue.View(id)
		if !ok {
			return RecordStatus{}, nil
		}
		return RecordStatus{Record: &v.Record, Status: v.Status, Decisions: v.Decisions}, nil
	}); err != nil {
		return err
	}
	updates := []struct {
		name      string
		handler   any
		validator any
	}{
		{ReviewLeaseUpdate, d.lease, d.validateLease},
		{ReviewDecideUpdate, func(ctx workflow.Context, r DecideRequest) (review.Outcome, error) { return d.decide(ctx, r, false) },
			func(ctx workflow.Context, r DecideRequest) error { return d.validateDecide(ctx, r, false) }},
		{ReviewAdjudicateUpdate, func(ctx workflow.Context, r DecideRequest) (review.Outcome, error) { return d.decide(ctx, r, true) },
			func(ctx workflow.Context, r DecideRequest) error { return d.validateDecide(ctx, r, true) }},
		{ReviewUndoUpdate, d.undo, d.validateUndo},
		{ReviewReloadUpdate, d.reload, d.validateReload},
	}
	for _, u := range updates {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler,
			workflow.UpdateHandlerOptions{Validator: u.validator}); err != nil {
			return err
		}
	}
	return nil
}

// reviewStatus answers the review query.
func (d *datasetImpl) reviewStatus() (ReviewStatus, error) {
	st := ReviewStatus{Phase: d.progress.Phase, Task: d.st.Plan.Task, Policy: d.gate.opts.Policy, DeadlineAt: d.gate.deadline,
		OnDeadline: d.gate.opts.OnDeadline, ReviewRound: d.st.ReviewRound}
	for _, e := range d.st.EarlierReviews {
		st.Earlier = append(st.Earlier, e.Summary)
	}
	if d.gate.queue != nil {
		st.Progress, st.Summary = d.gate.queue.Progress(), d.gate.queue.Summary()
	}
	st.Reviewers = workflow.DeterministicKeys(d.gate.keys)
	return st, nil
}

// gateOpen refuses review calls while the workflow is not waiting for review.
func (d *datasetImpl) gateOpen(reviewer string) error {
	// A gate that moved to this run has its review state but is still
	// paging in its sample and journal (phase planning, its queue partly
	// built): that is a move, which a retry gets past, not a 409.
	opening := d.st.Review != nil && d.progress.Phase != "review" && d.progress.Phase != "releasing"
	if d.gate.moving || opening {
		return temporal.NewApplicationError("the review gate is moving to its next run; retry in a moment", ReviewMoving)
	}
	if d.gate.queue == nil || d.progress.Phase != "review" {
		return temporal.NewApplicationError(fmt.Sprintf("dataset is not waiting for review (phase %s)", d.progress.Phase), "Review409")
	}
	if reviewer == "" {
		return temporal.NewApplicationError("reviewer is required", "Review422")
	}
	return nil
}

// authorize checks a signed request of a signed gate: its bounds, the
// reviewer's key, the signature over the request for this workflow and
// update, and, for requests that carry one, how old it is.
func (d *datasetImpl) authorize(ctx workflow.Context, update, reviewer string, body []byte, sig string, at *time.Time) error {
	if !d.gate.signed {
		return nil
	}
	if err := review.CheckRequestBounds(reviewer, "", ""); err != nil {
		return reviewErr(err)
	}
	if len(sig) > review.MaxSignatureBytes {
		return temporal.NewApplicationError("signature is too long", "Review413")
	}
	key, ok := d.gate.keys[reviewer]
	if !ok {
		return temporal.NewApplicationError(fmt.Sprintf("reviewer %q is not in the reviewers store this gate loaded "+
			"(mlmforge review add-reviewer adds one; the gate reloads the store on the next try)", reviewer), ReviewUnauthorized)
	}
	if !review.VerifySignature(key, workflow.GetInfo(ctx).WorkflowExecution.ID, update, body, sig) {
		return temporal.NewApplicationError(fmt.Sprintf("the request is not signed with reviewer %q's token "+
			"(pass the token with --token or MLMFORGE_REVIEW_TOKEN)", reviewer), ReviewUnauthorized)
	}
	if at != nil {
		now := workflow.Now(ctx)
		if at.IsZero() || at.Before(now.Add(-RequestMaxAge)) || at.After(now.Add(RequestMaxAge)) {
			return temporal.NewApplicationError(fmt.Sprintf("the request was made at %s, more than %s from the gate's clock %s",
				at.UTC().Format(time.RFC3339), RequestMaxAge, now.UTC().Format(time.RFC3339)), ReviewUnauthorized)
		}
	}
	return nil
}

// reviewErr turns a review.DecisionError into an application error whose type
// carries the HTTP-like code ("Review404", "Review409", "Review413",
// "Review422"), so that clients can map it back.
func reviewErr(err error) error {
	var de *review.DecisionError
	if errors.As(err, &de) {
		return temporal.NewApplicationError(de.Msg, fmt.Sprintf("%s%d", ReviewErrorPrefix, de.Code))
	}
	return err
}

func (d *datasetImpl) validateLease(ctx workflow.Context, r LeaseRequest) error {
	if d.gate.queue != nil && d.gate.queue.Done() && r.Reviewer != "" && !d.gate.moving {
		// Answered with an empty lease.
		return d.authorize(ctx, ReviewLeaseUpdate, r.Reviewer, r.SigningBytes(), r.Signature, &r.At)
	}
	if err := d.gateOpen(r.Reviewer); err != nil {
		return err
	}
	return d.authorize(ctx, ReviewLeaseUpdate, r.Reviewer, r.SigningBytes(), r.Signature, &r.At)
}

func (d *datasetImpl) lease(ctx workflow.Context, r LeaseRequest) (LeaseResult, error) {
	d.gate.updates++
	if d.progress.Phase != "review" {
		return LeaseResult{}, nil // the review just finished: nothing left
	}
	rec, err := d.gate.queue.Lease(r.Reviewer, workflow.Now(ctx))
	if errors.Is(err, review.ErrQueueEmpty) {
		return LeaseResult{}, nil
	}
	return LeaseResult{Record: rec}, reviewErr(err)
}

func (d *datasetImpl) validateDecide(ctx workflow.Context, r DecideRequest, adjudicate bool) error {
	name := ReviewDecideUpdate
	if adjudicate {
		name = ReviewAdjudicateUpdate
	}
	if d.gate.signed && d.gate.queue != nil && !d.gate.moving && r.Reviewer != "" && d.gate.queue.IsRetry(r.Decision) {
		// A retry of a decision already applied (the client lost the first
		// answer) gets that answer, also once the last decision closed the
		// gate and the dataset is releasing; the handler changes nothing.
		return d.authorize(ctx, name, r.Reviewer, r.SigningBytes(), r.Signature, nil)
	}
	if err := d.gateOpen(r.Reviewer); err != nil {
		return err
	}
	if err := d.authorize(ctx, name, r.Reviewer, r.SigningBytes(), r.Signature, nil); err != nil {
		return err
	}
	dec := r.Decision
	dec.At = workflow.Now(ctx)
	check := d.legacyEditCheck()
	if adjudicate {
		return reviewErr(d.gate.queue.ValidateAdjudication(dec, check))
	}
	return reviewErr(d.gate.queue.Validate(dec, check))
}

// decide applies a decision or adjudication. A signed gate re-validates an
// edit with the CheckEdit local activity first, and answers a decision that
// no longer fits the state (another request won the record meanwhile) with
// a Review409 error.
func (d *datasetImpl) decide(ctx workflow.Context, r DecideRequest, adjudicate bool) (review.Outcome, error) {
	d.gate.updates++
	dec := r.Decision
	if d.gate.signed && dec.Kind == review.Edit && !d.gate.queue.IsRetry(dec) {
		if err := d.checkEdit(ctx, dec); err != nil {
			return review.Outcome{}, err
		}
	}
	dec.At = workflow.Now(ctx)
	var out review.Outcome
	if adjudicate {
		out = d.gate.queue.Adjudicate(dec)
	} else {
		out = d.gate.queue.Apply(dec)
	}
	if out.Error != "" && d.gate.signed {
		return out, temporal.NewApplicationError(out.Error, "Review409")
	}
	return out, nil
}

func (d *datasetImpl) validateUndo(ctx workflow.Context, r UndoRequest) error {
	if err := d.gateOpen(r.Reviewer); err != nil {
		return err
	}
	if err := d.authorize(ctx, ReviewUndoUpdate, r.Reviewer, r.SigningBytes(), r.Signature, &r.At); err != nil {
		return err
	}
	if err := review.CheckRequestBounds(r.Reviewer, r.RecordID, r.RequestID); err != nil {
		return reviewErr(err)
	}
	if r.RequestID != "" && d.gate.queue.Applied[requestKey(r.Reviewer, r.RequestID)].Status != "" {
		return nil // a retried undo: nothing to do
	}
	return reviewErr(d.gate.queue.CanUndo(r.Reviewer, r.RecordID))
}

func (d *datasetImpl) undo(ctx workflow.Context, r UndoRequest) error {
	d.gate.updates++
	_, err := d.gate.queue.UndoRequest(r.RequestID, r.Reviewer, r.RecordID, workflow.Now(ctx))
	return reviewErr(err)
}

func (d *datasetImpl) validateReload(ctx workflow.Context) error {
	if !d.gate.signed {
		return temporal.NewApplicationError("this review gate does not check signed requests", "Review409")
	}
	return d.gateOpen("-")
}

// reload reads the reviewers store again, at most once per reloadEvery
// (a reload right after another answers with the keys already loaded).
func (d *datasetImpl) reload(ctx workflow.Context) (ReloadResult, error) {
	d.gate.updates++
	if workflow.Now(ctx).Sub(d.gate.keysAt) >= reloadEvery {
		if err := d.loadKeys(ctx); err != nil {
			return ReloadResult{}, err
		}
	}
	st, _ := d.reviewStatus()
	return ReloadResult{Reviewers: st.Reviewers}, nil
}

// reloadEvery rate-limits reloads of the reviewers store.
const reloadEvery = 2 * time.Second

// requestKey is review's key of a reviewer's request id.
func requestKey(reviewer, requestID string) string { return review.RequestKey(reviewer, requestID) }
