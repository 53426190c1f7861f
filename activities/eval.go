package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"go.temporal.io/sdk/activity"

	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/eval/runner"
	"github.com/cyclecore/mlmforge/internal/atomicfile"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// studentMeta is what evaluation planning reads from a checkpoint's config.json.
type studentMeta struct {
	Arch    string            `json:"arch"`
	Preset  string            `json:"preset"`
	Lineage map[string]string `json:"lineage"`
}

// studentTask is the task a student checkpoint was trained for ("" when it
// does not say, e.g. a multi-task student, which is evaluated on every
// decoder task).
func studentTask(dir string) (studentMeta, string, error) {
	var m studentMeta
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return m, "", invalid("student %s: %v", dir, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, "", invalid("student %s: config.json: %v", dir, err)
	}
	task, _, _ := strings.Cut(m.Lineage["dataset"], "@")
	if m.Lineage["tasks"] != "" {
		task = ""
	}
	return m, task, nil
}

var unsafeKey = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// jobKey names a job in file names: model, dataset and variant.
func jobKey(model, task, version string, shots int, constrained bool) string {
	name := model
	if kind, rest, ok := strings.Cut(model, ":"); ok && kind == "student" {
		name = "student_" + filepath.Base(filepath.Dir(rest)) + "_" + filepath.Base(rest)
	}
	k := unsafeKey.ReplaceAllString(name, "_") + "__" + task + "_" + version
	if shots > 0 {
		k += fmt.Sprintf("__shots%d", shots)
	}
	if constrained {
		k += "__constrained"
	}
	return k
}

// PrepareEval resolves the datasets and cuts model x dataset x variant into shards.
func (a *Activities) PrepareEval(ctx context.Context, in workflows.EvalInput) (workflows.EvalPlan, error) {
	if err := a.verifyDatasets(in.Datasets...); err != nil {
		return workflows.EvalPlan{}, err
	}
	plan := workflows.EvalPlan{ReportDir: filepath.Join(a.Home, "reports", activity.GetInfo(ctx).WorkflowExecution.ID),
		ShardSize: in.ShardSize, OllamaHost: in.OllamaHost}
	if plan.ShardSize <= 0 {
		plan.ShardSize = 100
	}
	split := in.Split
	if split == "" {
		split = "test"
	}
	shots := in.Shots
	if len(shots) == 0 {
		shots = []int{0}
	}
	for _, ref := range in.Datasets {
		ver, err := a.openDataset(ref)
		if err != nil {
			return plan, err
		}
		n := ver.Manifest().Splits[split].Rows
		if n == 0 {
			return plan, invalid("dataset %s has no %s split (splits: %v)", ref, split, slices.Sorted(maps.Keys(ver.Manifest().Splits)))
		}
		if in.Limit > 0 {
			n = min(n, in.Limit)
		}
		task, version := ver.Manifest().Task, ver.Manifest().Version
		for _, m := range in.Models {
			jobs, skip, err := planModel(m, task, shots, in.Constrained)
			if err != nil {
				return plan, err
			}
			if skip != "" {
				plan.Skipped = append(plan.Skipped, fmt.Sprintf("%s on %s@%s: %s", m, task, version, skip))
				continue
			}
			for _, j := range jobs {
				j.Task = task
				j.Dataset = task + "@" + version
				j.Version = version
				j.DatasetDir = ver.Dir()
				j.Split = split
				j.N = n
				j.Shards = (n + plan.ShardSize - 1) / plan.ShardSize
				j.Key = jobKey(m, task, version, j.Shots, j.Constrained)
				plan.Jobs = append(plan.Jobs, j)
			}
		}
	}
	if len(plan.Jobs) == 0 {
		return plan, invalid("nothing to evaluate: %s", strings.Join(plan.Skipped, "; "))
	}
	return plan, os.MkdirAll(plan.ReportDir, 0o755)
}

// planModel lists the variants of one model on one task, or why it is skipped.
func planModel(ref, task string, shots []int, constrained bool) ([]workflows.EvalJob, string, error) {
	kind, name, err := runner.ParseRef(ref)
	if err != nil {
		return nil, "", invalid("%v", err)
	}
	if kind == "ollama" {
		var jobs []workflows.EvalJob
		for _, s := range shots {
			if s > 0 && task != "edgeintent" {
				continue // few-shot variants are the EdgeIntent baselines'
			}
			jobs = append(jobs, workflows.EvalJob{Model: ref, Shots: s})
		}
		return jobs, "", nil
	}
	meta, stask, err := studentTask(name)
	if err != nil {
		return nil, "", err
	}
	switch {
	case stask != "" && stask != task:
		return nil, "trained for " + stask, nil
	case stask == "" && meta.Arch == "encoder":
		return nil, "an encoder without a task in its lineage", nil
	}
	jobs := []workflows.EvalJob{{Model: ref}}
	if constrained && meta.Arch == "decoder" {
		jobs = append(jobs, workflows.EvalJob{Model: ref, Constrained: true})
	}
	return jobs, "", nil
}

// predRow is one prediction in a shard file.
type predRow struct {
	ID           string  `parquet:"id"`
	Raw          string  `parquet:"raw"`
	TurnOutputs  string  `parquet:"turn_outputs,optional"`
	Ranked       string  `parquet:"ranked,optional"`
	Scores       string  `parquet:"scores,optional"`
	Truncated    bool    `parquet:"truncated"`
	MaskFallback string  `parquet:"mask_fallback,optional"`
	LatencyMS    float64 `parquet:"latency_ms"`
	PromptTokens int64   `parquet:"prompt_tokens"`
	OutputTokens int64   `parquet:"output_tokens"`
}

