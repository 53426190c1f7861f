package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"go.temporal.io/sdk/temporal"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator/validate"
	"github.com/cyclecore/mlmforge/internal/atomicfile"
	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// LoadReviewers returns the public keys of the reviewers in the home's
// store: what a review gate checks signed requests with.
func (a *Activities) LoadReviewers(ctx context.Context) (workflows.ReviewersResult, error) {
	store, err := review.OpenReviewers(review.StorePath(a.Home))
	if err != nil {
		return workflows.ReviewersResult{}, err
	}
	keys, err := store.Keys()
	if err != nil {
		return workflows.ReviewersResult{}, err
	}
	return workflows.ReviewersResult{Keys: keys}, nil
}

// CheckEdit re-validates an edited record with the generator's validator
// (schema, label, length, leaks, mock execution, grounding). It runs as a
// local activity of the review gate, so the catalog is loaded here, never in
// workflow code.
func (a *Activities) CheckEdit(ctx context.Context, in workflows.CheckEditInput) (workflows.CheckEditResult, error) {
	cat, err := schemas.Load()
	if err != nil {
		return workflows.CheckEditResult{}, err
	}
	v := validate.New(cat, validate.Config{MinInputChars: in.MinInputChars, MaxInputChars: in.MaxInputChars,
		CheckGrounding: true})
	if err := review.ValidatorCheck(v)(in.Record, in.Input, in.Target); err != nil {
		return workflows.CheckEditResult{Error: err.Error()}, nil
	}
	return workflows.CheckEditResult{}, nil
}

// SaveReviewOps writes one part of a review journal atomically. The path
// derives from the segment and part, so a retry rewrites the same file.
func (a *Activities) SaveReviewOps(ctx context.Context, in workflows.SaveReviewOpsInput) error {
	if err := os.MkdirAll(in.Dir, 0o755); err != nil {
		return fmt.Errorf("save review journal: %w", err)
	}
	b, err := json.Marshal(in.Ops)
	if err != nil {
		return fmt.Errorf("save review journal: %w", err)
	}
	path := workflows.ReviewOpsPath(in.Dir, in.Segment, in.Part)
	return atomicfile.WriteFile(path, b, 0o644)
}

// readJournal reads every op of a journal, in order. A missing or corrupt
// part is permanent: retrying does not bring decisions back.
func readJournal(dir string, parts []int) ([]review.Op, error) {
	var all []review.Op
	for seg, n := range parts {
		for part := 0; part < n; part++ {
			path := workflows.ReviewOpsPath(dir, seg, part)
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("review journal: %v", err), workflows.ErrDatasetCorrupt, err)
			}
			var ops []review.Op
			if err := json.Unmarshal(b, &ops); err != nil {
				err = fmt.Errorf("review journal %s: %w", path, err)
				return nil, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrDatasetCorrupt, err)
			}
			all = append(all, ops...)
		}
	}
	return all, nil
}

// LoadReviewOps returns one page of a review journal, notes dropped: the gate
// replays it onto its sample and needs no note for that.
func (a *Activities) LoadReviewOps(ctx context.Context, in workflows.LoadReviewOpsInput) (workflows.LoadReviewOpsResult, error) {
	all, err := readJournal(in.Dir, in.Parts)
	if err != nil {
		return workflows.LoadReviewOpsResult{}, err
	}
	if in.Offset < 0 || in.Limit <= 0 || in.Offset > len(all) {
		return workflows.LoadReviewOpsResult{}, fmt.Errorf("load review journal %s: page [%d, +%d) outside %d ops", in.Dir, in.Offset, in.Limit, len(all))
	}
	res := workflows.LoadReviewOpsResult{Total: len(all)}
	for _, op := range all[in.Offset:min(len(all), in.Offset+in.Limit)] {
		res.Ops = append(res.Ops, op.Compact())
	}
	return res, nil
}

// journalDecisions rebuilds a journaled review's queue: the sample with the
// journal replayed, for its final decisions and decision rows.
func journalDecisions(rc workflows.ReviewCommit) (*review.Queue, error) {
	sample, err := datasets.ReadShard(rc.SamplePath)
	if err != nil {
		return nil, err
	}
	ops, err := readJournal(rc.OpsDir, rc.OpsParts)
	if err != nil {
		return nil, err
	}
	cfg := rc.Config
	cfg.Journal = false
	q := review.NewQueue(cfg, sample)
	for _, op := range ops {
		if err := q.Replay(op); err != nil {
			err = fmt.Errorf("review journal %s: %w", rc.OpsDir, err)
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrDatasetCorrupt, err)
		}
	}
	return q, nil
}

// resolveReview fills a journaled review's (and its earlier reviews') final
// decisions and rows from their journals, so the release code sees one shape.
func resolveReview(rc *workflows.ReviewCommit) error {
	if rc == nil {
		return nil
	}
	if rc.OpsDir != "" {
		q, err := journalDecisions(*rc)
		if err != nil {
			return err
		}
		rc.Final, rc.Rows = q.Final(), q.Rows()
	}
	for i := range rc.Earlier {
		if err := resolveReview(&rc.Earlier[i]); err != nil {
			return err
		}
	}
	return nil
}
