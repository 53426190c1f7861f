package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill"
	"github.com/cyclecore/mlmforge/eval/report"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// FindDataset finds the version a pipeline's dataset step can reuse: the named
// one (Reuse), or the newest version generated from the same spec (same spec
// hash, catalog included). Otherwise it returns the spec hash to generate under.
func (a *Activities) FindDataset(ctx context.Context, in workflows.FindDatasetInput) (workflows.FoundDataset, error) {
	if in.Reuse != "" {
		ver, err := a.openDataset(in.Reuse)
		if err != nil {
			return workflows.FoundDataset{}, err
		}
		m := ver.Manifest()
		return workflows.FoundDataset{Found: true, Task: m.Task, Version: m.Version, Dir: ver.Dir()}, nil
	}
	cat, err := schemas.Load()
	if err != nil {
		return workflows.FoundDataset{}, err
	}
	spec := in.Spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return workflows.FoundDataset{}, invalid("dataset spec: %v", err)
	}
	out := workflows.FoundDataset{Task: string(spec.Task), SpecHash: spec.Hash(cat.Hash)}
	store, err := datasets.Open(filepath.Join(a.Home, "datasets"))
	if err != nil {
		return out, err
	}
	ms, err := store.List(spec.Task)
	if err != nil {
		return out, err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		var prov datasetProvenance
		if json.Unmarshal(ms[i].Provenance, &prov) != nil || prov.CatalogSHA256 == "" {
			continue // imported or foreign versions are never reused by spec
		}
		if prov.Spec.WithDefaults().Hash(prov.CatalogSHA256) == out.SpecHash {
			out.Found, out.Version = true, ms[i].Version
			out.Dir = filepath.Join(store.Root(), string(spec.Task), ms[i].Version)
			return out, nil
		}
	}
	return out, nil
}

// promoted is HOME/models/<pipeline>/promoted.json: the promoted checkpoint of
// each model name and the metrics it was promoted with.
type promoted struct {
	Models map[string]promotedModel `json:"models"`
}

type promotedModel struct {
	Checkpoint string             `json:"checkpoint"`
	Metrics    map[string]float64 `json:"metrics"`
	RunID      string             `json:"run_id"`
	At         time.Time          `json:"at"`
}

// Promote judges each trained student against the thresholds and the promoted
// model, promotes those that clear both, and writes lineage.json next to the
// report. It is idempotent: a retry judges against the promotions as they were
// before this run (the run id is recorded).
func (a *Activities) Promote(ctx context.Context, in workflows.PromoteInput) (workflows.PromoteResult, error) {
	file, err := report.ReadResults(filepath.Join(in.ReportDir, "results.json"))
	if err != nil {
		return workflows.PromoteResult{}, err
	}
	path := filepath.Join(a.Home, "models", in.Pipeline, "promoted.json")
	var prev promoted
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &prev); err != nil {
			return workflows.PromoteResult{}, fmt.Errorf("%s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return workflows.PromoteResult{}, err
	}
	if prev.Models == nil {
		prev.Models = map[string]promotedModel{}
	}
	next := promoted{Models: map[string]promotedModel{}}
	for k, v := range prev.Models {
		next.Models[k] = v
	}
	tol := in.Policy.Tolerance
	if tol <= 0 {
		tol = 0.01
	}
	var out workflows.PromoteResult
	for _, s := range in.Students {
		metrics := studentMetrics(file, s.Checkpoint)
		old, had := prev.Models[s.Name]
		if had && old.RunID == in.RunID {
			had = false // a retry of this very run: judge against nothing newer than before
		}
		p := judge(s, metrics, in.Policy.Thresholds, old, had, tol)
		if p.Promoted {
			next.Models[s.Name] = promotedModel{Checkpoint: s.Checkpoint, Metrics: metrics, RunID: in.RunID, At: time.Now().UTC()}
		}
		out.Promotions = append(out.Promotions, p)
	}
	if err := writeJSON(path, next); err != nil {
		return out, err
	}
	out.Lineage = filepath.Join(in.ReportDir, "lineage.json")
	lin := map[string]any{"pipeline": in.Pipeline, "run_id": in.RunID, "datasets": in.Datasets, "reviews": in.Reviews,
		"students": in.Students, "report": in.ReportDir, "promotions": out.Promotions, "reused_steps": in.Reused}
	return out, writeJSON(out.Lineage, lin)
}

