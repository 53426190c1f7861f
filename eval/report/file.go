package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"

	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/eval/runner"
	"github.com/cyclecore/mlmforge/schemas"
)

// FormatVersion is the results.json format version; it changes only when a
// field changes meaning or is removed.
const FormatVersion = 1

// File names inside a report directory.
const (
	MarkdownFile       = "report.md"
	ResultsFile        = "results.json"
	AccuracyPlotFile   = "accuracy_vs_size.png"
	LatencyPlotFile    = "latency.png"
	PredictionsDir     = "predictions"
	ConfusionDir       = "confusion"
	predictionsFileExt = ".parquet"
)

// File is results.json: every number of report.md, machine-readable. Field
// names are stable within a FormatVersion. Metric values are fractions in
// [0, 1] (report.md shows them as percentages); latencies are milliseconds.
type File struct {
	// FormatVersion is FormatVersion when the file was written.
	FormatVersion int `json:"format_version"`
	// Lineage records the datasets, checkpoints, commit and machine.
	Lineage Lineage `json:"lineage"`
	// Jobs holds one entry per result, ordered by task (edgejson, edgeintent,
	// edgefunccall), dataset, parameters (unknown last), model and variant.
	Jobs []Job `json:"jobs"`
	// Pareto maps a task to the keys of the jobs on its accuracy/size Pareto
	// front (headline metric against parameters), smallest model first. Jobs
	// without a parameter count take no part.
	Pareto map[string][]string `json:"pareto"`
	// Plots are the figures' paths relative to the report directory; empty
	// when there was nothing to draw.
	Plots Plots `json:"plots"`
}

// Plots are the report's figures, relative to the report directory.
type Plots struct {
	// AccuracyVsSize is the headline metric against log parameters, one series per task.
	AccuracyVsSize string `json:"accuracy_vs_size,omitempty"`
	// Latency is the p50/p95 latency bar chart, one pair of bars per job.
	Latency string `json:"latency,omitempty"`
}

// Job is one result in results.json.
type Job struct {
	// Key identifies the job and names its files: model__task__dataset__variant,
	// reduced to [A-Za-z0-9._@-].
	Key string `json:"key"`
	// Model is the runner's description of the model.
	Model runner.ModelInfo `json:"model"`
	// Name is the model's display name in tables and plots: a student's
	// pipeline model name (checkpoint lineage "model_name") or else its preset
	// (tiny-json), any other model's reference; two models of one name are
	// told apart by their run.
	Name string `json:"name"`
	// Run is a student's training run and checkpoint, e.g.
	// "train-ab12cd34/step-00000400" (empty for other models).
	Run string `json:"run,omitempty"`
	// Category is the seed paper's size class (runner.Category): SLM, Compact
	// MLM, Micro MLM, Nano MLM, NLM, or "unknown" without a parameter count.
	Category string `json:"category"`
	// Dataset is the scored split; Variant how the model ran, VariantLabel its name.
	Dataset      Dataset `json:"dataset"`
	Variant      Variant `json:"variant"`
	VariantLabel string  `json:"variant_label"`
	// HeadlineMetric names the task's headline metric: json_exact (EdgeJSON),
	// top1 (EdgeIntent) or example_accuracy (EdgeFuncCall: every turn right);
	// for imported BFCL cases BFCL's own figure: bfcl_ast (AST accuracy over
	// the call categories), or for sets without call cases
	// irrelevance_detection or relevance_detection. Each is the share of
	// examples whose verdict (PredictionRow.Correct) is true.
	HeadlineMetric string `json:"headline_metric"`
	// Headline is the headline metric's value.
	Headline float64 `json:"headline"`
	// N is the number of examples scored; MissingPredictions those without a
	// prediction; InvalidOutputs those whose output did not parse (EdgeIntent:
	// not a class of the label set).
	N                  int `json:"n"`
	MissingPredictions int `json:"missing_predictions"`
	InvalidOutputs     int `json:"invalid_outputs"`
	// EdgeJSON, EdgeIntent and EdgeFuncCall are the task's metrics (one is set).
	EdgeJSON   *eval.JSONMetrics   `json:"edgejson,omitempty"`
	EdgeIntent *eval.IntentMetrics `json:"edgeintent,omitempty"`
	// Confusion is the EdgeIntent confusion matrix, when the report had one.
	Confusion    *eval.Confusion       `json:"confusion,omitempty"`
	EdgeFuncCall *eval.FuncCallMetrics `json:"edgefunccall,omitempty"`
	// MaskFallbacks counts the examples of a constrained run decoded without
	// the JSON-Schema mask (a schema the mask cannot compile).
	MaskFallbacks int `json:"mask_fallbacks,omitempty"`
	// Cost aggregates latency and tokens; its inferences/s uses the job's
	// measured wall time when given.
	Cost eval.CostSummary `json:"cost"`
	// WallSeconds is the job's measured wall time (0 = unknown).
	WallSeconds float64 `json:"wall_seconds,omitempty"`
	// PeakRSSBytes is the measured peak resident memory (0 = unknown).
	PeakRSSBytes int64 `json:"peak_rss_bytes,omitempty"`
	// Files are the job's files, relative to the report directory.
	Files JobFiles `json:"files"`

	report *eval.Report // the source report, for the predictions file
}

