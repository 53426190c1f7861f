package review

import (
	"slices"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
)

// Two-reviewer mode. Each record takes two reviews by different reviewers.
// When they lead to the same released record (both approve, both reject,
// or two edits with the same corrected input and target) the record is final
// with that kind. Any other pair (approve vs reject, approve vs edit, reject
// vs edit, two different edits) is a disagreement: the record waits in the
// adjudication list (Disagreements) until one Adjudicate decision settles it.
// The adjudicator may be anyone, one of the two reviewers included; the
// adjudication is the final decision, and kappa and the disagreement count
// still see both reviews.

// Disagreement is a record awaiting adjudication and the two reviews on it.
type Disagreement struct {
	// Record is the sampled record.
	Record datasets.Record `json:"record"`
	// Reviews are the two reviews, in the order they were made.
	Reviews []Decision `json:"reviews"`
}

// Disagreements lists the records awaiting adjudication, in sample order.
func (q *Queue) Disagreements() []Disagreement {
	var out []Disagreement
	for i := range q.Items {
		it := &q.Items[i]
		if q.status(it) != StatusNeedsAdjudication {
			continue
		}
		dis := Disagreement{Record: it.Record}
		for _, e := range it.Reviews {
			dis.Reviews = append(dis.Reviews, e.Decision)
		}
		out = append(out, dis)
	}
	return out
}

// ValidateAdjudication is the update validator of an adjudication; it never
// mutates. Like Validate, a RequestID applied before is accepted, and errors
// are *DecisionError: CodeInvalid for a malformed decision or an edit that
// check rejects, CodeNotFound for a record outside the sample, CodeConflict
// for a record that does not await adjudication.
func (q *Queue) ValidateAdjudication(d Decision, check CheckFunc) error {
	return q.validate(d, check, q.admitAdjudication)
}

// admitAdjudication finds why the state does not allow adjudication d.
func (q *Queue) admitAdjudication(d Decision) *DecisionError {
	it, ok := q.find(d.RecordID)
	if !ok {
		return errorf(CodeNotFound, "record %q is not in this review sample", d.RecordID)
	}
	if st := q.status(it); st != StatusNeedsAdjudication {
		return errorf(CodeConflict, "record %q does not await adjudication (%s)", d.RecordID, st)
	}
	return nil
}

// Adjudicate applies an adjudication that ValidateAdjudication accepted: it
// settles the record with d's kind. Idempotent by RequestID like Apply.
func (q *Queue) Adjudicate(d Decision) Outcome {
	return q.apply(d, q.admitAdjudication, q.applyAdjudication)
}

// applyAdjudication records an admitted adjudication, journals it and
// returns its item.
func (q *Queue) applyAdjudication(d Decision, fingerprint string) *Item {
	q.tick(d.At)
	it, _ := q.find(d.RecordID)
	q.Seq++
	d = normalized(d)
	it.Adjudication = &Entry{Decision: d, Seq: q.Seq}
	q.applied(d.Reviewer, d.RequestID, fingerprint, it)
	q.record(Op{Type: OpAdjudicate, Seq: q.Seq, Decision: &d, Fingerprint: fingerprint})
	return it
}

// CanUndo reports why Undo(reviewer, recordID) would fail, without mutating:
// CodeNotFound for a record outside the sample or one the reviewer has no
// decision in force on, CodeConflict for a review on a record settled by
// someone else's adjudication since (the adjudication must be undone first).
func (q *Queue) CanUndo(reviewer, recordID string) error {
	if err := q.admitUndo(reviewer, recordID); err != nil {
		return err
	}
	return nil
}

func (q *Queue) admitUndo(reviewer, recordID string) *DecisionError {
	it, ok := q.find(recordID)
	if !ok {
		return errorf(CodeNotFound, "record %q is not in this review sample", recordID)
	}
	if it.Adjudication != nil && it.Adjudication.Decision.Reviewer == reviewer {
		return nil
	}
	if reviewBy(it, reviewer) < 0 {
		return errorf(CodeNotFound, "you have no decision on record %q to undo", recordID)
	}
	if it.Adjudication != nil {
		return errorf(CodeConflict, "record %q was adjudicated by %s since your decision; that must be undone first",
			recordID, it.Adjudication.Decision.Reviewer)
	}
	return nil
}

// Undo withdraws reviewer's last decision in force on a record (the review
// UI's undo key): his adjudication of it if he made one, else his review.
// A withdrawn review puts the record back in the queue leased to him at now,
// replacing any lease he held, so the next Lease shows it again; a withdrawn
// adjudication puts the record back in the adjudication list. The withdrawn
// decision's RequestID stays applied, so a late retry of it changes nothing.
// Errors are those of CanUndo.
func (q *Queue) Undo(reviewer, recordID string, now time.Time) error {
	if err := q.admitUndo(reviewer, recordID); err != nil {
		return err
	}
	q.undo(reviewer, recordID, "", now)
	return nil
}

// UndoRequest is Undo with an idempotency key: a request id the reviewer
// used before changes nothing and reports duplicate, so a replayed or retried
// undo cannot withdraw a decision made again since.
func (q *Queue) UndoRequest(requestID, reviewer, recordID string, now time.Time) (duplicate bool, err error) {
	if requestID != "" {
		if _, ok := q.Applied[requestKey(reviewer, requestID)]; ok {
			return true, nil
		}
	}
	if err := q.admitUndo(reviewer, recordID); err != nil {
		return false, err
	}
	q.undo(reviewer, recordID, requestID, now)
	if requestID != "" {
		if q.Applied == nil {
			q.Applied = map[string]AppliedRequest{}
		}
		q.Applied[requestKey(reviewer, requestID)] = AppliedRequest{Status: StatusUndone}
	}
	return false, nil
}

// undo withdraws an admitted undo and journals it.
func (q *Queue) undo(reviewer, recordID, requestID string, now time.Time) {
	q.tick(now)
	q.record(Op{Type: OpUndo, Reviewer: reviewer, RecordID: recordID, At: q.Clock, RequestID: requestID})
	it, _ := q.find(recordID)
	if it.Adjudication != nil {
		it.Adjudication = nil
		return
	}
	i := reviewBy(it, reviewer)
	it.Reviews = slices.Delete(it.Reviews, i, i+1)
	if len(it.Reviews) == 0 {
		it.Reviews = nil
	}
	q.Leases = slices.DeleteFunc(q.Leases, func(l Lease) bool { return l.Reviewer == reviewer })
	q.Leases = append(q.Leases, Lease{RecordID: recordID, Reviewer: reviewer, Expires: q.Clock.Add(q.Config.LeaseTTL)})
}
