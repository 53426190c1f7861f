package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/builtin"
	"github.com/cyclecore/mlmforge/generator/ollama"
	"github.com/cyclecore/mlmforge/generator/validate"
	"github.com/cyclecore/mlmforge/internal/atomicfile"
	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// PlanDataset resolves the spec into cells and quotas and writes plan.json
// into the run directory. Re-running it rewrites the same plan.
func (a *Activities) PlanDataset(ctx context.Context, in workflows.PlanInput) (workflows.PlanResult, error) {
	cat, err := schemas.Load()
	if err != nil {
		return workflows.PlanResult{}, err
	}
	plan, err := generator.NewPlan(cat, in.Spec)
	if err != nil {
		return workflows.PlanResult{}, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrInvalidSpec, err)
	}
	if _, err := a.teacher(cat, plan.Spec.Teacher); err != nil {
		return workflows.PlanResult{}, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrInvalidSpec, err)
	}
	runDir := filepath.Join(a.Home, "runs", safeName(in.RunID))
	path := filepath.Join(runDir, "plan.json")
	if err := writeJSONAtomic(path, plan); err != nil {
		return workflows.PlanResult{}, err
	}
	res := workflows.PlanResult{PlanPath: path, RunDir: runDir, SpecHash: plan.SpecHash, Task: string(plan.Spec.Task),
		Variant: plan.Variant, Splits: plan.Spec.Splits(), AttemptFactor: plan.Spec.AttemptFactor}
	for _, c := range plan.Cells {
		res.Cells = append(res.Cells, workflows.PlanCell{Key: c.Cell.Key, Quota: c.Quota})
	}
	return res, nil
}

// GenerateBatch generates one batch into a Parquet shard. Ids derive from the
// plan and attempt numbers, so a retry on any worker rewrites the same shard.
func (a *Activities) GenerateBatch(ctx context.Context, in workflows.BatchInput) (workflows.BatchResult, error) {
	cat, plan, err := loadPlan(in.PlanPath)
	if err != nil {
		return workflows.BatchResult{}, err
	}
	teacher, err := a.teacher(cat, plan.Spec.Teacher)
	if err != nil {
		return workflows.BatchResult{}, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrInvalidSpec, err)
	}
	info, err := teacher.Info(ctx)
	if err != nil {
		return workflows.BatchResult{}, classifyTeacherErr(err)
	}
	_, isBuiltin := teacher.(*builtin.Teacher)
	shard := workflows.ShardPath(in.RunDir, in.Round, in.Batch)
	if err := os.MkdirAll(filepath.Dir(shard), 0o755); err != nil {
		return workflows.BatchResult{}, err
	}
	beat := &batchBeat{ctx: ctx, partial: strings.TrimSuffix(shard, ".parquet") + ".partial.parquet", every: a.checkpointEvery()}
	runner := &generator.Runner{
		Catalog: cat, Plan: plan, Teacher: teacher, Info: info, Prompts: !isBuiltin,
		Validator: validate.New(cat, validate.Config{
			MinInputChars: plan.Spec.MinInputChars, MaxInputChars: plan.Spec.MaxInputChars, CheckGrounding: true}),
		Checkpoint: beat.update,
	}
	from := beat.resume() // before the heartbeat goroutine starts reading the detail
	stop := beat.start(2 * time.Second)
	defer stop()
	recs, items, stats, err := runner.Run(ctx, in.Round, in.Items, from)
	if err != nil {
		return workflows.BatchResult{}, classifyTeacherErr(err)
	}
	if err := datasets.WriteShard(shard, recs); err != nil {
		return workflows.BatchResult{}, err
	}
	_ = os.Remove(beat.partial)
	return workflows.BatchResult{Shard: shard, Items: items, Stats: stats}, nil
}