func toRow(p eval.Prediction) predRow {
	enc := func(v any, empty bool) string {
		if empty {
			return ""
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	return predRow{ID: p.ID, Raw: p.Raw, TurnOutputs: enc(p.TurnOutputs, len(p.TurnOutputs) == 0),
		Ranked: enc(p.Ranked, len(p.Ranked) == 0), Scores: enc(p.Scores, len(p.Scores) == 0), Truncated: p.Truncated, MaskFallback: p.MaskFallback,
		LatencyMS: p.Cost.LatencyMS, PromptTokens: int64(p.Cost.PromptTokens), OutputTokens: int64(p.Cost.OutputTokens)}
}

func fromRow(r predRow) (eval.Prediction, error) {
	p := eval.Prediction{ID: r.ID, Raw: r.Raw, Truncated: r.Truncated, MaskFallback: r.MaskFallback,
		Cost: eval.Cost{LatencyMS: r.LatencyMS, PromptTokens: int(r.PromptTokens), OutputTokens: int(r.OutputTokens)}}
	for _, f := range []struct {
		s string
		v any
	}{{r.TurnOutputs, &p.TurnOutputs}, {r.Ranked, &p.Ranked}, {r.Scores, &p.Scores}} {
		if f.s != "" {
			if err := json.Unmarshal([]byte(f.s), f.v); err != nil {
				return p, fmt.Errorf("prediction %s: %w", r.ID, err)
			}
		}
	}
	return p, nil
}

func shardPath(reportDir, key string, shard int) string {
	return filepath.Join(reportDir, "shards", key, fmt.Sprintf("shard-%04d.parquet", shard))
}

// EvalShard runs one model over one shard of a dataset and writes the
// predictions. A shard file already written (by an earlier attempt or an
// earlier run of the same evaluation) is reused, not redone.
func (a *Activities) EvalShard(ctx context.Context, in workflows.EvalShardInput) (workflows.EvalShardResult, error) {
	if err := a.verifyDatasets(in.Job.Dataset); err != nil {
		return workflows.EvalShardResult{}, err
	}
	path := shardPath(in.ReportDir, in.Job.Key, in.Shard)
	if rows, err := parquet.ReadFile[predRow](path); err == nil {
		return workflows.EvalShardResult{Path: path, Records: len(rows), Reused: true}, nil
	}
	ver, err := a.openDataset(in.Job.Dataset)
	if err != nil {
		return workflows.EvalShardResult{}, err
	}
	recs, err := ver.Read(in.Job.Split)
	if err != nil {
		return workflows.EvalShardResult{}, err
	}
	recs = recs[:min(len(recs), in.Job.N)]
	lo, hi := in.Shard*in.ShardSize, min(len(recs), (in.Shard+1)*in.ShardSize)
	if lo >= hi {
		return workflows.EvalShardResult{}, invalid("shard %d of %s is empty (%d records)", in.Shard, in.Job.Key, len(recs))
	}
	r, err := a.runner(ctx, in.Job.Model, in.OllamaHost)
	if err != nil {
		return workflows.EvalShardResult{}, err
	}
	opts := runner.Options{Shots: in.Job.Shots, Constrained: in.Job.Constrained,
		Progress: func(done int) { activity.RecordHeartbeat(ctx, done) }}
	if in.Job.Shots > 0 {
		if opts.Train, err = ver.Read("train"); err != nil {
			return workflows.EvalShardResult{}, fmt.Errorf("few-shot examples: %w", err)
		}
	}
	info, err := r.Info(ctx)
	if err != nil {
		return workflows.EvalShardResult{}, err
	}
	start := time.Now()
	preds, err := r.Predict(ctx, recs[lo:hi], opts)
	if err != nil {
		return workflows.EvalShardResult{}, err
	}
	side := shardSide{WallMS: float64(time.Since(start).Microseconds()) / 1000, Info: info, PeakRSSBytes: peakRSS(), Worker: a.Identity}
	if err := writeJSON(strings.TrimSuffix(path, ".parquet")+".json", side); err != nil {
		return workflows.EvalShardResult{}, err
	}
	rows := make([]predRow, len(preds))
	for i, p := range preds {
		rows[i] = toRow(p)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return workflows.EvalShardResult{}, err
	}
	err = atomicfile.Write(path, 0o644, func(f *os.File) error {
		return parquet.Write(f, rows, parquet.Compression(&parquet.Zstd))
	})
	return workflows.EvalShardResult{Path: path, Records: len(rows)}, err
}

// readShards reads every shard of a job, in order.
func readShards(reportDir string, job workflows.EvalJob) ([]eval.Prediction, error) {
	var out []eval.Prediction
	for s := 0; s < job.Shards; s++ {
		path := shardPath(reportDir, job.Key, s)
		rows, err := parquet.ReadFile[predRow](path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		for _, r := range rows {
			p, err := fromRow(r)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// runner builds the runner of a model reference.
func (a *Activities) runner(ctx context.Context, ref, ollamaHost string) (runner.Runner, error) {
	kind, name, err := runner.ParseRef(ref)
	if err != nil {
		return nil, invalid("%v", err)
	}
	cat, err := schemas.Load()
	if err != nil {
		return nil, err
	}
	if kind == "ollama" {
		host := ollamaHost
		if host == "" {
			host = a.Ollama.Host
		}
		return runner.NewOllama(host, name, cat)
	}
	return a.studentRunner(ctx, name)
}
