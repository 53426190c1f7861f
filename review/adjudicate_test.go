package review

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// editTarget is an edit of the target only.
func editTarget(reviewer, id, target string, at time.Time) Decision {
	d := dec(reviewer, id, Edit, at)
	d.EditInput, d.EditTarget, d.Reason = "", json.RawMessage(target), "wrong_label"
	return d
}

func TestTwoReviewerFlow(t *testing.T) {
	q := NewQueue(Config{TwoReviewers: true}, records(4))
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	steps := []struct {
		d    Decision
		want string
	}{
		{dec("ann", "r1", Approve, at(1)), StatusPendingSecond},
		{dec("bob", "r1", Approve, at(2)), StatusApproved},
		{dec("ann", "r2", Approve, at(3)), StatusPendingSecond},
		{dec("bob", "r2", Reject, at(4)), StatusNeedsAdjudication},
		// The same edit written differently is agreement.
		{editTarget("ann", "r3", `{"intent":"alarm_set","slots":{"time":"7","day":"monday"}}`, at(5)), StatusPendingSecond},
		{editTarget("bob", "r3", `{ "slots": {"day":"monday","time":"7"}, "intent": "alarm_set" }`, at(6)), StatusEdited},
		{editTarget("ann", "r4", `{"intent":"alarm_set"}`, at(7)), StatusPendingSecond},
		{editTarget("bob", "r4", `{"intent":"reminder_set"}`, at(8)), StatusNeedsAdjudication},
	}
	for i, s := range steps {
		if out := decide(t, q, s.d); out.Status != s.want {
			t.Fatalf("step %d (%s %s %s): status %q, want %q", i, s.d.Reviewer, s.d.Kind, s.d.RecordID, out.Status, s.want)
		}
	}
	t.Run("a reviewer cannot review a record twice", func(t *testing.T) {
		wantCode(t, q.Validate(dec("ann", "r1", Reject, at(9)), nil), CodeConflict, "you already decided")
	})
	t.Run("disagreements wait for adjudication", func(t *testing.T) {
		dis := q.Disagreements()
		if len(dis) != 2 || dis[0].Record.ID != "r2" || dis[1].Record.ID != "r4" ||
			dis[0].Reviews[0].Reviewer != "ann" || dis[0].Reviews[1].Kind != Reject {
			t.Fatalf("disagreements %+v", dis)
		}
		if got := lease(t, q, "cat", at(9)); got != "" {
			t.Fatalf("cat leased %q, want nothing: every record is final or awaits adjudication", got)
		}
		wantCode(t, q.Validate(dec("cat", "r2", Approve, at(9)), nil), CodeConflict, "awaits adjudication")
		wantCode(t, q.ValidateAdjudication(dec("cat", "r1", Approve, at(9)), nil), CodeConflict, "does not await adjudication")
		wantCode(t, q.ValidateAdjudication(dec("cat", "r7", Approve, at(9)), nil), CodeNotFound, "not in this review sample")
		wantCode(t, q.ValidateAdjudication(Decision{RequestID: "x", RecordID: "r2", Reviewer: "cat", Kind: Reject}, nil), CodeInvalid, "reason")
		if p := q.Progress(); p.Decided != 2 || p.NeedsAdjudication != 2 || p.Pending != 0 || q.Done() {
			t.Fatalf("progress %+v done %v", p, q.Done())
		}
	})
	t.Run("adjudication settles", func(t *testing.T) {
		adj := dec("cat", "r2", Reject, at(10))
		adj.RequestID = "adj-r2"
		if err := q.ValidateAdjudication(adj, nil); err != nil {
			t.Fatal(err)
		}
		if out := q.Adjudicate(adj); out.Status != StatusRejected || out.Error != "" {
			t.Fatalf("adjudication outcome %+v", out)
		}
		if out := q.Adjudicate(adj); !out.Duplicate || out.Status != StatusRejected {
			t.Fatalf("repeated adjudication %+v", out)
		}
		// An undo by the adjudicator puts the record back on the list.
		wantCode(t, q.CanUndo("bob", "r2"), CodeConflict, "adjudicated by cat")
		if err := q.Undo("cat", "r2", at(11)); err != nil {
			t.Fatal(err)
		}
		if len(q.Disagreements()) != 2 {
			t.Fatalf("undone adjudication: %d disagreements", len(q.Disagreements()))
		}
		adj.RequestID = "adj-r2-again"
		adj.At = at(12)
		if out := q.Adjudicate(adj); out.Status != StatusRejected {
			t.Fatalf("adjudication after undo %+v", out)
		}
		edit := editTarget("ann", "r4", `{"intent":"timer_set","slots":{"duration":"1 minutes"}}`, at(13))
		edit.RequestID = "adj-r4"
		if err := q.ValidateAdjudication(edit, nil); err != nil {
			t.Fatal(err)
		}
		if out := q.Adjudicate(edit); out.Status != StatusEdited {
			t.Fatalf("edit adjudication %+v", out)
		}
	})
	t.Run("final and summary", func(t *testing.T) {
		if !q.Done() {
			t.Fatal("not done after adjudication")
		}
		final := q.Final()
		want := map[string]struct {
			kind        Kind
			adjudicated bool
			target      string
		}{
			"r1": {Approve, false, ""},
			"r2": {Reject, true, ""},
			"r3": {Edit, false, `{"intent":"alarm_set","slots":{"time":"7","day":"monday"}}`},
			"r4": {Edit, true, `{"intent":"timer_set","slots":{"duration":"1 minutes"}}`},
		}
		for id, w := range want {
			f := final[id]
			if f.Kind != w.kind || f.Adjudicated != w.adjudicated || string(f.Target) != w.target {
				t.Errorf("final[%s] = %+v (target %s), want %+v", id, f, f.Target, w)
			}
		}
		if final["r3"].Input != "set a timer for 3 minutes" || final["r4"].Reviewer != "ann" {
			t.Errorf("final r3 input %q, r4 reviewer %q", final["r3"].Input, final["r4"].Reviewer)
		}
		s := q.Summary()
		// first reviews A A E E, second A R E E: po = 3/4, pe = 2/4*1/4 + 2/4*2/4 = 3/8, kappa = 0.6.
		if s.Kappa == nil || math.Abs(*s.Kappa-0.6) > 1e-9 {
			t.Fatalf("kappa %v, want 0.6", s.Kappa)
		}
		if s.Decided != 4 || s.Approved != 1 || s.Rejected != 1 || s.Edited != 2 || s.Disagreements != 2 || s.Adjudicated != 2 ||
			s.RejectReasons["wrong_label"] != 1 || s.Released || s.PerReviewer["cat"] != 1 || s.PerReviewer["ann"] != 5 {
			t.Fatalf("summary %+v", s)
		}
	})
	t.Run("rows in decision order with rounds", func(t *testing.T) {
		rows := q.Rows()
		var got []string
		for _, r := range rows {
			got = append(got, r.RecordID+"/"+r.Reviewer+"/"+string(rune('0'+r.Round)))
		}
		want := []string{"r1/ann/1", "r1/bob/2", "r2/ann/1", "r2/bob/2", "r3/ann/1", "r3/bob/2", "r4/ann/1", "r4/bob/2", "r2/cat/3", "r4/ann/3"}
		if len(got) != len(want) {
			t.Fatalf("rows %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("rows %v, want %v", got, want)
			}
		}
		if rows[8].RequestID != "adj-r2-again" || !rows[8].At.Equal(at(12)) {
			t.Fatalf("adjudication row %+v", rows[8])
		}
	})
}