// MergeShards dedups across every shard and returns the kept counts.
func (a *Activities) MergeShards(ctx context.Context, in workflows.MergeInput) (workflows.MergeResult, error) {
	_, plan, err := loadPlan(in.PlanPath)
	if err != nil {
		return workflows.MergeResult{}, err
	}
	sel, err := selectShards(ctx, plan, in.Paths(), in.Drops)
	if err != nil {
		return workflows.MergeResult{}, err
	}
	return workflows.MergeResult{Kept: sel.Kept, Stats: sel.Stats}, nil
}

// datasetProvenance is the manifest's provenance block for a generated version.
type datasetProvenance struct {
	RunID            string          `json:"run_id"`
	Spec             generator.Spec  `json:"spec"`
	Variant          string          `json:"variant"`
	GeneratorVersion string          `json:"generator_version"`
	CatalogSHA256    string          `json:"catalog_sha256"`
	Stats            generator.Stats `json:"stats"`
	Worker           string          `json:"worker"`
}

// CommitDataset writes the merged selection as a dataset version. If this run
// already committed one (the activity is being retried after its result was
// lost), that version is returned instead of writing a second.
func (a *Activities) CommitDataset(ctx context.Context, in workflows.CommitInput) (workflows.CommitResult, error) {
	cat, plan, err := loadPlan(in.PlanPath)
	if err != nil {
		return workflows.CommitResult{}, err
	}
	store, err := datasets.Open(filepath.Join(a.Home, "datasets"))
	if err != nil {
		return workflows.CommitResult{}, err
	}
	if done, ok, err := findRunVersion(store, plan.Spec.Task, in.RunID); err != nil || ok {
		return done, err
	}
	sel, err := selectShards(ctx, plan, in.Paths(), in.Drops)
	if err != nil {
		return workflows.CommitResult{}, err
	}
	if err := resolveReview(in.Review); err != nil {
		return workflows.CommitResult{}, err
	}
	w, err := store.Create(plan.Spec.Task, in.Version)
	if err != nil {
		if errors.Is(err, datasets.ErrVersionExists) {
			return workflows.CommitResult{}, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrPermanent, err)
		}
		return workflows.CommitResult{}, err
	}
	defer w.Abort()
	recs, reviewJSON, err := applyReview(sel.Records, in.Review)
	if err != nil {
		return workflows.CommitResult{}, err
	}
	if err := w.Write(recs...); err != nil {
		return workflows.CommitResult{}, err
	}
	if in.Review != nil && in.Review.Policy == workflows.ReviewRequired {
		// review.parquet travels with the version: the decisions behind it.
		if err := review.WriteDecisions(filepath.Join(w.Dir(), "review.parquet"), allDecisionRows(in.Review)); err != nil {
			return workflows.CommitResult{}, err
		}
	}
	prov, err := json.Marshal(datasetProvenance{RunID: in.RunID, Spec: plan.Spec, Variant: plan.Variant,
		GeneratorVersion: generator.GeneratorVersion, CatalogSHA256: cat.Hash, Stats: in.Stats, Worker: a.Identity})
	if err != nil {
		return workflows.CommitResult{}, err
	}
	m, err := w.Commit(datasets.CommitInfo{SpecHash: plan.SpecHash, Provenance: prov, Review: reviewJSON,
		Notes: fmt.Sprintf("generated by %s with teacher %s", in.RunID, plan.Spec.Teacher), TestSplit: generator.TestSplitKind(plan.Spec)})
	if err != nil {
		return workflows.CommitResult{}, err
	}
	return commitResult(store, m), nil
}

func commitResult(store *datasets.Store, m *datasets.Manifest) workflows.CommitResult {
	counts := map[string]int{}
	for name, sp := range m.Splits {
		counts[name] = sp.Rows
	}
	return workflows.CommitResult{Version: m.Version, Dir: filepath.Join(store.Root(), m.Task, m.Version), Counts: counts,
		TestSplit: m.TestSplit}
}

