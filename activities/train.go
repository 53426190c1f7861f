package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/internal/atomicfile"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// invalid marks bad input: Temporal does not retry it.
func invalid(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return temporal.NewNonRetryableApplicationError(msg, workflows.ErrInvalidSpec, errors.New(msg))
}

// PrepareTrain resolves the dataset reference and checks the preset and method
// against the dataset's task, so a bad request fails before any worker trains.
func (a *Activities) PrepareTrain(ctx context.Context, in workflows.TrainInput) (workflows.TrainPlan, error) {
	if err := a.verifyDatasets(append([]string{in.Dataset}, in.Datasets...)...); err != nil {
		return workflows.TrainPlan{}, err
	}
	p, err := model.LookupPreset(in.Preset)
	if err != nil {
		return workflows.TrainPlan{}, invalid("%v", err)
	}
	method, err := distill.PickMethod(p.Config.Arch, in.Method)
	if err != nil {
		return workflows.TrainPlan{}, invalid("%v", err)
	}
	if usesBase := method == distill.MethodLoRA || method == distill.MethodFull; usesBase != (in.Base != "") {
		return workflows.TrainPlan{}, invalid("methods lora and full need a base model (--base), and only they use one (method %q, base %q)", method, in.Base)
	}
	id := activity.GetInfo(ctx).WorkflowExecution.ID
	if len(in.Datasets) > 0 {
		return a.prepareMultitask(in, p, id)
	}
	ver, err := a.openDataset(in.Dataset)
	if err != nil {
		return workflows.TrainPlan{}, err
	}
	task := ver.Manifest().Task
	if p.Task != "multi" && p.Task != task {
		return workflows.TrainPlan{}, invalid("preset %s is for %s, dataset %s is %s", p.Name, p.Task, in.Dataset, task)
	}
	in.Dataset = task + "@" + ver.Manifest().Version
	return workflows.TrainPlan{Input: in, Task: task, DatasetVersion: ver.Manifest().Version, DatasetDir: ver.Dir(),
		RunDir: filepath.Join(a.Home, "runs", id)}, nil
}

// prepareMultitask resolves every dataset of a multi-task run.
func (a *Activities) prepareMultitask(in workflows.TrainInput, p model.Preset, id string) (workflows.TrainPlan, error) {
	if p.Task != "multi" || in.Dataset != "" {
		return workflows.TrainPlan{}, invalid("several datasets train a multi-task preset (e.g. mlm-120m-balanced) with no single dataset; got preset %s (%s), dataset %q", p.Name, p.Task, in.Dataset)
	}
	var refs, dirs []string
	for i, ref := range in.Datasets {
		ver, err := a.openDataset(ref)
		if err != nil {
			return workflows.TrainPlan{}, err
		}
		in.Datasets[i] = ver.Manifest().Task + "@" + ver.Manifest().Version
		refs, dirs = append(refs, in.Datasets[i]), append(dirs, ver.Dir())
	}
	return workflows.TrainPlan{Input: in, Task: "multi", DatasetVersion: strings.Join(refs, ","), DatasetDir: strings.Join(dirs, ","),
		RunDir: filepath.Join(a.Home, "runs", id)}, nil
}

// openDataset opens a TASK@VERSION reference in the home's store.
func (a *Activities) openDataset(ref string) (*datasets.Version, error) {
	task, version, err := datasets.ParseRef(ref)
	if err != nil {
		return nil, invalid("%v", err)
	}
	store, err := datasets.Open(filepath.Join(a.Home, "datasets"))
	if err != nil {
		return nil, err
	}
	ver, err := store.Version(task, version)
	if err != nil {
		return nil, invalid("%v", err)
	}
	return ver, nil
}

