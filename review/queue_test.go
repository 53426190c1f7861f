package review

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
)

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// records returns n records r1..rn of one stratum.
func records(n int) []datasets.Record {
	out := make([]datasets.Record, n)
	for i := range out {
		out[i] = datasets.Record{ID: fmt.Sprintf("r%d", i+1), Task: "edgeintent", Split: "test", Cell: "timer_set",
			Input: fmt.Sprintf("set a timer for %d minutes", i+1), Target: `{"intent":"timer_set"}`}
	}
	return out
}

// dec builds a decision; the request id derives from reviewer, record and kind.
func dec(reviewer, id string, kind Kind, at time.Time) Decision {
	d := Decision{RequestID: reviewer + "/" + id + "/" + string(kind), RecordID: id, Reviewer: reviewer, Kind: kind, At: at}
	if kind == Reject {
		d.Reason = "wrong_label"
	}
	if kind == Edit {
		d.EditInput = "set a timer for ten minutes"
	}
	return d
}

// decide validates and applies d, failing the test on a validation error.
func decide(t *testing.T, q *Queue, d Decision) Outcome {
	t.Helper()
	if err := q.Validate(d, nil); err != nil {
		t.Fatalf("validate %+v: %v", d, err)
	}
	out := q.Apply(d)
	if out.Error != "" {
		t.Fatalf("apply %+v: %s", d, out.Error)
	}
	return out
}

// lease leases for reviewer and returns the record id ("" for ErrQueueEmpty).
func lease(t *testing.T, q *Queue, reviewer string, now time.Time) string {
	t.Helper()
	rec, err := q.Lease(reviewer, now)
	if errors.Is(err, ErrQueueEmpty) {
		return ""
	}
	if err != nil {
		t.Fatalf("lease %s: %v", reviewer, err)
	}
	return rec.ID
}

// wantCode checks that err is a *DecisionError with code and message fragment.
func wantCode(t *testing.T, err error, code int, frag string) {
	t.Helper()
	var de *DecisionError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a *DecisionError %d", err, code)
	}
	if de.Code != code || !strings.Contains(de.Msg, frag) {
		t.Fatalf("err = %d %q, want %d containing %q", de.Code, de.Msg, code, frag)
	}
}

