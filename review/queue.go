package review

import (
	"errors"
	"slices"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
)

// ErrQueueEmpty is returned by Lease when no record is left for the reviewer
// right now: all are decided by him, final, awaiting adjudication or leased
// by others (a lease that expires puts its record back).
var ErrQueueEmpty = errors.New("no record left to review")

// Config tunes a review. Zero fields take the defaults.
type Config struct {
	// TwoReviewers asks for two decisions per record by different reviewers;
	// when they disagree an adjudicator settles the record.
	TwoReviewers bool `json:"two_reviewers,omitempty"`
	// Journal makes the queue keep the ops it applies for TakeJournal.
	Journal bool `json:"journal,omitempty"`
	// LeaseTTL is how long a leased record stays reserved for its reviewer
	// (default 10m): long enough to read a record, short enough that a closed
	// browser tab does not hide a record for long.
	LeaseTTL time.Duration `json:"lease_ttl"`
	// Threshold is the approval rate a release needs (default 0.9).
	Threshold float64 `json:"threshold"`
}

// Defaults of Config.
const (
	DefaultLeaseTTL  = 10 * time.Minute
	DefaultThreshold = 0.9
)

func (c Config) withDefaults() Config {
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.Threshold <= 0 {
		c.Threshold = DefaultThreshold
	}
	return c
}

// Entry is a decision in force, numbered in the order decisions were applied.
type Entry struct {
	// Decision is the decision as applied (edit target compacted).
	Decision Decision `json:"decision"`
	// Seq orders decisions across the queue (1, 2, ...).
	Seq int `json:"seq"`
}

// Item is one sampled record and the decisions in force on it.
type Item struct {
	// Record is the sampled record, ReviewStatus set to pending.
	Record datasets.Record `json:"record"`
	// Reviews are the reviewers' decisions in force, in order: at most one in
	// single-reviewer mode, two by different reviewers in two-reviewer mode.
	Reviews []Entry `json:"reviews,omitempty"`
	// Adjudication settles a two-reviewer disagreement.
	Adjudication *Entry `json:"adjudication,omitempty"`
}

// Queue is the review state of one sample. A workflow keeps it in its state
// (it is plain JSON) and mutates it only from its update handlers: Lease,
// Apply, Undo, Adjudicate. Validate, ValidateAdjudication and CanUndo never
// mutate, so they can serve as update validators.
type Queue struct {
	// Config is the configuration with defaults filled in.
	Config Config `json:"config"`
	// Items are the sampled records in sample order.
	Items []Item `json:"items"`
	// Leases are the leases held, oldest first; a reviewer holds at most one.
	Leases []Lease `json:"leases,omitempty"`
	// Applied maps every applied request, by reviewer and RequestID (see
	// requestKey), to what it did (kept after an undo, so a late retry of an
	// undone request stays a no-op). Request ids are scoped per reviewer: one
	// reviewer's id never answers for another's decision.
	Applied map[string]AppliedRequest `json:"applied,omitempty"`
	// Seq is the number of the last decision applied.
	Seq int `json:"seq"`
	// Clock is the latest time the queue was given; it never goes back, so a
	// caller's earlier timestamp cannot revive an expired lease.
	Clock time.Time `json:"clock"`

	index   map[string]int // record id -> Items index, rebuilt after unmarshalling
	journal []Op           // changes since the last TakeJournal, when Config.Journal is set
}