// TrainModel trains the student of a plan. It heartbeats every step's
// progress and the newest checkpoint; an attempt that starts where an earlier
// one left checkpoints in RunDir (this worker or another, on the shared home)
// resumes from the newest, so a killed worker costs at most the steps since
// its last checkpoint.
func (a *Activities) TrainModel(ctx context.Context, plan workflows.TrainPlan) (workflows.TrainResult, error) {
	if err := a.verifyDatasets(append([]string{plan.Input.Dataset}, plan.Input.Datasets...)...); err != nil {
		return workflows.TrainResult{}, err
	}
	var prev workflows.TrainHeartbeat
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &prev) // informational: the checkpoint on disk is what resumes
	}
	workers := loadWorkers(plan.RunDir)
	workers = append(workers, a.Identity)
	if err := writeJSON(filepath.Join(plan.RunDir, "workers.json"), workers); err != nil {
		return workflows.TrainResult{}, err
	}
	spec := distill.TrainSpec{Weights: plan.Input.Weights}
	if len(plan.Input.Datasets) > 0 {
		for _, ref := range plan.Input.Datasets {
			ver, err := a.openDataset(ref)
			if err != nil {
				return workflows.TrainResult{}, err
			}
			spec.Versions = append(spec.Versions, ver)
		}
	} else {
		ver, err := a.openDataset(plan.Input.Dataset)
		if err != nil {
			return workflows.TrainResult{}, err
		}
		spec.Version = ver
	}
	cat, err := schemas.Load()
	if err != nil {
		return workflows.TrainResult{}, err
	}
	in := plan.Input
	spec.Preset = in.Preset
	spec.Method = in.Method
	spec.Base = in.Base
	spec.Catalog = cat
	spec.OutDir = plan.RunDir
	spec.KDAlpha = in.KDAlpha
	spec.KDTemperature = in.KDTemperature
	// Zero fields take the preset's defaults in distill, which reports the
	// resolved configuration back (distill.TrainResult.Train).
	spec.Train = train.Config{TotalSteps: in.Steps, BatchSize: in.BatchSize, GradAccum: in.GradAccum, SeqLen: in.SeqLen,
		LR: in.LR, CheckpointEvery: in.CheckpointEvery, Seed: uint64(in.Seed), ValidateEvery: in.ValidateEvery,
		Patience: in.Patience, ScrambleCopies: in.ScrambleCopies}
	spec.Lineage = map[string]string{"workflow_run": activity.GetInfo(ctx).WorkflowExecution.RunID, "dataset_dir": plan.DatasetDir}
	// The heartbeat carries the latest validation between validations (a
	// step without one reports NaN), so the progress bar does not read 0%.
	lastMetric := 0.0
	spec.Progress = func(p train.Progress) {
		if !math.IsNaN(p.MetricValue) {
			lastMetric = finite(p.MetricValue)
		}
		activity.RecordHeartbeat(ctx, workflows.TrainHeartbeat{Step: p.Step, TotalSteps: p.TotalSteps, Loss: p.Loss,
			EvalLoss: finite(p.EvalLoss), LR: p.LR, TokensPerS: p.TokensPerSec, ETASeconds: p.ETA.Seconds(),
			Metric: p.Metric, MetricValue: lastMetric, BestMetric: finite(p.BestMetric),
			Checkpoint: p.Checkpoint, Worker: a.Identity})
	}
	res, err := distill.TrainStudent(ctx, spec)
	var dataErr *distill.DataError
	if errors.As(err, &dataErr) {
		return workflows.TrainResult{}, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrInvalidSpec, err)
	}
	if errors.Is(err, train.ErrNonFinite) {
		return workflows.TrainResult{}, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTrainingDiverged, err)
	}
	if err != nil {
		return workflows.TrainResult{}, err
	}
	out := workflows.TrainResult{Checkpoint: res.Checkpoint, Metrics: filepath.Join(plan.RunDir, "metrics.json"),
		LossPlot: filepath.Join(plan.RunDir, "loss.png"), Task: plan.Task, Preset: in.Preset, Method: res.Method,
		DatasetVersion: plan.DatasetVersion, Params: res.Config.NumParams(), Steps: res.Result.Step,
		SeqLen: res.Train.SeqLen, MaxSeq: res.Config.MaxSeq, TrainExamples: res.TrainExamples, Truncated: res.Truncated,
		FinalLoss: res.Result.Loss, Workers: workers, CheckpointStep: res.Result.BestStep, Metric: res.Result.Metric,
		Stopped: res.Result.Stopped}
	if res.Result.BestEvalLoss != nil {
		out.EvalLoss = *res.Result.BestEvalLoss
	}
	if res.Result.BestMetric != nil {
		out.BestMetric = *res.Result.BestMetric
	}
	if res.Resumed {
		out.Resumes = len(workers) - 1
	}
	if el := res.Result.Elapsed.Seconds(); el > 0 {
		out.TokensPerS = float64(res.Result.Tokens) / el
	}
	// result.json marks the run finished: FindTrained reuses it.
	return out, writeJSON(filepath.Join(plan.RunDir, "result.json"), out)
}

// finite maps NaN and infinities (no value) to 0 for JSON.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// FindTrained returns the result of a finished training run with the given
// key (runs/train-KEY/result.json), or an empty result.
func (a *Activities) FindTrained(ctx context.Context, in workflows.FindTrainedInput) (workflows.TrainResult, error) {
	var res workflows.TrainResult
	b, err := os.ReadFile(filepath.Join(a.Home, "runs", "train-"+in.RunKey, "result.json"))
	if errors.Is(err, os.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return res, fmt.Errorf("run train-%s result.json: %w", in.RunKey, err)
	}
	if _, err := os.Stat(res.Checkpoint); err != nil {
		return workflows.TrainResult{}, nil // the checkpoint was removed: train again
	}
	return res, nil
}

func loadWorkers(runDir string) []string {
	var w []string
	if b, err := os.ReadFile(filepath.Join(runDir, "workers.json")); err == nil {
		_ = json.Unmarshal(b, &w)
	}
	return w
}

// writeJSON writes v as indented JSON, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}
