package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/worker/reviewgate"
	"github.com/cyclecore/mlmforge/workflows"
)

// TestReviewGateEndToEnd: a dataset waits at the gate on the embedded server,
// two reviewers work the queue in parallel through the Temporal-backed gate
// with signed requests and without collisions, the dataset is released, and
// its manifest and review.parquet agree with what they did.
func TestReviewGateEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded Temporal server; skipped with -short")
	}
	a, c, ctx := embeddedForTest(t)
	revs, err := review.OpenReviewers(review.StorePath(a.home))
	if err != nil {
		t.Fatal(err)
	}
	signers := map[string]review.Signer{}
	for _, name := range []string{"alice", "bob"} {
		tok, err := revs.Add(name)
		if err != nil {
			t.Fatal(err)
		}
		signers[name] = review.NewSigner(name, tok)
	}
	in := workflows.DatasetInput{Spec: generator.Spec{Task: schemas.EdgeIntent, Variant: "50",
		Counts: map[string]int{"test": 100, "train": 200}, Seed: 21}.WithDefaults(),
		Review: workflows.ReviewOptions{Policy: workflows.ReviewRequired}}
	run, _, err := startDataset(ctx, c, in)
	if err != nil {
		t.Fatal(err)
	}
	g := reviewgate.New(c)
	for {
		st, err := g.Status(ctx, run.GetID())
		if err == nil && st.Phase == "review" {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the dataset never reached the review gate")
		}
		time.Sleep(50 * time.Millisecond)
	}
	qs, err := g.Queues(ctx)
	if err != nil || len(qs) != 1 || qs[0].ID != run.GetID() || qs[0].Progress.Sampled != 100 {
		t.Fatalf("queues %+v, %v (want one queue with 100 sampled: 1 test + 1 train per class... ceil(10%% of 2 and 4))", qs, err)
	}
	if qi, err := g.Info(ctx, run.GetID()); err != nil || !reflect.DeepEqual(qi, qs[0]) {
		t.Fatalf("Info(%s) = %+v, %v; want the listing's %+v", run.GetID(), qi, err, qs[0])
	}
	if _, err := g.Info(ctx, "no-such-dataset"); !isCode(err, http.StatusNotFound) {
		t.Fatalf("Info of an unknown workflow: %v, want a 404", err)
	}

	decided := map[string][]string{}
	// Issue 14 items 3 and 4: a request signed with another token is refused;
	// a reviewer added while the gate waits is accepted at once (the gate
	// reloads the store on his first request), and one removed is refused
	// once the gate reloads.
	if _, err := g.Lease(ctx, run.GetID(), review.NewSigner("alice", "not-her-token")); !isCode(err, http.StatusUnauthorized) {
		t.Fatalf("lease with a wrong token: %v, want a 401", err)
	}
	tok, err := revs.Add("carol")
	if err != nil {
		t.Fatal(err)
	}
	carol := review.NewSigner("carol", tok)
	rec, err := g.Lease(ctx, run.GetID(), carol)
	if err != nil {
		t.Fatalf("lease by a reviewer added while the gate waits: %v", err)
	}
	if _, err := g.Decide(ctx, run.GetID(), carol, review.Decision{RequestID: "carol-0", RecordID: rec.ID, Kind: review.Approve}); err != nil {
		t.Fatal(err)
	}
	decided["carol"] = []string{rec.ID}
	if err := revs.Remove("carol"); err != nil {
		t.Fatal(err)
	}
	for { // reloads are rate-limited: wait until the gate has dropped her
		names, err := g.Reload(ctx, run.GetID())
		if err == nil && !slices.Contains(names, "carol") {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the gate never dropped a removed reviewer: %v, %v", names, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := g.Lease(ctx, run.GetID(), carol); !isCode(err, http.StatusUnauthorized) {
		t.Fatalf("lease by a removed reviewer: %v, want a 401", err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, reviewer := range []string{"alice", "bob"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				rec, err := g.Lease(ctx, run.GetID(), signers[reviewer])
				if errors.Is(err, review.ErrQueueEmpty) {
					return
				}
				if err != nil {
					t.Errorf("%s lease: %v", reviewer, err)
					return
				}
				d := review.Decision{RequestID: fmt.Sprintf("%s-%d", reviewer, n), RecordID: rec.ID, Reviewer: reviewer, Kind: review.Approve}
				if n == 0 && reviewer == "bob" {
					d.Kind, d.Reason = review.Reject, "unnatural_text"
				}
				if _, err := g.Decide(ctx, run.GetID(), signers[reviewer], d); err != nil {
					t.Errorf("%s decide %s: %v", reviewer, rec.ID, err)
					return
				}
				// A double submit changes nothing.
				if out, err := g.Decide(ctx, run.GetID(), signers[reviewer], d); err != nil || !out.Duplicate {
					t.Errorf("double submit: %+v, %v", out, err)
				}
				mu.Lock()
				decided[reviewer] = append(decided[reviewer], rec.ID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var res workflows.DatasetResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for reviewer, ids := range decided {
		for _, id := range ids {
			if other, dup := seen[id]; dup {
				t.Fatalf("record %s decided by both %s and %s", id, other, reviewer)
			}
			seen[id] = reviewer
		}
	}
	if len(seen) != 100 || len(decided["alice"]) == 0 || len(decided["bob"]) == 0 {
		t.Fatalf("decided %d records (alice %d, bob %d, carol 1), want 100 shared by all", len(seen), len(decided["alice"]), len(decided["bob"]))
	}
	if res.Counts["test"]+res.Counts["train"] != 299 || res.Review == nil || res.Review.Rejected != 1 {
		t.Fatalf("released %v with review %+v, want 299 rows (one rejected)", res.Counts, res.Review)
	}
	store, _ := datasets.Open(filepath.Join(a.home, "datasets"))
	v, err := store.Version(schemas.EdgeIntent, res.Version)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := review.ReadDecisions(filepath.Join(v.Dir(), "review.parquet"))
	if err != nil || len(rows) != 100 {
		t.Fatalf("review.parquet: %d rows, %v", len(rows), err)
	}
	for _, r := range rows {
		if seen[r.RecordID] != r.Reviewer {
			t.Fatalf("review.parquet says %s decided %s; the test saw %s", r.Reviewer, r.RecordID, seen[r.RecordID])
		}
	}
	var m struct {
		Policy  string         `json:"policy"`
		Summary review.Summary `json:"summary"`
	}
	if err := json.Unmarshal(v.Manifest().Review, &m); err != nil || m.Summary.Decided != 100 || m.Summary.Approved != 99 ||
		m.Summary.PerReviewer["alice"] != len(decided["alice"]) {
		t.Fatalf("manifest review %s (%v)", v.Manifest().Review, err)
	}
}

// isCode reports whether err is a review.DecisionError with code.
func isCode(err error, code int) bool {
	var de *review.DecisionError
	return errors.As(err, &de) && de.Code == code
}
