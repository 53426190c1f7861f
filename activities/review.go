package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/workflows"
)

// StageReview merges the shards (as the commit will), draws the stratified
// review sample and writes it to sample.parquet in the run directory, without
// provenance and validation columns: reviewers need the text and the label.
func (a *Activities) StageReview(ctx context.Context, in workflows.StageInput) (workflows.StageResult, error) {
	_, plan, err := loadPlan(in.PlanPath)
	if err != nil {
		return workflows.StageResult{}, err
	}
	sel, err := selectShards(ctx, plan, in.Paths(), in.Drops)
	if err != nil {
		return workflows.StageResult{}, err
	}
	ids := review.SelectSample(sel.Records, review.SampleRule{Fraction: in.Fraction})
	byID := make(map[string]datasets.Record, len(sel.Records))
	for _, r := range sel.Records {
		byID[r.ID] = r
	}
	sample := make([]datasets.Record, 0, len(ids))
	for _, id := range ids {
		r := byID[id]
		// Reviewers need the text and the label, not how it was made.
		r.Provenance = ""
		r.Validation = ""
		r.Meta = ""
		r.SoftLabels = ""
		r.ReviewStatus = datasets.ReviewPending
		sample = append(sample, r)
	}
	name := "sample.parquet"
	if in.ReviewRound > 0 {
		name = fmt.Sprintf("sample-%d.parquet", in.ReviewRound)
	}
	path := filepath.Join(filepath.Dir(in.PlanPath), name)
	if err := datasets.WriteShard(path, sample); err != nil {
		return workflows.StageResult{}, err
	}
	return workflows.StageResult{SamplePath: path, Sampled: len(sample)}, nil
}

// LoadSample returns one page of the staged sample.
func (a *Activities) LoadSample(ctx context.Context, in workflows.LoadSampleInput) ([]datasets.Record, error) {
	recs, err := datasets.ReadShard(in.SamplePath)
	if err != nil {
		return nil, err
	}
	if in.Offset < 0 || in.Limit <= 0 || in.Offset > len(recs) {
		return nil, fmt.Errorf("load sample %s: page [%d, +%d) outside %d records", in.SamplePath, in.Offset, in.Limit, len(recs))
	}
	return recs[in.Offset:min(len(recs), in.Offset+in.Limit)], nil
}

// reviewManifest is the manifest's review block.
type reviewManifest struct {
	Policy           string         `json:"policy"`
	AutoApproved     bool           `json:"auto_approved,omitempty"`
	DeadlineReleased bool           `json:"deadline_released,omitempty"`
	DecisionsFile    string         `json:"decisions_file,omitempty"`
	Summary          review.Summary `json:"summary"`
	// Earlier are the failed reviews whose rejected cells were regenerated.
	Earlier []review.Summary `json:"earlier,omitempty"`
}

// applyReview marks sampled records, drops rejected ones and applies edits.
// It returns the records to release and the manifest's review block.
func applyReview(recs []datasets.Record, rc *workflows.ReviewCommit) ([]datasets.Record, json.RawMessage, error) {
	if rc == nil {
		return recs, nil, nil
	}
	sample, err := datasets.ReadShard(rc.SamplePath)
	if err != nil {
		return nil, nil, err
	}
	sampled := make(map[string]bool, len(sample))
	for _, r := range sample {
		sampled[r.ID] = true
	}
	// Decisions of earlier (failed) reviews still hold for the records that
	// survived them: their cells were not regenerated.
	final := map[string]review.FinalDecision{}
	for _, e := range rc.Earlier {
		earlier, err := datasets.ReadShard(e.SamplePath)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range earlier {
			sampled[r.ID] = true
		}
		maps.Copy(final, e.Final)
	}
	maps.Copy(final, rc.Final)
	out := make([]datasets.Record, 0, len(recs))
	for _, r := range recs {
		switch f, decided := final[r.ID]; {
		case !sampled[r.ID]:
		case rc.Policy == workflows.ReviewAuto:
			r.ReviewStatus = datasets.ReviewApproved
		case !decided:
			r.ReviewStatus = datasets.ReviewPending // released by the deadline undecided
		case f.Kind == review.Reject:
			continue
		case f.Kind == review.Edit:
			r.Input, r.Target, r.ReviewStatus = f.Input, string(f.Target), datasets.ReviewEdited
		default:
			r.ReviewStatus = datasets.ReviewApproved
		}
		out = append(out, r)
	}
	m := reviewManifest{Policy: rc.Policy, AutoApproved: rc.Policy == workflows.ReviewAuto,
		DeadlineReleased: rc.DeadlineReleased, Summary: rc.Summary}
	for _, e := range rc.Earlier {
		m.Earlier = append(m.Earlier, e.Summary)
	}
	if rc.Policy == workflows.ReviewAuto {
		// Auto-approval approves the whole sample without a reviewer.
		n := len(sample)
		m.Summary = review.Summary{Sampled: n, Decided: n, Approved: n, ApprovalRate: 1, Released: true}
	} else {
		m.DecisionsFile = "review.parquet"
	}
	b, err := json.Marshal(m)
	return out, b, err
}