func TestLease(t *testing.T) {
	ttl := DefaultLeaseTTL
	type step struct {
		reviewer string
		at       time.Duration // after t0
		want     string        // record id, "" for ErrQueueEmpty
		decide   Kind          // if set, the reviewer then decides the leased record
	}
	tests := []struct {
		name  string
		two   bool
		n     int
		steps []step
	}{
		{"two reviewers get different records", false, 3, []step{
			{"ann", 0, "r1", ""}, {"bob", 0, "r2", ""}, {"cat", 0, "r3", ""}, {"dan", 0, "", ""}}},
		{"same reviewer gets the same record back", false, 3, []step{
			{"ann", 0, "r1", ""}, {"ann", time.Minute, "r1", ""}, {"bob", 2 * time.Minute, "r2", ""}, {"ann", 9 * time.Minute, "r1", ""}}},
		{"asking again renews the lease", false, 2, []step{
			{"ann", 0, "r1", ""}, {"ann", 9 * time.Minute, "r1", ""}, {"bob", ttl + time.Minute, "r2", ""}, {"cat", ttl + time.Minute, "", ""}}},
		{"expiry after TTL gives the record to someone else", false, 2, []step{
			{"ann", 0, "r1", ""}, {"bob", ttl - time.Second, "r2", ""}, {"cat", ttl - time.Second, "", ""}, {"cat", ttl, "r1", ""},
			{"ann", ttl + time.Second, "", ""}}},
		{"a clock that goes back does not shorten a lease", false, 3, []step{
			{"ann", 20 * time.Minute, "r1", ""}, {"bob", 5 * time.Minute, "r2", ""}, {"cat", 20*time.Minute + ttl - time.Second, "r3", ""}}},
		{"decided records are not leased again", false, 2, []step{
			{"ann", 0, "r1", Approve}, {"ann", time.Minute, "r2", Reject}, {"ann", 2 * time.Minute, "", ""}, {"bob", 2 * time.Minute, "", ""}}},
		{"two-reviewer mode leases a record to two reviewers", true, 2, []step{
			{"ann", 0, "r1", ""}, {"bob", 0, "r1", ""}, {"cat", 0, "r2", ""}, {"dan", 0, "r2", ""}, {"eve", 0, "", ""}}},
		{"two-reviewer mode never leases a record twice to one reviewer", true, 2, []step{
			{"ann", 0, "r1", Approve}, {"ann", time.Minute, "r2", Approve}, {"ann", 2 * time.Minute, "", ""},
			{"bob", 3 * time.Minute, "r1", Approve}, {"bob", 4 * time.Minute, "r2", ""}, {"cat", 4 * time.Minute, "", ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := NewQueue(Config{TwoReviewers: tc.two}, records(tc.n))
			for i, s := range tc.steps {
				got := lease(t, q, s.reviewer, t0.Add(s.at))
				if got != s.want {
					t.Fatalf("step %d: %s leased %q, want %q", i, s.reviewer, got, s.want)
				}
				if s.decide != "" {
					decide(t, q, dec(s.reviewer, got, s.decide, t0.Add(s.at)))
				}
			}
		})
	}
	t.Run("empty reviewer", func(t *testing.T) {
		_, err := NewQueue(Config{}, records(1)).Lease("", t0)
		wantCode(t, err, CodeInvalid, "reviewer")
	})
	t.Run("record is a copy with status pending", func(t *testing.T) {
		q := NewQueue(Config{}, records(1))
		rec, _ := q.Lease("ann", t0)
		if rec.ReviewStatus != datasets.ReviewPending {
			t.Fatalf("status %q", rec.ReviewStatus)
		}
		rec.Input = "changed"
		if q.Items[0].Record.Input == "changed" {
			t.Fatal("Lease returned the queue's own record")
		}
	})
}

func TestValidate(t *testing.T) {
	failing := func(datasets.Record, string, json.RawMessage) error {
		return errors.New(`$.slots.duration "ten minutes" not found in input`)
	}
	tests := []struct {
		name  string
		setup func(q *Queue) // before the decision, at t0
		d     Decision
		check CheckFunc
		code  int // 0: no error
		frag  string
	}{
		{"approve", nil, dec("ann", "r1", Approve, t0), nil, 0, ""},
		{"unknown record", nil, dec("ann", "r9", Approve, t0), nil, CodeNotFound, `"r9" is not in this review sample`},
		{"leased by another reviewer", func(q *Queue) { q.Lease("bob", t0) }, dec("ann", "r1", Approve, t0.Add(time.Minute)), nil,
			CodeConflict, "leased by bob"},
		{"other reviewer's lease expired", func(q *Queue) { q.Lease("bob", t0) }, dec("ann", "r1", Approve, t0.Add(DefaultLeaseTTL)), nil, 0, ""},
		{"own lease", func(q *Queue) { q.Lease("ann", t0) }, dec("ann", "r1", Approve, t0), nil, 0, ""},
		{"already decided by this reviewer", func(q *Queue) { q.Apply(dec("ann", "r1", Approve, t0)) },
			dec("ann", "r1", Reject, t0), nil, CodeConflict, "you already decided"},
		{"already decided by another reviewer", func(q *Queue) { q.Apply(dec("bob", "r1", Approve, t0)) },
			dec("ann", "r1", Approve, t0), nil, CodeConflict, "already decided (approved)"},
		{"double submit is not an error", func(q *Queue) { q.Apply(dec("ann", "r1", Approve, t0)) },
			dec("ann", "r1", Approve, t0), nil, 0, ""},
		{"missing request id", nil, Decision{RecordID: "r1", Reviewer: "ann", Kind: Approve}, nil, CodeInvalid, "request_id"},
		{"missing reviewer", nil, Decision{RequestID: "x", RecordID: "r1", Kind: Approve}, nil, CodeInvalid, "reviewer"},
		{"unknown kind", nil, Decision{RequestID: "x", RecordID: "r1", Reviewer: "ann", Kind: "maybe"}, nil, CodeInvalid, `unknown kind "maybe"`},
		{"reject without reason", nil, Decision{RequestID: "x", RecordID: "r1", Reviewer: "ann", Kind: Reject}, nil, CodeInvalid, "needs a reason"},
		{"unknown reason", nil, Decision{RequestID: "x", RecordID: "r1", Reviewer: "ann", Kind: Reject, Reason: "ugly"}, nil,
			CodeInvalid, `unknown reason "ugly"`},
		{"other without note", nil, Decision{RequestID: "x", RecordID: "r1", Reviewer: "ann", Kind: Reject, Reason: "other"}, nil,
			CodeInvalid, "needs a note"},
		{"other with note", nil, Decision{RequestID: "x", RecordID: "r1", Reviewer: "ann", Kind: Reject, Reason: "other", Note: "sarcasm"}, nil, 0, ""},
		{"approve with reason", nil, Decision{RequestID: "x", RecordID: "r1", Reviewer: "ann", Kind: Approve, Reason: "duplicate"}, nil,
			CodeInvalid, "approve takes no reason"},
		{"reject with edit", nil, Decision{RequestID: "x", RecordID: "r1", Reviewer: "ann", Kind: Reject, Reason: "duplicate", EditInput: "x"}, nil,
			CodeInvalid, "reject takes no edit"},
		{"edit with neither field", nil, Decision{RequestID: "x", RecordID: "r1", Reviewer: "ann", Kind: Edit}, nil, CodeInvalid, "needs edit_input"},
		{"edit target not JSON", nil, Decision{RequestID: "x", RecordID: "r1", Reviewer: "ann", Kind: Edit, EditTarget: json.RawMessage(`{"intent":`)}, nil,
			CodeInvalid, "not valid JSON"},
		{"edit that changes nothing", nil, Decision{RequestID: "x", RecordID: "r1", Reviewer: "ann", Kind: Edit,
			EditTarget: json.RawMessage(` { "intent" : "timer_set" } `)}, nil, CodeInvalid, "changes nothing"},
		{"edit failing check", nil, dec("ann", "r1", Edit, t0), failing, CodeInvalid,
			`the edited record fails validation: $.slots.duration "ten minutes" not found in input`},
		{"edit passing check", nil, dec("ann", "r1", Edit, t0), func(datasets.Record, string, json.RawMessage) error { return nil }, 0, ""},
		{"check not run for approve", nil, dec("ann", "r1", Approve, t0), failing, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := NewQueue(Config{}, records(2))
			if tc.setup != nil {
				tc.setup(q)
			}
			before, _ := json.Marshal(q)
			err := q.Validate(tc.d, tc.check)
			if after, _ := json.Marshal(q); string(before) != string(after) {
				t.Fatalf("Validate mutated the queue:\n%s\n%s", before, after)
			}
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			wantCode(t, err, tc.code, tc.frag)
		})
	}
}

