package activities

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// TestJournaledCommit: a review whose decisions travel by reference (a
// journal written by SaveReviewOps, shards named by round) commits like an
// inline one: rejects dropped, edits applied, notes and edit diffs in
// review.parquet; and the journal pages back in without notes.
func TestJournaledCommit(t *testing.T) {
	home := t.TempDir()
	a := &Activities{Home: home, Identity: "test"}
	spec := generator.Spec{Task: schemas.EdgeIntent, Variant: "50", Counts: map[string]int{"test": 100}, Seed: 8}
	br, _, err := runDataset(t, a, spec)
	if err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	plan := filepath.Join(home, "runs", "run-"+t.Name(), "plan.json")
	// The batch wrote round 0, batch 0: name it by reference.
	shards := workflows.ShardSet{PlanPath: plan, ShardRounds: []int{1}, RunDir: filepath.Dir(plan)}
	if br.Shard != workflows.ShardPath(filepath.Dir(plan), 0, 0) {
		t.Fatalf("shard %s is not where ShardPath names it", br.Shard)
	}
	stageIn := workflows.StageInput{ShardSet: shards, Fraction: 0.1}
	v, err := env.ExecuteActivity(a.StageReview, stageIn)
	if err != nil {
		t.Fatal(err)
	}
	var st workflows.StageResult
	_ = v.Get(&st)
	sample, err := datasets.ReadShard(st.SamplePath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := review.Config{Journal: true}
	q := review.NewQueue(cfg, sample)
	note := strings.Repeat("n", review.MaxNoteBytes)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, r := range sample {
		d := review.Decision{RequestID: r.ID, RecordID: r.ID, Reviewer: "alice", Kind: review.Approve, At: at}
		switch i {
		case 0:
			d.Kind, d.Reason, d.Note = review.Reject, "other", note
		case 1:
			d.Kind, d.EditInput = review.Edit, r.Input+" please"
		}
		if out := q.Apply(d); out.Error != "" {
			t.Fatal(out.Error)
		}
	}
	dir := filepath.Join(filepath.Dir(plan), "review-0")
	ops := q.TakeJournal()
	for part, chunk := range [][]review.Op{ops[:20], ops[20:]} {
		if _, err := env.ExecuteActivity(a.SaveReviewOps, workflows.SaveReviewOpsInput{Dir: dir, Segment: 0, Part: part, Ops: chunk}); err != nil {
			t.Fatal(err)
		}
	}
	v, err = env.ExecuteActivity(a.LoadReviewOps, workflows.LoadReviewOpsInput{Dir: dir, Parts: []int{2}, Offset: 0, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var page workflows.LoadReviewOpsResult
	_ = v.Get(&page)
	if page.Total != len(sample) || len(page.Ops) != 10 || page.Ops[0].Decision.Note != "" || page.Ops[0].Fingerprint == "" {
		t.Fatalf("page of %d ops of %d, first %+v: want 10 with notes dropped and fingerprints kept", len(page.Ops), page.Total, page.Ops[0])
	}
	cfg.Journal = false
	rc := &workflows.ReviewCommit{Policy: workflows.ReviewRequired, SamplePath: st.SamplePath, Config: cfg, OpsDir: dir,
		OpsParts: []int{2}, Summary: q.Summary()}
	in := workflows.CommitInput{ShardSet: shards, RunID: "journaled", Review: rc}
	v, err = env.ExecuteActivity(a.CommitDataset, in)
	if err != nil {
		t.Fatal(err)
	}
	var cr workflows.CommitResult
	_ = v.Get(&cr)
	if cr.Counts["test"] != 99 {
		t.Fatalf("released %d rows, want 99 (one rejected)", cr.Counts["test"])
	}
	store, _ := datasets.Open(filepath.Join(home, "datasets"))
	ver, err := store.Version(schemas.EdgeIntent, cr.Version)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := review.ReadDecisions(filepath.Join(ver.Dir(), "review.parquet"))
	if err != nil || len(rows) != len(sample) {
		t.Fatalf("review.parquet: %d rows, %v", len(rows), err)
	}
	if rows[0].Note != note || rows[1].EditDiff != "input: "+sample[1].Input+"{+ please+}" {
		t.Fatalf("rows lost the note or the diff: %q / %q", rows[0].Note[:10], rows[1].EditDiff)
	}
	var m struct {
		Summary review.Summary `json:"summary"`
	}
	if err := json.Unmarshal(ver.Manifest().Review, &m); err != nil || m.Summary.Rejected != 1 || m.Summary.Edited != 1 {
		t.Fatalf("manifest review %s (%v)", ver.Manifest().Review, err)
	}
}