func TestTwoReviewerUndoReopensSlot(t *testing.T) {
	q := NewQueue(Config{TwoReviewers: true}, records(1))
	decide(t, q, dec("ann", "r1", Approve, t0))
	decide(t, q, dec("bob", "r1", Reject, t0.Add(time.Minute)))
	if err := q.Undo("ann", "r1", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if p := q.Progress(); p.NeedsAdjudication != 0 || p.AwaitingSecond != 1 || p.Leased != 1 {
		t.Fatalf("progress after undo %+v", p)
	}
	if got := lease(t, q, "cat", t0.Add(3*time.Minute)); got != "" {
		t.Fatalf("cat leased %q: the open slot is ann's lease", got)
	}
	out := decide(t, q, Decision{RequestID: "ann-2", RecordID: "r1", Reviewer: "ann", Kind: Reject, Reason: "duplicate", At: t0.Add(4 * time.Minute)})
	if out.Status != StatusRejected {
		t.Fatalf("status %q, want rejected (bob and ann agree now)", out.Status)
	}
	if rows := q.Rows(); len(rows) != 2 || rows[0].Reviewer != "bob" || rows[0].Round != RoundFirst || rows[1].Round != RoundSecond {
		t.Fatalf("rows %+v", rows)
	}
	if k := q.Summary().Kappa; k != nil {
		t.Fatalf("kappa %v over one record with one category, want undefined", *k)
	}
}