func TestValidateCheckSeesEditedRecord(t *testing.T) {
	q := NewQueue(Config{}, records(1))
	var gotInput, gotTarget string
	check := func(rec datasets.Record, input string, target json.RawMessage) error {
		gotInput, gotTarget = input, string(target)
		return nil
	}
	tests := []struct {
		name                  string
		d                     Decision
		wantInput, wantTarget string
	}{
		{"input only", Decision{EditInput: "new input"}, "new input", `{"intent":"timer_set"}`},
		{"target only", Decision{EditTarget: json.RawMessage(`{"intent":"alarm_set"}`)}, "set a timer for 1 minutes", `{"intent":"alarm_set"}`},
		{"both", Decision{EditInput: "wake me at 7", EditTarget: json.RawMessage(`{"intent":"alarm_set"}`)}, "wake me at 7", `{"intent":"alarm_set"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d
			d.RequestID, d.RecordID, d.Reviewer, d.Kind = "x", "r1", "ann", Edit
			if err := q.Validate(d, check); err != nil {
				t.Fatal(err)
			}
			if gotInput != tc.wantInput || gotTarget != tc.wantTarget {
				t.Fatalf("check saw (%q, %s), want (%q, %s)", gotInput, gotTarget, tc.wantInput, tc.wantTarget)
			}
		})
	}
}

func TestApplyIdempotent(t *testing.T) {
	q := NewQueue(Config{}, records(2))
	lease(t, q, "ann", t0)
	d := dec("ann", "r1", Reject, t0.Add(time.Minute))
	first := decide(t, q, d)
	if first.Status != StatusRejected || first.Duplicate || first.Progress.Decided != 1 || first.Progress.Leased != 0 {
		t.Fatalf("first outcome %+v", first)
	}
	// The same request again changes nothing.
	if err := q.Validate(d, nil); err != nil {
		t.Fatalf("double submit: %v", err)
	}
	second := q.Apply(d)
	if second.Status != StatusRejected || !second.Duplicate {
		t.Fatalf("second outcome %+v, want the first status and Duplicate", second)
	}
	// The same request id with other content is another decision: a 409,
	// never a success that drops it.
	again := d
	again.Kind, again.Reason = Approve, ""
	wantCode(t, q.Validate(again, nil), CodeConflict, "already used by ann for a different decision")
	if out := q.Apply(again); out.Error == "" || out.Duplicate {
		t.Fatalf("reused id with other content: %+v, want refused", out)
	}
	if rows := q.Rows(); len(rows) != 1 || rows[0].Kind != string(Reject) {
		t.Fatalf("rows %+v", rows)
	}
	if st, ok := q.Status("r1"); !ok || st != StatusRejected {
		t.Fatalf("Status(r1) = %q, %v", st, ok)
	}
	if st, ok := q.Status("r9"); ok || st != "" {
		t.Fatalf("Status(r9) = %q, %v, want not found", st, ok)
	}
	if p := q.Progress(); p.Decided != 1 || p.Pending != 1 || p.PerReviewer["ann"] != 1 {
		t.Fatalf("progress %+v", p)
	}
}

func TestApplyRefusesWhatValidateWould(t *testing.T) {
	q := NewQueue(Config{}, records(1))
	lease(t, q, "bob", t0)
	out := q.Apply(dec("ann", "r1", Approve, t0))
	if out.Error == "" || !strings.Contains(out.Error, "leased by bob") || out.Status != StatusPending {
		t.Fatalf("outcome %+v, want refused with bob's lease", out)
	}
	if len(q.Rows()) != 0 || len(q.Applied) != 0 {
		t.Fatalf("a refused decision changed the queue: rows %v applied %v", q.Rows(), q.Applied)
	}
	if out := q.Apply(Decision{RequestID: "x", RecordID: "r1", Reviewer: "bob", Kind: "nope"}); out.Error == "" {
		t.Fatalf("malformed decision applied: %+v", out)
	}
}

func TestUndo(t *testing.T) {
	t.Run("withdraws and re-leases the record to its reviewer", func(t *testing.T) {
		q := NewQueue(Config{}, records(2))
		lease(t, q, "ann", t0)
		d := dec("ann", "r1", Reject, t0.Add(time.Minute))
		decide(t, q, d)
		lease(t, q, "ann", t0.Add(2*time.Minute)) // ann moves on to r2
		if err := q.Undo("ann", "r1", t0.Add(3*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if p := q.Progress(); p.Decided != 0 || p.Pending != 2 || p.Leased != 1 {
			t.Fatalf("progress after undo %+v", p)
		}
		if len(q.Rows()) != 0 || len(q.Final()) != 0 {
			t.Fatalf("undone decision still in force: %v %v", q.Rows(), q.Final())
		}
		if got := lease(t, q, "ann", t0.Add(4*time.Minute)); got != "r1" {
			t.Fatalf("after undo ann leases %q, want r1 back", got)
		}
		wantCode(t, q.Validate(dec("bob", "r1", Approve, t0.Add(4*time.Minute)), nil), CodeConflict, "leased by ann")
		// A late retry of the withdrawn request stays a no-op.
		if out := q.Apply(d); !out.Duplicate || len(q.Rows()) != 0 {
			t.Fatalf("retry of an undone request applied: %+v", out)
		}
		out := decide(t, q, dec("ann", "r1", Approve, t0.Add(5*time.Minute)))
		if out.Status != StatusApproved || q.Final()["r1"].Kind != Approve {
			t.Fatalf("redecision %+v final %+v", out, q.Final())
		}
	})
	errs := []struct {
		name     string
		setup    func(q *Queue)
		reviewer string
		id       string
		code     int
		frag     string
	}{
		{"unknown record", nil, "ann", "r9", CodeNotFound, "not in this review sample"},
		{"nothing decided", nil, "ann", "r1", CodeNotFound, "no decision"},
		{"someone else's decision", func(q *Queue) { q.Apply(dec("bob", "r1", Approve, t0)) }, "ann", "r1", CodeNotFound, "no decision"},
		{"undone twice", func(q *Queue) { q.Apply(dec("ann", "r1", Approve, t0)); q.Undo("ann", "r1", t0) }, "ann", "r1", CodeNotFound, "no decision"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			q := NewQueue(Config{}, records(2))
			if tc.setup != nil {
				tc.setup(q)
			}
			wantCode(t, q.CanUndo(tc.reviewer, tc.id), tc.code, tc.frag)
			wantCode(t, q.Undo(tc.reviewer, tc.id, t0), tc.code, tc.frag)
		})
	}
}

// TestRequestIDsPerReviewer: Bob's reject sent with Alice's request id is
// Bob's own decision, not a duplicate of Alice's.
func TestRequestIDsPerReviewer(t *testing.T) {
	q := NewQueue(Config{}, records(2))
	alice := Decision{RequestID: "req-1", RecordID: "r1", Reviewer: "alice", Kind: Approve, At: t0}
	decide(t, q, alice)
	bob := Decision{RequestID: "req-1", RecordID: "r2", Reviewer: "bob", Kind: Reject, Reason: "wrong_label", At: t0}
	if err := q.Validate(bob, nil); err != nil {
		t.Fatalf("bob's decision with alice's request id: %v", err)
	}
	out := q.Apply(bob)
	if out.Duplicate || out.Status != StatusRejected || out.Progress.Decided != 2 {
		t.Fatalf("bob's outcome %+v, want his reject applied", out)
	}
	if f := q.Final(); f["r2"].Kind != Reject || f["r2"].Reviewer != "bob" {
		t.Fatalf("final %+v", f)
	}
}

// TestBounds: every field a reviewer sends has a bound, refused with 413
// naming the field.
func TestBounds(t *testing.T) {
	q := NewQueue(Config{}, records(1))
	big := func(n int) string { return strings.Repeat("x", n) }
	base := Decision{RequestID: "x", RecordID: "r1", Reviewer: "ann", Kind: Reject, Reason: "other", Note: "why", At: t0}
	tests := []struct {
		name  string
		edit  func(d *Decision)
		field string
	}{
		{"note", func(d *Decision) { d.Note = big(MaxNoteBytes + 1) }, "note"},
		{"request id", func(d *Decision) { d.RequestID = big(MaxRequestIDBytes + 1) }, "request_id"},
		{"reviewer", func(d *Decision) { d.Reviewer = big(MaxReviewerBytes + 1) }, "reviewer"},
		{"record id", func(d *Decision) { d.RecordID = big(MaxRecordIDBytes + 1) }, "record_id"},
		{"reason", func(d *Decision) { d.Reason = big(MaxReasonBytes + 1) }, "reason"},
		{"edit input", func(d *Decision) { d.Kind, d.Reason, d.EditInput = Edit, "", big(MaxEditInputBytes+1) }, "edit_input"},
		{"edit target", func(d *Decision) {
			d.Kind, d.Reason, d.EditTarget = Edit, "", json.RawMessage(`"`+big(MaxEditTargetBytes)+`"`)
		}, "edit_target"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := base
			tc.edit(&d)
			wantCode(t, q.Validate(d, nil), CodeTooLarge, tc.field+" is ")
			if out := q.Apply(d); out.Error == "" {
				t.Fatalf("applied an oversized %s", tc.field)
			}
		})
	}
	d := base
	d.Note = big(MaxNoteBytes)
	decide(t, q, d) // the largest allowed note is fine
}