// findRunVersion finds the version a run already committed, by the run id in
// its provenance.
func findRunVersion(store *datasets.Store, task schemas.Task, runID string) (workflows.CommitResult, bool, error) {
	ms, err := store.List(task)
	if err != nil {
		return workflows.CommitResult{}, false, err
	}
	for _, m := range ms {
		var p datasetProvenance
		if json.Unmarshal(m.Provenance, &p) == nil && p.RunID == runID && runID != "" {
			return commitResult(store, m), true, nil
		}
	}
	return workflows.CommitResult{}, false, nil
}

func selectShards(ctx context.Context, plan *generator.Plan, shards []string, drops []workflows.CellDrop) (generator.Selection, error) {
	// A regenerated cell keeps only the examples of its new rounds.
	dropBefore := map[string]int{}
	for _, d := range drops {
		dropBefore[d.Cell] = max(dropBefore[d.Cell], d.BeforeRound)
	}
	var all []datasets.Record
	for _, s := range shards {
		if err := ctx.Err(); err != nil {
			return generator.Selection{}, err
		}
		recs, err := datasets.ReadShard(s)
		if err != nil {
			return generator.Selection{}, err
		}
		for _, r := range recs {
			if before, ok := dropBefore[r.Cell]; ok {
				var m generator.ExampleMeta
				if err := json.Unmarshal([]byte(r.Meta), &m); err != nil {
					return generator.Selection{}, fmt.Errorf("shard %s: record %s meta: %w", s, r.ID, err)
				}
				if m.Round < before {
					continue
				}
			}
			all = append(all, r)
		}
	}
	return generator.Select(plan, all), nil
}

// teacher resolves a teacher reference: "builtin" or "ollama:<model>".
func (a *Activities) teacher(cat *schemas.Catalog, ref string) (generator.Teacher, error) {
	switch {
	case ref == "builtin":
		return builtin.New(cat), nil
	case strings.HasPrefix(ref, "ollama:") && len(ref) > len("ollama:"):
		cfg := a.Ollama
		cfg.Model = strings.TrimPrefix(ref, "ollama:")
		if cfg.NumCtx == 0 {
			cfg.NumCtx = 8192 // EdgeIntent-200 and function catalogs make long prompts
		}
		return ollama.New(cfg)
	}
	return nil, fmt.Errorf("teacher %q: want builtin or ollama:<model>, e.g. ollama:qwen2.5:7b", ref)
}

// classifyTeacherErr makes a missing model a permanent failure; everything
// else is retried by Temporal with backoff.
func classifyTeacherErr(err error) error {
	if errors.Is(err, ollama.ErrModelNotFound) {
		return temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrModelNotFound, err)
	}
	return err
}

// loadPlan reads plan.json and the catalog it was made from.
func loadPlan(path string) (*schemas.Catalog, *generator.Plan, error) {
	cat, err := schemas.Load()
	if err != nil {
		return nil, nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read plan: %w", err)
	}
	var p generator.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, nil, fmt.Errorf("parse plan %s: %w", path, err)
	}
	if want := p.Spec.Hash(cat.Hash); want != p.SpecHash {
		err := fmt.Errorf("plan %s was made from another catalog or generator version (spec hash %s, now %s)", path, p.SpecHash[:12], want[:12])
		return nil, nil, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrPermanent, err)
	}
	return cat, &p, nil
}

// writeJSONAtomic writes v as indented JSON to path atomically (atomicfile.WriteFile).
func writeJSONAtomic(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

// safeName keeps a workflow id usable as one path element.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, strings.TrimLeft(s, "."))
}

// allDecisionRows lists the decisions of the failed reviews before the final
// one (their rounds regenerated the rejected cells), then the final review's.
func allDecisionRows(rc *workflows.ReviewCommit) []review.DecisionRow {
	var rows []review.DecisionRow
	for i, e := range rc.Earlier {
		for _, r := range e.Rows {
			r.ReviewRound = i
			rows = append(rows, r)
		}
	}
	for _, r := range rc.Rows {
		r.ReviewRound = len(rc.Earlier)
		rows = append(rows, r)
	}
	return rows
}
