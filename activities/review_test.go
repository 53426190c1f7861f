package activities

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// TestReviewedCommit stages a sample, decides it (reject one, edit one,
// approve the rest) and commits: the release drops the rejected record, carries
// the edit, marks statuses, and ships review.parquet and the manifest summary.
func TestReviewedCommit(t *testing.T) {
	home := t.TempDir()
	a := &Activities{Home: home, Identity: "test"}
	spec := generator.Spec{Task: schemas.EdgeIntent, Variant: "50", Counts: map[string]int{"test": 100}, Seed: 8}
	br, _, err := runDataset(t, a, spec) // also commits an unreviewed v1, which this test ignores
	if err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	plan := filepath.Join(home, "runs", "run-"+t.Name(), "plan.json")
	v, err := env.ExecuteActivity(a.StageReview, workflows.StageInput{ShardSet: workflows.ShardSet{PlanPath: plan, Shards: []string{br.Shard}}, Fraction: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	var st workflows.StageResult
	_ = v.Get(&st)
	if st.Sampled != 50 { // ceil(10% of 2) = 1 per class, 50 classes
		t.Fatalf("sampled %d, want 50 (one per class)", st.Sampled)
	}
	v, err = env.ExecuteActivity(a.LoadSample, workflows.LoadSampleInput{SamplePath: st.SamplePath, Offset: 0, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var sample []datasets.Record
	_ = v.Get(&sample)
	if len(sample) != 50 || sample[0].Provenance != "" || sample[0].ReviewStatus != datasets.ReviewPending {
		t.Fatalf("sample page: %d records, first %+v", len(sample), sample[0])
	}
	final := map[string]review.FinalDecision{}
	for i, r := range sample {
		switch i {
		case 0:
			final[r.ID] = review.FinalDecision{Kind: review.Reject, Status: datasets.ReviewRejected}
		case 1:
			final[r.ID] = review.FinalDecision{Kind: review.Edit, Status: datasets.ReviewEdited, Input: r.Input + " (edited)", Target: json.RawMessage(r.Target)}
		default:
			final[r.ID] = review.FinalDecision{Kind: review.Approve, Status: datasets.ReviewApproved}
		}
	}
	rc := &workflows.ReviewCommit{Policy: workflows.ReviewRequired, SamplePath: st.SamplePath, Final: final,
		Rows:    []review.DecisionRow{{RecordID: sample[0].ID, Reviewer: "alice", Kind: "reject", Reason: "unnatural_text", RequestID: "x", Round: 1}},
		Summary: review.Summary{Sampled: 50, Decided: 50, Approved: 48, Rejected: 1, Edited: 1, Released: true}}
	v, err = env.ExecuteActivity(a.CommitDataset, workflows.CommitInput{ShardSet: workflows.ShardSet{PlanPath: plan, Shards: []string{br.Shard}}, RunID: "reviewed", Review: rc})
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
	recs, _ := ver.Read("test")
	statuses := map[string]int{}
	for _, r := range recs {
		statuses[r.ReviewStatus]++
		if r.ID == sample[0].ID {
			t.Error("the rejected record was released")
		}
		if r.ID == sample[1].ID && !strings.HasSuffix(r.Input, "(edited)") {
			t.Errorf("edit not applied: %q", r.Input)
		}
	}
	if statuses[datasets.ReviewApproved] != 48 || statuses[datasets.ReviewEdited] != 1 || statuses[datasets.ReviewUnsampled] != 50 {
		t.Errorf("review statuses %v", statuses)
	}
	if rows, err := review.ReadDecisions(filepath.Join(ver.Dir(), "review.parquet")); err != nil || len(rows) != 1 {
		t.Errorf("review.parquet: %d rows, %v", len(rows), err)
	}
	var m struct {
		Policy  string         `json:"policy"`
		Summary review.Summary `json:"summary"`
	}
	if err := json.Unmarshal(ver.Manifest().Review, &m); err != nil || m.Policy != "required" || m.Summary.Rejected != 1 {
		t.Errorf("manifest review %s (%v)", ver.Manifest().Review, err)
	}
	if _, err := os.Stat(st.SamplePath); err != nil {
		t.Error(err)
	}
}

// TestRegeneratedCellCommit: a first review rejected a record of one cell; the
// cell was generated again in round 1. The merge keeps only round 1's examples
// of that cell, the second sample goes to sample-1.parquet, and the release
// carries the first review's decisions on records that survived it, with both
// reviews' decisions in review.parquet.
func TestRegeneratedCellCommit(t *testing.T) {
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
	v, err := env.ExecuteActivity(a.StageReview, workflows.StageInput{ShardSet: workflows.ShardSet{PlanPath: plan, Shards: []string{br.Shard}}, Fraction: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	var first workflows.StageResult
	_ = v.Get(&first)
	sample, err := datasets.ReadShard(first.SamplePath)
	if err != nil {
		t.Fatal(err)
	}
	bad, good := sample[0], sample[1]
	// Round 1 regenerates the rejected record's cell with fresh attempts.
	var pr workflows.PlanResult
	cell := -1
	v, err = env.ExecuteActivity(a.PlanDataset, workflows.PlanInput{Spec: spec, RunID: "run-" + t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	_ = v.Get(&pr)
	for i, c := range pr.Cells {
		if c.Key == bad.Cell {
			cell = i
		}
	}
	v, err = env.ExecuteActivity(a.GenerateBatch, workflows.BatchInput{PlanPath: plan, RunDir: pr.RunDir, Round: 1, Batch: 0,
		Items: []generator.Item{{Cell: cell, Split: "test", Need: 2, FirstAttempt: 100, MaxAttempt: 200}}})
	if err != nil {
		t.Fatal(err)
	}
	var br1 workflows.BatchResult
	_ = v.Get(&br1)
	drops := []workflows.CellDrop{{Cell: bad.Cell, BeforeRound: 1}}
	shards := []string{br.Shard, br1.Shard}
	v, err = env.ExecuteActivity(a.StageReview, workflows.StageInput{ShardSet: workflows.ShardSet{PlanPath: plan, Shards: shards, Drops: drops}, Fraction: 0.1, ReviewRound: 1})
	if err != nil {
		t.Fatal(err)
	}
	var second workflows.StageResult
	_ = v.Get(&second)
	if filepath.Base(second.SamplePath) != "sample-1.parquet" || second.Sampled != 50 {
		t.Fatalf("second stage %+v", second)
	}
	sample2, _ := datasets.ReadShard(second.SamplePath)
	final2 := map[string]review.FinalDecision{}
	for _, r := range sample2 {
		final2[r.ID] = review.FinalDecision{Kind: review.Approve, Status: datasets.ReviewApproved}
	}
	earlier := workflows.ReviewCommit{Policy: workflows.ReviewRequired, SamplePath: first.SamplePath, Failed: true,
		Final:   map[string]review.FinalDecision{bad.ID: {Kind: review.Reject}, good.ID: {Kind: review.Approve}},
		Rows:    []review.DecisionRow{{RecordID: bad.ID, Reviewer: "bob", Kind: "reject", Reason: "wrong_label", RequestID: "e1", Round: 1}},
		Summary: review.Summary{Sampled: 50, Decided: 2, Rejected: 1}}
	rc := &workflows.ReviewCommit{Policy: workflows.ReviewRequired, SamplePath: second.SamplePath, Final: final2,
		Rows:    []review.DecisionRow{{RecordID: sample2[0].ID, Reviewer: "bob", Kind: "approve", RequestID: "e2", Round: 1}},
		Summary: review.Summary{Sampled: 50, Decided: 50, Approved: 50, Released: true}, Earlier: []workflows.ReviewCommit{earlier}}
	v, err = env.ExecuteActivity(a.CommitDataset, workflows.CommitInput{ShardSet: workflows.ShardSet{PlanPath: plan, Shards: shards, Drops: drops}, RunID: "regen", Review: rc})
	if err != nil {
		t.Fatal(err)
	}
	var cr workflows.CommitResult
	_ = v.Get(&cr)
	store, _ := datasets.Open(filepath.Join(home, "datasets"))
	ver, err := store.Version(schemas.EdgeIntent, cr.Version)
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := ver.Read("test")
	if len(recs) != 100 {
		t.Fatalf("released %d rows, want 100", len(recs))
	}
	for _, r := range recs {
		var m generator.ExampleMeta
		_ = json.Unmarshal([]byte(r.Meta), &m)
		if r.Cell == bad.Cell && m.Round != 1 {
			t.Errorf("record %s of the regenerated cell is from round %d", r.ID, m.Round)
		}
		if r.ID == good.ID && r.ReviewStatus != datasets.ReviewApproved {
			t.Errorf("the first review's approval of %s was lost: %s", r.ID, r.ReviewStatus)
		}
	}
	rows, err := review.ReadDecisions(filepath.Join(ver.Dir(), "review.parquet"))
	if err != nil || len(rows) != 2 || rows[0].ReviewRound != 0 || rows[1].ReviewRound != 1 {
		t.Errorf("review.parquet rows %+v (%v)", rows, err)
	}
	if !strings.Contains(string(ver.Manifest().Review), `"earlier"`) {
		t.Errorf("manifest review %s lacks the earlier review", ver.Manifest().Review)
	}
}
