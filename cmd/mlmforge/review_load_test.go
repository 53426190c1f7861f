package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/bench/reviewload"
	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/worker"
	"github.com/cyclecore/mlmforge/workflows"
)

// TestReviewLoad (issue 14, must show): four reviewers decide a
// 2,000-record sample concurrently through the reviewer UI's HTTP API of a
// real `mlmforge dev`, at full speed (each decides as soon as it has its
// lease). Every decision is recorded once, none is lost, and the dataset
// releases. bench/reviewload/cmd runs the same load and prints latencies;
// this test asserts none.
func TestReviewLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 decisions on the embedded Temporal server; skipped with -short")
	}
	home := t.TempDir()
	revs, err := review.OpenReviewers(review.StorePath(home))
	if err != nil {
		t.Fatal(err)
	}
	var reviewers []reviewload.Reviewer
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		tok, err := revs.Add(name)
		if err != nil {
			t.Fatal(err)
		}
		reviewers = append(reviewers, reviewload.Reviewer{Name: name, Token: tok})
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
	_, lines := startCLI(t, "Ready.", "--home", home, "dev", "--port", strings.TrimPrefix(addr, "127.0.0.1:"),
		"--ui-port", "-1", "--review-listen", "127.0.0.1:0")
	base := ""
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "Reviewer UI at "); ok {
			base, _, _ = strings.Cut(rest, " ")
		}
	}
	if base == "" {
		t.Fatalf("dev printed no reviewer UI address: %q", lines)
	}
	// Every record of 1,000 train + 1,000 test is sampled: 2,000 to decide.
	out, errOut, code := runCLI(t, "--home", home, "generate", "--task", "edgeintent", "--classes", "50",
		"--train", "1000", "--test", "1000", "--seed", "5", "--review", "required", "--review-fraction", "1",
		"--address", addr, "--detach")
	if code != 0 {
		t.Fatalf("generate --detach: exit %d: %s %s", code, out, errOut)
	}
	id := strings.TrimSpace(out)

	// No deadline of its own: under -race on a busy 2-core machine the 2,000
	// decisions took over 15 minutes; go test's -timeout bounds the run.
	ctx := t.Context()
	sampled, err := reviewload.WaitQueue(ctx, base, id, reviewers[0])
	if err != nil {
		t.Fatal(err)
	}
	if sampled != 2000 {
		t.Fatalf("the queue samples %d records, want 2000", sampled)
	}
	res, err := reviewload.Run(ctx, reviewload.Config{BaseURL: base, Queue: id, Reviewers: reviewers, RejectEvery: 20})
	if err != nil {
		t.Fatal(err)
	}
	c, err := worker.Dial(ctx, worker.DialConfig{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ds workflows.DatasetResult
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &ds); err != nil {
		t.Fatalf("the dataset did not release: %v", err)
	}
	store, err := datasets.Open(filepath.Join(home, "datasets"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := store.Version(schemas.EdgeIntent, ds.Version)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := review.ReadDecisions(filepath.Join(v.Dir(), "review.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if err := reviewload.Verify(rows, res, sampled); err != nil {
		t.Fatal(err)
	}
	rejected := 0
	for _, r := range rows {
		if r.Kind == string(review.Reject) {
			rejected++
		}
	}
	if ds.Review == nil || ds.Review.Decided != sampled || ds.Review.Rejected != rejected || ds.Counts["train"]+ds.Counts["test"] != 2000-rejected {
		t.Fatalf("released %v with review %+v; want %d decisions, %d rejected rows dropped", ds.Counts, ds.Review, sampled, rejected)
	}
	for _, r := range reviewers {
		if ds.Review.PerReviewer[r.Name] == 0 {
			t.Errorf("%s decided nothing: the load was not concurrent (%v)", r.Name, ds.Review.PerReviewer)
		}
	}
}
