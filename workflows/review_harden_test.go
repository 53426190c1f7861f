package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/cyclecore/mlmforge/review"
)

// maxPayload is the largest payload a Dataset workflow may send or carry in
// these tests: Temporal's guidance for one payload.
const maxPayload = 100 << 10

// payloadSize is the JSON size of v, as Temporal's converter encodes it.
func payloadSize(t *testing.T, v any) int {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return len(p.Data)
}

// TestReviewGateLargestNotesRelease (issue 14 item 1): the largest allowed
// note on every record of a 2,000-record sample still releases. The gate
// moves to a new run every 300 updates; decisions travel to the next run and
// to the commit by reference, so no payload grows with them, and no
// decision is lost across the moves.
func TestReviewGateLargestNotesRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 updates in the test environment; skipped with -short")
	}
	const n = 2000
	sample := intentSample(n)
	ids := make([]string, n)
	index := map[string]int{}
	for i := range sample {
		ids[i] = sample[i].ID
		index[ids[i]] = i
	}
	note := strings.Repeat("n", review.MaxNoteBytes)
	var s testsuite.WorkflowTestSuite
	f := newFakeGen(2, 5)
	f.sample = sample
	in := datasetInput()
	in.Review = ReviewOptions{Policy: ReviewRequired, Threshold: 0.5}
	in.Limits.ReviewUpdates = 300
	pending := ids
	runs := 0
	for ; runs < 20 && len(pending) > 0 || runs == 0; runs++ {
		env := s.NewTestWorkflowEnvironment()
		env.RegisterWorkflowWithOptions(DatasetWorkflow, workflow.RegisterOptions{Name: DatasetWorkflowName})
		f.register(env)
		results := map[string]*updateResult{}
		// Batches of 25 decisions a minute apart, so the gate sees its update
		// count grow between workflow tasks.
		for b := 0; b*25 < len(pending); b++ {
			batch := pending[b*25 : min(len(pending), (b+1)*25)]
			env.RegisterDelayedCallback(func() {
				for i, id := range batch {
					d := review.Decision{RequestID: "req-" + id, RecordID: id, Reviewer: testReviewers[i%2], Kind: review.Approve}
					if index[id]%10 == 0 { // every tenth record, whichever run takes it
						d.Kind, d.Reason, d.Note = review.Reject, "other", note
					}
					results[id] = sendUpdate(env, ReviewDecideUpdate, "u-"+id, signedDecision(d, ReviewDecideUpdate))
				}
			}, time.Duration(b+1)*time.Minute)
		}
		env.ExecuteWorkflow(DatasetWorkflowName, in)
		var next []string
		for _, id := range pending {
			r := results[id]
			var appErr interface{ Type() string }
			switch {
			case r != nil && r.done && r.failed == nil:
			case r == nil || errors.As(r.err(), &appErr) && appErr.Type() == ReviewMoving:
				next = append(next, id) // refused while the gate moved: the client retries
			default:
				t.Fatalf("decision on %s: %+v", id, r)
			}
		}
		pending = next
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if !errors.As(err, &can) {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		if size := len(can.Input.Payloads[0].Data); size > maxPayload {
			t.Fatalf("run %d continued as new with a %d-byte input", runs, size)
		}
		in = DatasetInput{}
		if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
			t.Fatal(err)
		}
		if in.State == nil || in.State.Review == nil {
			t.Fatalf("run %d moved on without the gate's state", runs)
		}
	}
	if runs < 3 || len(pending) != 0 {
		t.Fatalf("%d runs, %d decisions left; want the gate to move at least twice and take every decision", runs, len(pending))
	}
	rc := f.committed.Review
	if size := payloadSize(t, f.committed); size > maxPayload {
		t.Fatalf("the commit's input is %d bytes: the decisions did not travel by reference", size)
	}
	q := f.decisions(t, rc, sample)
	rows := q.Rows()
	if len(rows) != n || rc.Summary.Decided != n || rc.Summary.Rejected != n/10 || !rc.Summary.Released {
		t.Fatalf("%d rows, summary %+v; want %d decisions released", len(rows), rc.Summary, n)
	}
	for _, r := range rows {
		if r.Kind == string(review.Reject) && r.Note != note {
			t.Fatalf("row %+v lost its note", r.RecordID)
		}
	}
	if f.journal.maxSave > maxPayload*6 {
		t.Fatalf("a journal part was %d bytes", f.journal.maxSave)
	}
}

