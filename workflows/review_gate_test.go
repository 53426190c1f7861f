package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/review"
)

// intentSample is n real-looking EdgeIntent records the review queue checks
// edits of with the generator's validator.
func intentSample(n int) []datasets.Record {
	var out []datasets.Record
	for i := 0; i < n; i++ {
		out = append(out, datasets.Record{ID: fmt.Sprintf("r%02d", i), Task: "edgeintent", Split: "test",
			Input: fmt.Sprintf("what's the weather like right now, question %d", i), Target: `{"intent":"weather_current"}`,
			Cell: "weather_current", Variant: "assistant-50", Intent: "weather_current", ReviewStatus: datasets.ReviewPending})
	}
	return out
}

// updateResult runs one update from a delayed callback and records its outcome.
type updateResult struct {
	rejected error
	failed   error
	done     bool
	value    any
}

func sendUpdate(env *testsuite.TestWorkflowEnvironment, name, id string, arg any) *updateResult {
	res := &updateResult{}
	env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { res.rejected = err },
		OnComplete: func(v any, err error) {
			res.done, res.value, res.failed = true, v, err
		},
	}, arg)
	return res
}

func reviewEnv(t *testing.T, opts ReviewOptions, sample int) (*testsuite.TestWorkflowEnvironment, *fakeGen, DatasetInput) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(DatasetWorkflow, workflow.RegisterOptions{Name: DatasetWorkflowName})
	f := newFakeGen(2, 5)
	f.sample = intentSample(sample)
	f.register(env)
	in := datasetInput()
	in.Review = opts
	return env, f, in
}

// decision is a reviewer's signed decision request.
func decision(id, reviewer string, kind review.Kind, reason string) DecideRequest {
	return signedDecision(review.Decision{RequestID: id + "-" + reviewer + "-" + string(kind), RecordID: id, Reviewer: reviewer,
		Kind: kind, Reason: reason}, ReviewDecideUpdate)
}

// adjudication is an adjudicator's signed decision request.
func adjudication(id, reviewer string, kind review.Kind, reason string) DecideRequest {
	return signedDecision(review.Decision{RequestID: id + "-" + reviewer + "-" + string(kind), RecordID: id, Reviewer: reviewer,
		Kind: kind, Reason: reason}, ReviewAdjudicateUpdate)
}