// studentMetrics collects "task.metric" values of the jobs that evaluated a
// checkpoint (unconstrained decoding: what the model does on its own).
func studentMetrics(f *report.File, checkpoint string) map[string]float64 {
	m := map[string]float64{}
	for _, j := range f.Jobs {
		if j.Model.Ref != "student:"+checkpoint || j.Variant.Constrained {
			continue
		}
		for k, v := range jobMetrics(j) {
			m[j.Dataset.Task+"."+k] = v
		}
	}
	return m
}

// jobMetrics flattens a job's task metrics to their numeric top-level fields
// by JSON name (json_exact, top1, function_exact, ...) plus "headline".
func jobMetrics(j report.Job) map[string]float64 {
	out := map[string]float64{"headline": j.Headline}
	var src any
	switch {
	case j.EdgeJSON != nil:
		src = j.EdgeJSON
	case j.EdgeIntent != nil:
		src = j.EdgeIntent
	case j.EdgeFuncCall != nil:
		src = j.EdgeFuncCall
	default:
		return out
	}
	b, err := json.Marshal(src)
	if err != nil {
		return out
	}
	var fields map[string]any
	if json.Unmarshal(b, &fields) != nil {
		return out
	}
	for k, v := range fields {
		if f, ok := v.(float64); ok && k != "n" && !strings.HasSuffix(k, "failures") && k != "invalid" {
			out[k] = f
		}
	}
	return out
}

// judge decides one promotion and explains it metric by metric. A model is
// promoted on its task's headline metric (JSON exact, top-1, example accuracy):
// the policy must set a threshold on it, the model must reach it and must not
// fall below the promoted model's headline by more than tol; the other
// thresholds and metrics must hold too. No other metric can promote a model on
// its own (a student that writes schema-valid JSON with wrong values is not good).
func judge(s workflows.PromoteStudent, metrics, thresholds map[string]float64, old promotedModel, had bool, tol float64) workflows.Promotion {
	p := workflows.Promotion{Name: s.Name, Checkpoint: s.Checkpoint}
	if had {
		p.Previous = old.Checkpoint
	}
	var fails, notes []string
	headline := ""
	if task, err := schemas.ParseTask(s.Task); err == nil {
		headline = distill.HeadlineMetric(task)
	}
	if _, ok := thresholds[headline]; !ok {
		fails = append(fails, fmt.Sprintf("no threshold on %s, the headline metric a %s model is promoted on (promotion.thresholds)", headline, s.Task))
	}
	keys := make([]string, 0, len(thresholds))
	for k := range thresholds {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { // the headline first, then by name
		return keys[i] == headline || keys[j] != headline && keys[i] < keys[j]
	})
	for _, k := range keys {
		v, ok := metrics[k]
		switch {
		case !ok && strings.HasPrefix(k, s.Task+"."):
			fails = append(fails, fmt.Sprintf("%s was not measured", k))
		case ok && v < thresholds[k]:
			fails = append(fails, fmt.Sprintf("%s %.3f < threshold %.3f", k, v, thresholds[k]))
		case ok:
			notes = append(notes, fmt.Sprintf("%s %.3f >= %.3f", k, v, thresholds[k]))
		}
	}
	if had {
		okeys := make([]string, 0, len(old.Metrics))
		for k := range old.Metrics {
			okeys = append(okeys, k)
		}
		sort.Strings(okeys)
		for _, k := range okeys {
			if v, ok := metrics[k]; ok && v < old.Metrics[k]-tol {
				fails = append(fails, fmt.Sprintf("%s %.3f is below the promoted model's %.3f by more than %.3f", k, v, old.Metrics[k], tol))
			}
		}
	}
	if len(fails) > 0 {
		p.Reason = "not promoted: " + strings.Join(fails, "; ")
		if had {
			p.Reason += "; " + old.Checkpoint + " stays promoted"
		}
		return p
	}
	p.Promoted = true
	p.Reason = "promoted"
	if len(notes) > 0 {
		p.Reason += ": " + strings.Join(notes, "; ")
	}
	if had {
		p.Reason += fmt.Sprintf("; no metric below the promoted model by more than %.3f", tol)
	}
	return p
}
