package review

import (
	"slices"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
)

// Leases: a reviewer reserves the record he reviews, for Config.LeaseTTL.

// Lease reserves a record for a reviewer until Expires.
type Lease struct {
	// RecordID is the leased record.
	RecordID string `json:"record_id"`
	// Reviewer holds the lease.
	Reviewer string `json:"reviewer"`
	// Expires is when the record goes back to the queue (lease time + LeaseTTL).
	Expires time.Time `json:"expires"`
}

// now is t, or the queue's clock when t is earlier (or zero).
func (q *Queue) now(t time.Time) time.Time {
	if t.After(q.Clock) {
		return t
	}
	return q.Clock
}

// tick advances the clock to t and drops the leases expired by then.
func (q *Queue) tick(t time.Time) {
	q.Clock = q.now(t)
	q.Leases = slices.DeleteFunc(q.Leases, func(l Lease) bool { return !q.Clock.Before(l.Expires) })
}

// othersLeases counts the leases on a record held at now by reviewers other than reviewer.
func (q *Queue) othersLeases(id, reviewer string, now time.Time) int {
	n := 0
	for _, l := range q.Leases {
		if l.RecordID == id && l.Reviewer != reviewer && now.Before(l.Expires) {
			n++
		}
	}
	return n
}

// leaseOf is the index in q.Leases of reviewer's lease, or -1.
func (q *Queue) leaseOf(reviewer string) int {
	return slices.IndexFunc(q.Leases, func(l Lease) bool { return l.Reviewer == reviewer })
}

// release drops reviewer's lease on record id, if any.
func (q *Queue) release(reviewer, id string) {
	q.Leases = slices.DeleteFunc(q.Leases, func(l Lease) bool { return l.Reviewer == reviewer && l.RecordID == id })
}

// open is the number of reviews a record can still take from reviewers other
// than those that decided it, less the ones leased by others than reviewer.
func (q *Queue) open(it *Item, reviewer string, now time.Time) int {
	st := q.status(it)
	if st != StatusPending && st != StatusPendingSecond {
		return 0
	}
	return q.need() - len(it.Reviews) - q.othersLeases(it.Record.ID, reviewer, now)
}

// Lease gives reviewer the next record to review, in sample order, and
// reserves it for LeaseTTL: a record he has not decided, that is not final,
// not awaiting adjudication and not leased by someone else (in two-reviewer
// mode a record can be leased by two reviewers, never twice by one). A
// reviewer holds one lease at a time: asking again returns the record he holds
// and renews the lease, so a page reload is harmless. The record is a copy.
// It returns ErrQueueEmpty when nothing is left for him now, and a
// *DecisionError (CodeInvalid) for an empty reviewer.
func (q *Queue) Lease(reviewer string, now time.Time) (*datasets.Record, error) {
	if reviewer == "" {
		return nil, errorf(CodeInvalid, "reviewer is required")
	}
	q.tick(now)
	if li := q.leaseOf(reviewer); li >= 0 {
		l := &q.Leases[li]
		if it, ok := q.find(l.RecordID); ok && reviewBy(it, reviewer) < 0 && isOpen(q.status(it)) {
			l.Expires = q.Clock.Add(q.Config.LeaseTTL)
			rec := it.Record
			return &rec, nil
		}
		q.Leases = slices.Delete(q.Leases, li, li+1)
	}
	for i := range q.Items {
		it := &q.Items[i]
		if reviewBy(it, reviewer) >= 0 || q.open(it, reviewer, q.Clock) <= 0 {
			continue
		}
		q.Leases = append(q.Leases, Lease{RecordID: it.Record.ID, Reviewer: reviewer, Expires: q.Clock.Add(q.Config.LeaseTTL)})
		rec := it.Record
		return &rec, nil
	}
	return nil, ErrQueueEmpty
}

// holders names the other reviewers holding a lease on a record at now.
func (q *Queue) holders(id, reviewer string, now time.Time) string {
	var names []string
	for _, l := range q.Leases {
		if l.RecordID == id && l.Reviewer != reviewer && now.Before(l.Expires) {
			names = append(names, l.Reviewer)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "another reviewer"
	}
	out := names[0]
	for _, n := range names[1:] {
		out += " and " + n
	}
	return out
}