func TestReviewGateRequiredReleasesAfterDecisions(t *testing.T) {
	env, f, in := reviewEnv(t, ReviewOptions{Policy: ReviewRequired}, 4)
	var early, unknown, malformed, badEdit *updateResult
	env.RegisterDelayedCallback(func() {
		// Before the gate opens? By now generation is done: the gate is open.
		early = sendUpdate(env, ReviewLeaseUpdate, "lease-alice", signedLease("alice", env.Now()))
		unknown = sendUpdate(env, ReviewDecideUpdate, "u1", decision("nope", "alice", review.Approve, ""))
		malformed = sendUpdate(env, ReviewDecideUpdate, "u2", decision("r00", "alice", review.Reject, ""))
		edit := review.Decision{RequestID: "edit-1", RecordID: "r00", Reviewer: "alice", Kind: review.Edit,
			EditTarget: []byte(`{"intent":"weather_current","slots":{"city":"Paris"}}`)}
		badEdit = sendUpdate(env, ReviewDecideUpdate, "u3", signedDecision(edit, ReviewDecideUpdate))
		for i, id := range []string{"r00", "r01", "r02", "r03"} {
			kind, reason := review.Approve, ""
			if i == 3 {
				kind, reason = review.Reject, "unnatural_text"
			}
			sendUpdate(env, ReviewDecideUpdate, "d"+id, decision(id, "alice", kind, reason))
		}
	}, time.Minute)
	in.Review.Threshold = 0.75
	env.ExecuteWorkflow(DatasetWorkflowName, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if early == nil || early.rejected != nil || !early.done {
		t.Fatalf("lease: %+v", early)
	}
	wantType("unknown record", unknown, "Review404", t)
	wantType("reject without reason", malformed, "Review422", t)
	// An edit is re-validated by the CheckEdit local activity in the
	// handler: the update fails rather than being rejected.
	wantType("edit breaking grounding", badEdit, "Review422", t)
	if err := badEdit.err(); err != nil && !containsAny(err.Error(), "Paris", "ground") {
		t.Errorf("edit refusal %q does not say what failed", err)
	}
	rc := f.committed.Review
	q := f.decisions(t, rc, intentSample(4))
	if rc.Policy != ReviewRequired || len(q.Final()) != 4 || len(q.Rows()) != 4 || len(rc.Final) != 0 {
		t.Fatalf("commit review %+v: want the 4 decisions by reference only", rc)
	}
	if q.Final()["r03"].Kind != review.Reject || rc.Summary.Approved != 3 || !rc.Summary.Released {
		t.Errorf("final %+v summary %+v", q.Final()["r03"], rc.Summary)
	}
}

func TestReviewGateBelowThresholdFails(t *testing.T) {
	env, f, in := reviewEnv(t, ReviewOptions{Policy: ReviewRequired}, 3)
	env.RegisterDelayedCallback(func() {
		sendUpdate(env, ReviewDecideUpdate, "a", decision("r00", "bob", review.Approve, ""))
		sendUpdate(env, ReviewDecideUpdate, "b", decision("r01", "bob", review.Reject, "wrong_label"))
		sendUpdate(env, ReviewDecideUpdate, "c", decision("r02", "bob", review.Approve, ""))
	}, time.Minute)
	env.ExecuteWorkflow(DatasetWorkflowName, in)
	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != "ReviewFailed" || !containsAny(err.Error(), "0.667") {
		t.Fatalf("err = %v, want ReviewFailed with the approval rate", err)
	}
	if f.committed.PlanPath != "" {
		t.Error("a failed review committed a version")
	}
}

func TestReviewGateDeadline(t *testing.T) {
	for _, onDeadline := range []string{"fail", "release"} {
		t.Run(onDeadline, func(t *testing.T) {
			env, f, in := reviewEnv(t, ReviewOptions{Policy: ReviewRequired, DeadlineSeconds: 3600, OnDeadline: onDeadline}, 3)
			env.RegisterDelayedCallback(func() {
				sendUpdate(env, ReviewDecideUpdate, "a", decision("r00", "carol", review.Approve, ""))
			}, time.Minute)
			env.ExecuteWorkflow(DatasetWorkflowName, in)
			err := env.GetWorkflowError()
			if onDeadline == "fail" {
				var appErr *temporal.ApplicationError
				if !errors.As(err, &appErr) || appErr.Type() != "ReviewDeadline" {
					t.Fatalf("err = %v, want ReviewDeadline", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rc := f.committed.Review; rc == nil || !rc.DeadlineReleased || len(f.decisions(t, rc, intentSample(3)).Final()) != 1 {
				t.Fatalf("released review %+v", rc)
			}
		})
	}
}

func TestReviewGateAutoDoesNotWait(t *testing.T) {
	env, f, in := reviewEnv(t, ReviewOptions{Policy: ReviewAuto}, 5)
	env.ExecuteWorkflow(DatasetWorkflowName, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if rc := f.committed.Review; rc == nil || rc.Policy != ReviewAuto || rc.Summary.Sampled != 5 || len(rc.Final) != 0 {
		t.Fatalf("auto review %+v", rc)
	}
}

func TestReviewGateTwoReviewers(t *testing.T) {
	env, f, in := reviewEnv(t, ReviewOptions{Policy: ReviewRequired, TwoReviewers: true, Threshold: 0.5}, 3)
	env.RegisterDelayedCallback(func() {
		sendUpdate(env, ReviewDecideUpdate, "a0", decision("r00", "alice", review.Approve, ""))
		sendUpdate(env, ReviewDecideUpdate, "b0", decision("r00", "bob", review.Reject, "unnatural_text"))
		sendUpdate(env, ReviewDecideUpdate, "a1", decision("r01", "alice", review.Approve, ""))
		sendUpdate(env, ReviewDecideUpdate, "b1", decision("r01", "bob", review.Approve, ""))
		sendUpdate(env, ReviewDecideUpdate, "a2", decision("r02", "alice", review.Reject, "wrong_label"))
		sendUpdate(env, ReviewDecideUpdate, "b2", decision("r02", "bob", review.Reject, "wrong_label"))
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		// The disagreement on r00 waits for an adjudicator.
		sendUpdate(env, ReviewAdjudicateUpdate, "c0", adjudication("r00", "carol", review.Approve, ""))
	}, 2*time.Minute)
	env.ExecuteWorkflow(DatasetWorkflowName, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	rc := f.committed.Review
	q := f.decisions(t, rc, intentSample(3))
	if len(q.Rows()) != 7 || rc.Summary.Kappa == nil || rc.Summary.Disagreements != 1 || rc.Summary.Adjudicated != 1 {
		t.Fatalf("two-reviewer review %+v", rc)
	}
	if final := q.Final(); final["r00"].Reviewer != "carol" || !final["r00"].Adjudicated || final["r02"].Kind != review.Reject {
		t.Errorf("final %+v", final)
	}
}

// err is the update's rejection or failure.
func (r *updateResult) err() error {
	if r == nil {
		return nil
	}
	if r.rejected != nil {
		return r.rejected
	}
	return r.failed
}

// wantType checks that an update was refused (rejected or failed) with an
// application error of type typ.
func wantType(name string, r *updateResult, typ string, t *testing.T) {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(r.err(), &appErr) || appErr.Type() != typ {
		t.Errorf("%s: refusal %v, want type %s", name, r.err(), typ)
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestReviewGateRegenerateRejected: the first review rejects a record of cell
// c1 and falls below the threshold; the workflow discards c1, generates it
// again, samples again, and releases after the second review, carrying the
// first review's decisions into the release.
func TestReviewGateRegenerateRejected(t *testing.T) {
	env, f, in := reviewEnv(t, ReviewOptions{Policy: ReviewRequired, RegenerateRejected: true}, 0)
	first := intentSample(3)
	first[1].Cell = "c1"
	second := intentSample(3)
	for i := range second {
		second[i].ID = fmt.Sprintf("s%02d", i)
	}
	f.sample = first
	var stageInputs []StageInput
	env.OnActivity(StageReviewActivityName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in StageInput) (StageResult, error) {
			stageInputs = append(stageInputs, in)
			if in.ReviewRound == 1 {
				f.sample = second
			}
			return StageResult{SamplePath: fmt.Sprintf("/runs/x/sample-%d.parquet", in.ReviewRound), Sampled: 3}, nil
		})
	var status ReviewStatus
	env.RegisterDelayedCallback(func() {
		sendUpdate(env, ReviewDecideUpdate, "a", decision("r00", "bob", review.Approve, ""))
		sendUpdate(env, ReviewDecideUpdate, "b", decision("r01", "bob", review.Reject, "wrong_label"))
		sendUpdate(env, ReviewDecideUpdate, "c", decision("r02", "bob", review.Approve, ""))
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(ReviewQuery)
		if err != nil {
			t.Error(err)
			return
		}
		_ = v.Get(&status)
		for _, id := range []string{"s00", "s01", "s02"} {
			sendUpdate(env, ReviewDecideUpdate, id, decision(id, "bob", review.Approve, ""))
		}
	}, time.Hour)
	env.ExecuteWorkflow(DatasetWorkflowName, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	env.AssertExpectations(t)
	if len(stageInputs) != 2 || len(stageInputs[1].Drops) != 1 || stageInputs[1].Drops[0].Cell != "c1" {
		t.Fatalf("stage inputs %+v, want a second staging that drops c1", stageInputs)
	}
	drop := stageInputs[1].Drops[0]
	// c1 was generated again: batches of a round >= the drop's round ask for its whole quota.
	regen := map[string]int{}
	for _, b := range f.batches {
		if b.Round >= drop.BeforeRound {
			for _, it := range b.Items {
				regen[fmt.Sprintf("c%d/%s", it.Cell, it.Split)] += it.Need
			}
		}
	}
	if regen["c1/test"] != 5 || regen["c1/train"] != 10 || regen["c0/test"] != 0 {
		t.Errorf("regenerated %v, want exactly c1's quota (5 test, 10 train)", regen)
	}
	if status.ReviewRound != 1 || len(status.Earlier) != 1 || status.Earlier[0].Rejected != 1 {
		t.Errorf("status during the second review %+v", status)
	}
	rc := f.committed.Review
	if rc == nil || rc.Failed || len(rc.Earlier) != 1 || f.decisions(t, &rc.Earlier[0], first).Final()["r01"].Kind != review.Reject ||
		rc.Summary.Approved != 3 || len(f.committed.Drops) != 1 {
		t.Fatalf("commit %+v review %+v", f.committed, rc)
	}
}

func TestReviewGateRegenerateGivesUp(t *testing.T) {
	env, _, in := reviewEnv(t, ReviewOptions{Policy: ReviewRequired, RegenerateRejected: true, MaxRegenerations: 1}, 2)
	reject := func() {
		sendUpdate(env, ReviewDecideUpdate, "x", decision("r00", "bob", review.Reject, "wrong_label"))
		sendUpdate(env, ReviewDecideUpdate, "y", decision("r01", "bob", review.Approve, ""))
	}
	env.RegisterDelayedCallback(reject, time.Minute)
	env.RegisterDelayedCallback(func() {
		sendUpdate(env, ReviewDecideUpdate, "x2", decision("r00", "bob", review.Reject, "wrong_label"))
		sendUpdate(env, ReviewDecideUpdate, "y2", decision("r01", "bob", review.Approve, ""))
	}, time.Hour)
	env.ExecuteWorkflow(DatasetWorkflowName, in)
	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != "ReviewFailed" ||
		!containsAny(err.Error(), "after 1 regeneration") {
		t.Fatalf("err = %v, want ReviewFailed after 1 regeneration", err)
	}
}