// TestReviewGateSignedRequests (issue 14 item 4): the gate accepts only
// requests signed with the named reviewer's token; a reviewer added after
// the gate opened gets in after a reload, a removed one is locked out.
func TestReviewGateSignedRequests(t *testing.T) {
	env, f, in := reviewEnv(t, ReviewOptions{Policy: ReviewRequired, Threshold: 0.1}, 3)
	var unsigned, forged, stale, other, lateAdded, afterReload, revoked, ok *updateResult
	f.revoked = []string{"carol"} // not in the store when the gate opens
	env.RegisterDelayedCallback(func() {
		d := review.Decision{RequestID: "m1", RecordID: "r00", Reviewer: "mallory", Kind: review.Approve}
		unsigned = sendUpdate(env, ReviewDecideUpdate, "a", DecideRequest{Decision: d})
		d.Reviewer = "alice"
		unsigned2 := DecideRequest{Decision: d}
		forgedReq := unsigned2
		forgedReq.Signature = signer("bob").Sign(testWorkflowID, ReviewDecideUpdate, forgedReq.SigningBytes())
		forged = sendUpdate(env, ReviewDecideUpdate, "b", forgedReq)
		stale = sendUpdate(env, ReviewLeaseUpdate, "c", signedLease("alice", env.Now().Add(-time.Hour)))
		// Signed for another dataset.
		r := DecideRequest{Decision: d}
		r.Signature = signer("alice").Sign("dataset-other", ReviewDecideUpdate, r.SigningBytes())
		other = sendUpdate(env, ReviewDecideUpdate, "d", r)
		lateAdded = sendUpdate(env, ReviewDecideUpdate, "e", decision("r01", "carol", review.Approve, ""))
		ok = sendUpdate(env, ReviewDecideUpdate, "f", decision("r00", "alice", review.Approve, ""))
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		f.mu.Lock()
		f.revoked = []string{"bob"}
		f.mu.Unlock()
		sendUpdate(env, ReviewReloadUpdate, "g", nil)
	}, 2*time.Minute)
	env.RegisterDelayedCallback(func() {
		afterReload = sendUpdate(env, ReviewDecideUpdate, "h", decision("r01", "carol", review.Approve, ""))
		revoked = sendUpdate(env, ReviewDecideUpdate, "i", decision("r02", "bob", review.Approve, ""))
		sendUpdate(env, ReviewDecideUpdate, "j", decision("r02", "alice", review.Approve, ""))
	}, 3*time.Minute)
	env.ExecuteWorkflow(DatasetWorkflowName, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*updateResult{"unsigned": unsigned, "signed by another reviewer": forged, "stale lease": stale,
		"signed for another dataset": other, "reviewer not yet in the store": lateAdded, "removed reviewer": revoked} {
		wantType(name, r, ReviewUnauthorized, t)
	}
	if ok.err() != nil || afterReload.err() != nil {
		t.Fatalf("signed decisions refused: %v, %v", ok.err(), afterReload.err())
	}
	q := f.decisions(t, f.committed.Review, intentSample(3))
	if got := q.Final(); got["r00"].Reviewer != "alice" || got["r01"].Reviewer != "carol" || got["r02"].Reviewer != "alice" {
		t.Fatalf("final %+v", got)
	}
}

// TestReviewGateRequestIDsPerReviewer (issue 14 item 5): Bob's reject with
// Alice's request id is his own decision; a reused id with other content is
// a 409, never a silent success.
func TestReviewGateRequestIDsPerReviewer(t *testing.T) {
	env, f, in := reviewEnv(t, ReviewOptions{Policy: ReviewRequired, Threshold: 0.1}, 2)
	var bob, reused, again *updateResult
	env.RegisterDelayedCallback(func() {
		a := review.Decision{RequestID: "req-1", RecordID: "r00", Reviewer: "alice", Kind: review.Approve}
		sendUpdate(env, ReviewDecideUpdate, "a", signedDecision(a, ReviewDecideUpdate))
		b := review.Decision{RequestID: "req-1", RecordID: "r01", Reviewer: "bob", Kind: review.Reject, Reason: "wrong_label"}
		bob = sendUpdate(env, ReviewDecideUpdate, "b", signedDecision(b, ReviewDecideUpdate))
		a.RecordID = "r01"
		reused = sendUpdate(env, ReviewDecideUpdate, "c", signedDecision(a, ReviewDecideUpdate))
		// Bob's client lost the answer and sends the same request again,
		// after his decision was the last one and closed the gate.
		again = sendUpdate(env, ReviewDecideUpdate, "d", signedDecision(b, ReviewDecideUpdate))
	}, time.Minute)
	env.ExecuteWorkflow(DatasetWorkflowName, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if bob.err() != nil {
		t.Fatalf("bob's decision: %v", bob.err())
	}
	if out, _ := bob.value.(review.Outcome); out.Duplicate {
		t.Fatalf("bob's reject was answered as a duplicate of alice's approve: %+v", out)
	}
	wantType("reused request id", reused, "Review409", t)
	if out, _ := again.value.(review.Outcome); again.err() != nil || !out.Duplicate {
		t.Fatalf("bob's retried request: %+v, %v; want its first answer marked duplicate", out, again.err())
	}
	q := f.decisions(t, f.committed.Review, intentSample(2))
	if got := q.Final(); got["r01"].Kind != review.Reject || got["r01"].Reviewer != "bob" {
		t.Fatalf("final %+v", got)
	}
}

// TestReviewGateEditsCheckedOutsideWorkflowCode (issue 15 item 9): a signed
// gate re-validates an edit in the CheckEdit local activity, so workflow code
// never loads the catalog (which took over a second on a busy machine and
// tripped the deadlock detector).
func TestReviewGateEditsCheckedOutsideWorkflowCode(t *testing.T) {
	env, f, in := reviewEnv(t, ReviewOptions{Policy: ReviewRequired, Threshold: 0.5}, 2)
	checks := 0
	env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		if info.ActivityType.Name == CheckEditActivityName {
			checks++
		}
	})
	var good *updateResult
	env.RegisterDelayedCallback(func() {
		d := review.Decision{RequestID: "e1", RecordID: "r00", Reviewer: "alice", Kind: review.Edit,
			EditInput: "what's the weather like right now, question zero"}
		good = sendUpdate(env, ReviewDecideUpdate, "a", signedDecision(d, ReviewDecideUpdate))
		sendUpdate(env, ReviewDecideUpdate, "b", decision("r01", "bob", review.Approve, ""))
	}, time.Minute)
	env.ExecuteWorkflow(DatasetWorkflowName, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if good.err() != nil || checks != 1 {
		t.Fatalf("edit: %v, %d CheckEdit calls; want accepted after one local check", good.err(), checks)
	}
	if f.decisions(t, f.committed.Review, intentSample(2)).Final()["r00"].Kind != review.Edit {
		t.Fatal("the edit was not released")
	}
}