// JobFiles are a job's files, relative to the report directory.
type JobFiles struct {
	// Predictions is predictions/<key>.parquet, one PredictionRow per example.
	Predictions string `json:"predictions"`
	// ConfusionPNG and ConfusionCSV are the EdgeIntent confusion matrix.
	ConfusionPNG string `json:"confusion_png,omitempty"`
	ConfusionCSV string `json:"confusion_csv,omitempty"`
}

// taskOrder ranks tasks for sorting.
func taskOrder(task string) int {
	i := slices.Index(schemas.Tasks, schemas.Task(task))
	if i < 0 {
		return len(schemas.Tasks)
	}
	return i
}

// Build turns results into the report's content. It fails on a result
// without a report, with an unknown task, without that task's metrics, or
// duplicating another (same model, dataset and variant).
func Build(results []Result, lin Lineage) (*File, error) {
	f := &File{FormatVersion: FormatVersion, Lineage: lin, Pareto: map[string][]string{}}
	for i := range results {
		j, err := buildJob(&results[i])
		if err != nil {
			return nil, fmt.Errorf("result %d (%s on %s): %w", i, results[i].Model.Ref, results[i].Dataset.Label(), err)
		}
		f.Jobs = append(f.Jobs, j)
	}
	if err := assignKeys(f.Jobs); err != nil {
		return nil, err
	}
	for i := range f.Jobs {
		f.Jobs[i].Files = jobFiles(&f.Jobs[i])
	}
	assignNames(f.Jobs)
	slices.SortStableFunc(f.Jobs, compareJobs)
	f.Lineage = completeLineage(lin, f.Jobs)
	for _, task := range schemas.Tasks {
		if keys := paretoKeys(f.Jobs, string(task)); len(keys) > 0 {
			f.Pareto[string(task)] = keys
		}
	}
	for _, j := range f.Jobs {
		if j.Model.Params > 0 {
			f.Plots.AccuracyVsSize = AccuracyPlotFile
		}
		if j.Cost.N > 0 {
			f.Plots.Latency = LatencyPlotFile
		}
	}
	return f, nil
}

// buildJob reads one result; the key is assigned later, over all jobs.
func buildJob(r *Result) (Job, error) {
	rep := r.Report
	if rep == nil {
		return Job{}, fmt.Errorf("field report: missing")
	}
	task, err := schemas.ParseTask(r.Dataset.Task)
	if err != nil {
		return Job{}, fmt.Errorf("field dataset.task: %w", err)
	}
	model := r.Model
	if len(model.Details) == 0 {
		model.Details = nil // absent and empty read back the same
	}
	ds := r.Dataset
	ds.Task = string(task)
	j := Job{Model: model, Category: runner.Category(model.Params, model.SizeBytes), Dataset: ds,
		Variant: r.Variant, VariantLabel: r.Variant.Label(), N: rep.N, MissingPredictions: rep.MissingPredictions,
		WallSeconds: r.Wall.Seconds(), PeakRSSBytes: r.PeakRSSBytes, MaskFallbacks: rep.MaskFallbacks, report: rep}
	switch task {
	case schemas.EdgeJSON:
		if rep.EdgeJSON == nil {
			return Job{}, fmt.Errorf("field report.edgejson: no EdgeJSON metrics")
		}
		m := *rep.EdgeJSON
		j.EdgeJSON, j.HeadlineMetric, j.Headline, j.InvalidOutputs = &m, "json_exact", m.JSONExact, m.ParseFailures
	case schemas.EdgeIntent:
		if rep.EdgeIntent == nil {
			return Job{}, fmt.Errorf("field report.edgeintent: no EdgeIntent metrics")
		}
		m := *rep.EdgeIntent
		j.Confusion, m.Confusion = m.Confusion, nil
		if j.Confusion != nil && len(j.Confusion.Labels) == 0 {
			j.Confusion = nil
		}
		j.EdgeIntent, j.HeadlineMetric, j.Headline, j.InvalidOutputs = &m, "top1", m.Top1, m.Invalid
	case schemas.EdgeFuncCall:
		if rep.EdgeFuncCall == nil {
			return Job{}, fmt.Errorf("field report.edgefunccall: no EdgeFuncCall metrics")
		}
		m := *rep.EdgeFuncCall
		j.EdgeFuncCall, j.HeadlineMetric, j.Headline, j.InvalidOutputs = &m, "example_accuracy", m.ExampleAccuracy, m.ParseFailures
		if m.BFCL != nil {
			// Imported BFCL cases: BFCL's own figure, over every acceptable value.
			j.HeadlineMetric, j.Headline = m.BFCL.Headline()
		}
	}
	j.Cost = jobCost(rep, r)
	return j, nil
}