// AppliedRequest is what an applied request did.
type AppliedRequest struct {
	// Status is the record's status right after the request.
	Status string `json:"status"`
	// Fingerprint is the decision's Fingerprint (empty for an undo): a
	// retry must say the same thing.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// requestKey scopes a request id to its reviewer.
func requestKey(reviewer, requestID string) string { return reviewer + "\x00" + requestID }

// replayed looks d's request up: ok when the same reviewer applied the same
// request id before, with a CodeConflict error when it said something else.
func (q *Queue) replayed(d Decision) (AppliedRequest, bool, *DecisionError) {
	if d.RequestID == "" {
		return AppliedRequest{}, false, nil
	}
	a, ok := q.Applied[requestKey(d.Reviewer, d.RequestID)]
	if !ok {
		return AppliedRequest{}, false, nil
	}
	if a.Fingerprint != d.Fingerprint() {
		return a, true, errorf(CodeConflict, "request id %q was already used by %s for a different decision; "+
			"send a new request id for a new decision", d.RequestID, d.Reviewer)
	}
	return a, true, nil
}

// NewQueue starts the review of sample, in the order given (SelectSample's
// order). A repeated record id is kept once.
func NewQueue(cfg Config, sample []datasets.Record) *Queue {
	q := &Queue{Config: cfg.withDefaults(), Applied: map[string]AppliedRequest{}, index: map[string]int{}}
	for _, rec := range sample {
		if _, dup := q.index[rec.ID]; dup {
			continue
		}
		rec.ReviewStatus = datasets.ReviewPending
		q.index[rec.ID] = len(q.Items)
		q.Items = append(q.Items, Item{Record: rec})
	}
	return q
}

// find returns the item of a record id.
func (q *Queue) find(id string) (*Item, bool) {
	if len(q.index) != len(q.Items) {
		q.index = make(map[string]int, len(q.Items))
		for i := range q.Items {
			q.index[q.Items[i].Record.ID] = i
		}
	}
	i, ok := q.index[id]
	if !ok {
		return nil, false
	}
	return &q.Items[i], true
}

// need is the number of reviews a record needs.
func (q *Queue) need() int {
	if q.Config.TwoReviewers {
		return 2
	}
	return 1
}

// status is an item's status: pending, pending_second_review,
// needs_adjudication, or the final approved, rejected, edited.
func (q *Queue) status(it *Item) string {
	if it.Adjudication != nil {
		return statusOf(it.Adjudication.Decision.Kind)
	}
	switch n := len(it.Reviews); {
	case n == 0:
		return StatusPending
	case n < q.need():
		return StatusPendingSecond
	case n == 1 || agree(it.Record, it.Reviews[0].Decision, it.Reviews[1].Decision):
		return statusOf(it.Reviews[0].Decision.Kind)
	}
	return StatusNeedsAdjudication
}

// isFinal reports whether a status is a final decision.
func isFinal(status string) bool {
	return status == StatusApproved || status == StatusRejected || status == StatusEdited
}

// reviewBy is the index in it.Reviews of reviewer's decision, or -1.
func reviewBy(it *Item, reviewer string) int {
	return slices.IndexFunc(it.Reviews, func(e Entry) bool { return e.Decision.Reviewer == reviewer })
}

// isOpen reports whether a record in this status still takes reviews.
func isOpen(status string) bool { return status == StatusPending || status == StatusPendingSecond }

// admit finds why the state does not allow d (404, 409), without mutating.
func (q *Queue) admit(d Decision) *DecisionError {
	it, ok := q.find(d.RecordID)
	if !ok {
		return errorf(CodeNotFound, "record %q is not in this review sample", d.RecordID)
	}
	if i := reviewBy(it, d.Reviewer); i >= 0 {
		return errorf(CodeConflict, "you already decided record %q (%s, request %s); undo it first to change it",
			d.RecordID, it.Reviews[i].Decision.Kind, it.Reviews[i].Decision.RequestID)
	}
	switch st := q.status(it); {
	case st == StatusNeedsAdjudication:
		return errorf(CodeConflict, "record %q awaits adjudication", d.RecordID)
	case isFinal(st):
		return errorf(CodeConflict, "record %q is already decided (%s)", d.RecordID, st)
	}
	if q.open(it, d.Reviewer, q.now(d.At)) <= 0 {
		return errorf(CodeConflict, "record %q is leased by %s", d.RecordID, q.holders(d.RecordID, d.Reviewer, q.now(d.At)))
	}
	return nil
}

// Validate is the update validator of a reviewer's decision; it never
// mutates. A RequestID the same reviewer applied before is accepted when it
// says the same (Apply returns its first outcome) and refused with
// CodeConflict when it says something else. Otherwise it returns a
// *DecisionError: CodeTooLarge for a field over its bound, CodeInvalid for a
// malformed decision, CodeNotFound for a record outside the sample,
// CodeConflict when the reviewer decided the record already, it is final or
// awaits adjudication, or another reviewer holds its lease (at d.At), and
// CodeInvalid when an edit changes nothing or check rejects it, with check's
// message. A nil check skips re-validation.
func (q *Queue) Validate(d Decision, check CheckFunc) error {
	return q.validate(d, check, q.admit)
}

// validate is Validate and ValidateAdjudication: d's form, a retry of a
// request applied before (accepted), what admit says of the state, then
// check on an edit.
func (q *Queue) validate(d Decision, check CheckFunc, admit func(Decision) *DecisionError) error {
	if err := checkForm(d); err != nil {
		return err
	}
	if _, dup, err := q.replayed(d); err != nil {
		return err
	} else if dup {
		return nil
	}
	if err := admit(d); err != nil {
		return err
	}
	it, _ := q.find(d.RecordID)
	if err := checkEdit(it.Record, d, check); err != nil {
		return err
	}
	return nil
}

// Apply applies a decision that Validate accepted and releases the
// reviewer's lease on the record. A request the same reviewer applied before
// changes nothing and returns its first status with Duplicate set. A
// decision that does not fit the state (Validate skipped) changes nothing
// and returns Error.
func (q *Queue) Apply(d Decision) Outcome {
	return q.apply(d, q.admit, q.applyReview)
}

// apply is Apply and Adjudicate: a retry answers with its first status; a
// decision of bad form or one that admit refuses changes nothing; any other
// is recorded by record.
func (q *Queue) apply(d Decision, admit func(Decision) *DecisionError, record func(Decision, string) *Item) Outcome {
	err := checkForm(d)
	if err == nil {
		if a, dup, derr := q.replayed(d); derr != nil {
			err = derr
		} else if dup {
			return Outcome{Status: a.Status, Duplicate: true, Progress: q.Progress()}
		}
	}
	if err == nil {
		err = admit(d)
	}
	if err != nil {
		return q.refused(d.RecordID, err)
	}
	it := record(d, d.Fingerprint())
	return Outcome{Status: q.status(it), Progress: q.Progress()}
}

// applyReview records an admitted review, journals it and returns its item.
func (q *Queue) applyReview(d Decision, fingerprint string) *Item {
	q.tick(d.At)
	it, _ := q.find(d.RecordID)
	q.Seq++
	d = normalized(d)
	it.Reviews = append(it.Reviews, Entry{Decision: d, Seq: q.Seq})
	q.release(d.Reviewer, d.RecordID)
	q.applied(d.Reviewer, d.RequestID, fingerprint, it)
	q.record(Op{Type: OpDecide, Seq: q.Seq, Decision: &d, Fingerprint: fingerprint})
	return it
}

// applied records what a request did.
func (q *Queue) applied(reviewer, requestID, fingerprint string, it *Item) {
	if q.Applied == nil {
		q.Applied = map[string]AppliedRequest{}
	}
	q.Applied[requestKey(reviewer, requestID)] = AppliedRequest{Status: q.status(it), Fingerprint: fingerprint}
}

// refused is the outcome of a decision that was not applied.
func (q *Queue) refused(id string, err *DecisionError) Outcome {
	out := Outcome{Error: err.Msg, Progress: q.Progress()}
	if it, ok := q.find(id); ok {
		out.Status = q.status(it)
	}
	return out
}

// Status returns a record's status: pending, pending_second_review,
// needs_adjudication, approved, rejected or edited; ok is false for a record
// outside the sample.
func (q *Queue) Status(id string) (status string, ok bool) {
	it, ok := q.find(id)
	if !ok {
		return "", false
	}
	return q.status(it), true
}

// Done reports whether every sampled record has a final decision.
func (q *Queue) Done() bool {
	for i := range q.Items {
		if !isFinal(q.status(&q.Items[i])) {
			return false
		}
	}
	return true
}

// Final maps each record id with a final decision to what the release does
// with it. Callers that iterate it should sort the keys.
func (q *Queue) Final() map[string]FinalDecision {
	out := map[string]FinalDecision{}
	for i := range q.Items {
		it := &q.Items[i]
		st := q.status(it)
		if !isFinal(st) {
			continue
		}
		e := it.Reviews[0]
		if it.Adjudication != nil {
			e = *it.Adjudication
		}
		d := e.Decision
		fd := FinalDecision{Kind: d.Kind, Status: st, Reason: d.Reason, Reviewer: d.Reviewer, Adjudicated: it.Adjudication != nil}
		if d.Kind == Edit {
			fd.Input, fd.Target = edited(it.Record, d)
		}
		out[it.Record.ID] = fd
	}
	return out
}

// RecordView is a sampled record, its status and the decisions in force on it.
type RecordView struct {
	// Record is a copy of the sampled record.
	Record datasets.Record `json:"record"`
	// Status is its status (Status*).
	Status string `json:"status"`
	// Decisions are the reviews in force in the order made, then the
	// adjudication if any.
	Decisions []Decision `json:"decisions,omitempty"`
}

// View returns a record's view; ok is false for a record outside the sample.
func (q *Queue) View(id string) (RecordView, bool) {
	it, ok := q.find(id)
	if !ok {
		return RecordView{}, false
	}
	v := RecordView{Record: it.Record, Status: q.status(it)}
	for _, e := range it.Reviews {
		v.Decisions = append(v.Decisions, e.Decision)
	}
	if it.Adjudication != nil {
		v.Decisions = append(v.Decisions, it.Adjudication.Decision)
	}
	return v, true
}

// IsRetry reports whether d repeats a request its reviewer applied before and
// says the same: Apply would answer with the first outcome.
func (q *Queue) IsRetry(d Decision) bool {
	_, dup, err := q.replayed(d)
	return dup && err == nil
}

// RequestKey is the key of a reviewer's request id in Queue.Applied.
func RequestKey(reviewer, requestID string) string { return requestKey(reviewer, requestID) }
