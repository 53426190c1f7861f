package activities

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/eval/report"
	"github.com/cyclecore/mlmforge/eval/runner"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// shardSide is written next to each shard: what the report needs besides the
// predictions (the model's description, the shard's wall time, memory).
type shardSide struct {
	WallMS       float64          `json:"wall_ms"`
	Info         runner.ModelInfo `json:"info"`
	PeakRSSBytes int64            `json:"peak_rss_bytes,omitempty"`
	Worker       string           `json:"worker,omitempty"`
}

// peakRSS is this process's peak resident memory (VmHWM), 0 when unknown.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// EvalReport scores every job's predictions and writes the report directory.
func (a *Activities) EvalReport(ctx context.Context, plan workflows.EvalPlan) (workflows.EvalResult, error) {
	for _, job := range plan.Jobs {
		if err := a.verifyDatasets(job.Dataset); err != nil {
			return workflows.EvalResult{}, err
		}
	}
	cat, err := schemas.Load()
	if err != nil {
		return workflows.EvalResult{}, err
	}
	scorer, err := eval.NewScorer(cat)
	if err != nil {
		return workflows.EvalResult{}, err
	}
	var results []report.Result
	for _, job := range plan.Jobs {
		if err := ctx.Err(); err != nil {
			return workflows.EvalResult{}, err
		}
		r, err := a.scoreJob(scorer, plan.ReportDir, job)
		if err != nil {
			return workflows.EvalResult{}, fmt.Errorf("job %s: %w", job.Key, err)
		}
		results = append(results, r)
	}
	machine, _ := report.DetectMachine()
	lin := report.Lineage{GeneratedAt: time.Now().UTC(), GitCommit: report.DetectGitCommit(), Machine: machine}
	file, err := report.Write(plan.ReportDir, results, lin)
	if err != nil {
		return workflows.EvalResult{}, err
	}
	return workflows.EvalResult{ReportDir: plan.ReportDir, Table: file.Table(), Skipped: plan.Skipped}, nil
}

func (a *Activities) scoreJob(scorer *eval.Scorer, dir string, job workflows.EvalJob) (report.Result, error) {
	ver, err := a.openDataset(job.Dataset)
	if err != nil {
		return report.Result{}, err
	}
	recs, err := ver.Read(job.Split)
	if err != nil {
		return report.Result{}, err
	}
	recs = recs[:min(len(recs), job.N)]
	preds, err := readShards(dir, job)
	if err != nil {
		return report.Result{}, err
	}
	rep, err := scorer.Score(recs, preds)
	if err != nil {
		return report.Result{}, err
	}
	// The dataset shows under the name the user gave it (edgeintent@v4),
	// never a record field such as an import's variant.
	name, _, _ := strings.Cut(job.Dataset, "@")
	res := report.Result{Report: rep, Variant: report.Variant{Shots: job.Shots, Constrained: job.Constrained},
		Dataset: report.Dataset{Task: job.Task, Name: name, Version: job.Version, Split: job.Split, N: len(recs),
			Variants: recordVariants(recs)}}
	if job.Split == generator.HoldoutSplit {
		res.Dataset.TestSplit = ver.Manifest().TestSplit
	}
	var wall float64
	for s := 0; s < job.Shards; s++ {
		var side shardSide
		b, err := os.ReadFile(strings.TrimSuffix(shardPath(dir, job.Key, s), ".parquet") + ".json")
		if err != nil {
			return res, err
		}
		if err := json.Unmarshal(b, &side); err != nil {
			return res, fmt.Errorf("shard %d sidecar: %w", s, err)
		}
		wall += side.WallMS
		res.Model = side.Info
		res.PeakRSSBytes = max(res.PeakRSSBytes, side.PeakRSSBytes)
	}
	res.Wall = time.Duration(wall * float64(time.Millisecond))
	return res, nil
}

// recordVariants lists the records' variants in first-seen order.
func recordVariants(recs []datasets.Record) []string {
	var out []string
	for i := range recs {
		if v := recs[i].Variant; v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