// jobCost recomputes the cost summary with the job's measured wall time, so
// that inferences/s counts concurrency; the scorer assumed sequential runs.
func jobCost(rep *eval.Report, r *Result) eval.CostSummary {
	if len(rep.Examples) == 0 {
		c := rep.Cost
		if r.Wall > 0 && c.N > 0 {
			c.WallSeconds = r.Wall.Seconds()
			c.InferencesPerSecond = float64(c.N) / c.WallSeconds
		}
		return c
	}
	costs := make([]eval.Cost, 0, len(rep.Examples))
	for i := range rep.Examples {
		if !rep.Examples[i].Missing {
			costs = append(costs, rep.Examples[i].Cost)
		}
	}
	return eval.SummarizeCost(costs, r.Wall)
}

// compareJobs orders jobs by task, dataset, size (unknown last), model and variant.
func compareJobs(a, b Job) int {
	return cmp.Or(
		cmp.Compare(taskOrder(a.Dataset.Task), taskOrder(b.Dataset.Task)),
		cmp.Compare(a.Dataset.Label(), b.Dataset.Label()),
		cmp.Compare(sizeRank(a.Model.Params), sizeRank(b.Model.Params)),
		cmp.Compare(a.Model.Ref, b.Model.Ref),
		cmp.Compare(a.Variant.Shots, b.Variant.Shots),
		cmp.Compare(b2i(a.Variant.Constrained), b2i(b.Variant.Constrained)),
	)
}

// sizeRank sorts unknown parameter counts after every known one.
func sizeRank(params int64) int64 {
	if params <= 0 {
		return 1 << 62
	}
	return params
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// completeLineage adds every job's dataset and every student checkpoint not
// listed yet, and stores the time in UTC (so that it reads back equal).
func completeLineage(lin Lineage, jobs []Job) Lineage {
	out := lin
	out.Datasets = append([]Dataset(nil), lin.Datasets...) // nil when empty: reads back equal
	out.Checkpoints = append([]Checkpoint(nil), lin.Checkpoints...)
	if !out.GeneratedAt.IsZero() {
		out.GeneratedAt = out.GeneratedAt.UTC()
	}
	for _, j := range jobs {
		if !slices.ContainsFunc(out.Datasets, func(d Dataset) bool { return reflect.DeepEqual(d, j.Dataset) }) {
			out.Datasets = append(out.Datasets, j.Dataset)
		}
		kind, path, err := runner.ParseRef(j.Model.Ref)
		if err != nil || kind != "student" {
			continue
		}
		if !slices.ContainsFunc(out.Checkpoints, func(c Checkpoint) bool { return c.Model == j.Model.Ref }) {
			step, _ := strconv.Atoi(j.Model.Details["step"])
			out.Checkpoints = append(out.Checkpoints, Checkpoint{Model: j.Model.Ref, Path: path, Digest: j.Model.Digest, Step: step})
		}
	}
	return out
}

// ReadResults reads a results.json written by Write.
func ReadResults(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results %s: %w", path, err)
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("read results %s: %w", path, err)
	}
	if f.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("read results %s: field format_version: %d, want %d", path, f.FormatVersion, FormatVersion)
	}
	return &f, nil
}
