package review

import (
	"fmt"
	"time"
)

// OpType names a change to a Queue.
type OpType string

// The journaled changes.
const (
	// OpDecide is an applied review (Apply).
	OpDecide OpType = "decide"
	// OpAdjudicate is an applied adjudication (Adjudicate).
	OpAdjudicate OpType = "adjudicate"
	// OpUndo is a withdrawn decision (Undo).
	OpUndo OpType = "undo"
)

// StatusUndone is what AppliedRequest.Status says of an undo request.
const StatusUndone = "undone"

// Op is one change to a queue's decisions, in the order applied. A queue
// rebuilt from its sample by replaying its ops in order has the same
// decisions, Applied requests, Summary and Rows: the journal is how a
// workflow hands a review to its next run (continue-as-new) and to the commit
// activity by reference (a file) instead of inside a payload.
type Op struct {
	// Type is decide, adjudicate or undo.
	Type OpType `json:"type"`
	// Seq is the decision's number (decide and adjudicate).
	Seq int `json:"seq,omitempty"`
	// Decision is the decision as applied (decide and adjudicate).
	Decision *Decision `json:"decision,omitempty"`
	// Fingerprint is the decision's Fingerprint when it was applied, kept so
	// that a replay of a compacted decision (Compact) keeps its request's
	// fingerprint.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Reviewer, RecordID and At describe an undo.
	Reviewer string    `json:"reviewer,omitempty"`
	RecordID string    `json:"record_id,omitempty"`
	At       time.Time `json:"at,omitempty"`
	// RequestID is an undo's idempotency key, if it had one.
	RequestID string `json:"request_id,omitempty"`
}

// Compact drops what only the decision log needs (the note) from a decide or
// adjudicate op, so that a workflow can replay a long journal without
// carrying every note again. Fingerprints, kinds, reasons and edits stay:
// status, agreement and Summary do not change.
func (o Op) Compact() Op {
	if o.Decision != nil && o.Decision.Note != "" {
		d := *o.Decision
		d.Note = ""
		o.Decision = &d
	}
	return o
}

// record journals op when the queue keeps a journal.
func (q *Queue) record(op Op) {
	if q.Config.Journal {
		q.journal = append(q.journal, op)
	}
}

// TakeJournal returns the ops applied since the last call and forgets them.
// It returns nil unless Config.Journal is set.
func (q *Queue) TakeJournal() []Op {
	out := q.journal
	q.journal = nil
	return out
}

// JournalLen is the number of ops TakeJournal would return.
func (q *Queue) JournalLen() int { return len(q.journal) }

// Replay applies one journaled op to a queue rebuilt from the same sample. It
// skips the form check (a compacted reject "other" has lost its note) but not
// the state checks: an op that does not fit the state means the journal does
// not belong to this sample, and Replay returns an error and changes nothing.
// Leases are not journaled: a replay leaves the leases of undo ops, which the
// caller replaces with the leases it saved.
func (q *Queue) Replay(op Op) error {
	journal := q.Config.Journal
	q.Config.Journal = false // what is replayed was journaled when it was made
	defer func() { q.Config.Journal = journal }()
	switch op.Type {
	case OpDecide, OpAdjudicate:
		if op.Decision == nil {
			return fmt.Errorf("replay %s op %d: no decision", op.Type, op.Seq)
		}
		d := *op.Decision
		admit := q.admit
		if op.Type == OpAdjudicate {
			admit = q.admitAdjudication
		}
		// Leases never refuse a replayed decision: it was admitted when made.
		leases := q.Leases
		q.Leases = nil
		err := admit(d)
		q.Leases = leases
		if err != nil {
			return fmt.Errorf("replay %s op %d on record %s: %s", op.Type, op.Seq, d.RecordID, err.Msg)
		}
		if op.Type == OpDecide {
			q.applyReview(d, op.Fingerprint)
		} else {
			q.applyAdjudication(d, op.Fingerprint)
		}
		if op.Seq != 0 && q.Seq != op.Seq {
			return fmt.Errorf("replay %s op %d on record %s: the queue numbered it %d", op.Type, op.Seq, d.RecordID, q.Seq)
		}
		return nil
	case OpUndo:
		if _, err := q.UndoRequest(op.RequestID, op.Reviewer, op.RecordID, op.At); err != nil {
			return fmt.Errorf("replay undo of record %s by %s: %w", op.RecordID, op.Reviewer, err)
		}
		return nil
	}
	return fmt.Errorf("replay: unknown op type %q", op.Type)
}
