package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator/validate"
	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/schemas"
)

// testWorkflowID is the id the review tests run the Dataset workflow under:
// requests are signed for it.
const testWorkflowID = "dataset-test"

// testReviewers are the reviewers the fake store knows; each token is
// "token-" + name.
var testReviewers = []string{"alice", "bob", "carol"}

// signer is a test reviewer's signer.
func signer(name string) review.Signer { return review.NewSigner(name, "token-"+name) }

// journalStore is the fake's journal files, by path.
type journalStore struct {
	mu      sync.Mutex
	files   map[string][]review.Op
	saves   int
	maxSave int // bytes of the largest SaveReviewOps input
	pages   int // LoadReviewOps calls
}

// registerReview registers the review activities of a signed gate: the
// reviewers' keys, a journal in memory, and CheckEdit with the real
// validator (what the activity runs).
func (f *fakeGen) registerReview(env *testsuite.TestWorkflowEnvironment) {
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: testWorkflowID})
	if f.journal == nil {
		f.journal = &journalStore{files: map[string][]review.Op{}}
	}
	j := f.journal
	env.RegisterActivityWithOptions(func(context.Context) (ReviewersResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var res ReviewersResult
		for _, name := range testReviewers {
			if !slices.Contains(f.revoked, name) {
				res.Keys = append(res.Keys, review.ReviewerKey{Name: name, PublicKey: review.PublicKeyHex(signer(name).Key)})
			}
		}
		return res, nil
	}, activity.RegisterOptions{Name: LoadReviewersActivityName})
	env.RegisterActivityWithOptions(func(_ context.Context, in SaveReviewOpsInput) error {
		j.mu.Lock()
		defer j.mu.Unlock()
		b, _ := json.Marshal(in.Ops) // through JSON, as the files carry them
		j.maxSave = max(j.maxSave, len(b))
		var ops []review.Op
		_ = json.Unmarshal(b, &ops)
		j.files[ReviewOpsPath(in.Dir, in.Segment, in.Part)] = ops
		j.saves++
		return nil
	}, activity.RegisterOptions{Name: SaveReviewOpsActivityName})
	env.RegisterActivityWithOptions(func(_ context.Context, in LoadReviewOpsInput) (LoadReviewOpsResult, error) {
		j.mu.Lock()
		defer j.mu.Unlock()
		j.pages++
		var all []review.Op
		for seg, n := range in.Parts {
			for part := 0; part < n; part++ {
				ops, ok := j.files[ReviewOpsPath(in.Dir, seg, part)]
				if !ok {
					return LoadReviewOpsResult{}, fmt.Errorf("no journal part %d/%d in %s", seg, part, in.Dir)
				}
				all = append(all, ops...)
			}
		}
		res := LoadReviewOpsResult{Total: len(all)}
		for _, op := range all[min(in.Offset, len(all)):min(in.Offset+in.Limit, len(all))] {
			res.Ops = append(res.Ops, op.Compact())
		}
		return res, nil
	}, activity.RegisterOptions{Name: LoadReviewOpsActivityName})
	cat, err := schemas.Load()
	if err != nil {
		panic(err)
	}
	env.RegisterActivityWithOptions(func(_ context.Context, in CheckEditInput) (CheckEditResult, error) {
		check := review.ValidatorCheck(validate.New(cat, validate.Config{MinInputChars: in.MinInputChars,
			MaxInputChars: in.MaxInputChars, CheckGrounding: true}))
		if err := check(in.Record, in.Input, in.Target); err != nil {
			return CheckEditResult{Error: err.Error()}, nil
		}
		return CheckEditResult{}, nil
	}, activity.RegisterOptions{Name: CheckEditActivityName})
}

// signedDecision is decision signed by its reviewer for update name.
func signedDecision(d review.Decision, update string) DecideRequest {
	r := DecideRequest{Decision: d}
	r.Signature = signer(d.Reviewer).Sign(testWorkflowID, update, r.SigningBytes())
	return r
}

// signedLease is a signed lease request made at at.
func signedLease(reviewer string, at time.Time) LeaseRequest {
	r := LeaseRequest{Reviewer: reviewer, At: at}
	r.Signature = signer(reviewer).Sign(testWorkflowID, ReviewLeaseUpdate, r.SigningBytes())
	return r
}

// signedUndo is a signed undo request made at at.
func signedUndo(reviewer, recordID, requestID string, at time.Time) UndoRequest {
	r := UndoRequest{Reviewer: reviewer, RecordID: recordID, RequestID: requestID, At: at}
	r.Signature = signer(reviewer).Sign(testWorkflowID, ReviewUndoUpdate, r.SigningBytes())
	return r
}

// decisions replays a released review's journal onto its sample, as the
// commit activity does, and returns the queue.
func (f *fakeGen) decisions(t testing.TB, rc *ReviewCommit, sample []datasets.Record) *review.Queue {
	t.Helper()
	if rc == nil || rc.OpsDir == "" {
		t.Fatalf("review commit %+v has no journal", rc)
	}
	q := review.NewQueue(rc.Config, sample)
	f.journal.mu.Lock()
	defer f.journal.mu.Unlock()
	for seg, n := range rc.OpsParts {
		for part := 0; part < n; part++ {
			for _, op := range f.journal.files[ReviewOpsPath(rc.OpsDir, seg, part)] {
				if err := q.Replay(op); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return q
}
