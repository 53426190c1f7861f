package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// StateFormatVersion is the version of trainer_state.json.
const StateFormatVersion = 1

// Layout of a run's output directory.
const (
	checkpointsDir = "checkpoints"
	latestFile     = "latest" // names the newest complete checkpoint directory
	metricsFile    = "metrics.json"
	lossPlotFile   = "loss.png"
)

// StepMetrics is one optimizer step of the loss history.
type StepMetrics struct {
	// Step is the 1-based step number.
	Step int `json:"step"`
	// Loss is the mean training loss over the step's micro-batches.
	Loss float64 `json:"loss"`
	// LR is the learning rate the step used.
	LR float64 `json:"lr"`
	// GradNorm is the global gradient norm before clipping.
	GradNorm float64 `json:"grad_norm"`
	// TokensPerSec is the throughput of the step (non-padding tokens).
	TokensPerSec float64 `json:"tokens_per_sec"`
	// Seconds is the step's wall time (forward, backward and update, without
	// evaluations and checkpoints): learning curves are drawn against its sum.
	Seconds float64 `json:"seconds,omitempty"`
}

// EvalMetrics is one evaluation.
type EvalMetrics struct {
	// Step is the number of steps done when it ran.
	Step int `json:"step"`
	// Loss is the mean held-out loss; with Job.Evals, the mean of the sets' losses.
	Loss float64 `json:"loss"`
	// Tasks is each Job.Evals set's loss by name; absent with a single Job.Eval.
	Tasks map[string]float64 `json:"tasks,omitempty"`
}

// State is trainer_state.json: everything besides weights and moments that an exact
// resume needs, plus the history that metrics.json and loss.png are drawn from.
type State struct {
	// FormatVersion is StateFormatVersion.
	FormatVersion int `json:"format_version"`
	// Config is the training config of the run.
	Config Config `json:"config"`
	// Step is the number of optimizer steps done; the schedule position is LRAt(Step).
	Step int `json:"step"`
	// Data is the loader's cursor (with Config.Seed, the data RNG state).
	Data Cursor `json:"data"`
	// Mixture is a multi-task run's loader position (Job.Mixture); absent otherwise.
	Mixture *MixCursor `json:"mixture,omitempty"`
	// TokensSeen counts non-padding training tokens.
	TokensSeen int64 `json:"tokens_seen"`
	// BestEvalLoss is the lowest eval loss so far (nil before the first evaluation).
	BestEvalLoss *float64 `json:"best_eval_loss,omitempty"`
	// BestMetric is the best validation value so far (Job.Validator; nil before the
	// first validation or without a validator).
	BestMetric *float64 `json:"best_metric,omitempty"`
	// BestTiebreak is the Validation.Tiebreak of that best validation.
	BestTiebreak float64 `json:"best_tiebreak,omitempty"`
	// BestStep is the step of the best checkpoint: the best validation when the run
	// validates, else the lowest eval loss.
	BestStep int `json:"best_step,omitempty"`
	// BestCheckpoint is the checkpoint directory name written at BestStep.
	BestCheckpoint string `json:"best_checkpoint,omitempty"`
	// EvalsSinceBest counts the selecting evaluations (validations when the run
	// validates, else eval losses) without improvement: early-stopping patience.
	EvalsSinceBest int `json:"evals_since_best"`
	// History is the per-step training metrics.
	History []StepMetrics `json:"history"`
	// Evals is the evaluation history.
	Evals []EvalMetrics `json:"evals"`
	// Validations is the task-metric history (Job.Validator).
	Validations []ValidationMetrics `json:"validations,omitempty"`
}

// checkpointName is the directory name of the checkpoint after step steps.
func checkpointName(step int) string { return fmt.Sprintf("step-%08d", step) }

// LatestCheckpoint returns the newest complete checkpoint of the run in outDir, or ""
// when there is none yet: what a retried activity passes to Job.Resume.
func LatestCheckpoint(outDir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(outDir, checkpointsDir, latestFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("latest checkpoint: %w", err)
	}
	name := strings.TrimSpace(string(data))
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("latest checkpoint %s: invalid name %q", filepath.Join(outDir, checkpointsDir, latestFile), name)
	}
	return filepath.Join(outDir, checkpointsDir, name), nil
}

// saveCheckpoint writes the run's checkpoint for the current step, points "latest" at
// it and removes older checkpoints except the best one. It returns the directory.
func (r *run) saveCheckpoint() (string, error) {
	name := checkpointName(r.st.Step)
	dir := filepath.Join(r.job.OutDir, checkpointsDir, name)
	r.loader.save(&r.st)
	state, err := json.MarshalIndent(r.st, "", " ")
	if err != nil {
		return "", fmt.Errorf("encode trainer state: %w", err)
	}
	m, v := r.opt.moments(r.params)
	snap := Snapshot{Params: paramWeights(r.params), OptimM: m, OptimV: v, TrainerState: state, Labels: r.labels()}
	var saveTok func(string) error
	if r.job.Tokenizer != nil {
		saveTok = r.job.Tokenizer.Save
	}
	if err := r.checkpointer.Save(dir, snap, saveTok); err != nil {
		return "", err
	}
	latest := filepath.Join(r.job.OutDir, checkpointsDir, latestFile)
	err = atomicfile.WriteFile(latest, []byte(name+"\n"), 0o644)
	if err != nil {
		return "", fmt.Errorf("write %s: %w", latest, err)
	}
	r.latest, r.latestStep = dir, r.st.Step
	return dir, r.prune(name)
}

// prune removes step checkpoints other than keep and the best one.
func (r *run) prune(keep string) error {
	root := filepath.Join(r.job.OutDir, checkpointsDir)
	ents, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("prune checkpoints: %w", err)
	}
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() || !strings.HasPrefix(n, "step-") || n == keep || n == r.st.BestCheckpoint {
			continue
		}
		if err := os.RemoveAll(filepath.Join(root, n)); err != nil {
			return fmt.Errorf("prune checkpoints: %w", err)
		}
	}
	return nil
}

// resume loads the checkpoint in dir into the model, the optimizer and the loader.
func (r *run) resume(dir string) error {
	ck, err := r.checkpointer.Load(dir)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if ck.TrainerState == nil || ck.OptimM == nil {
		return fmt.Errorf("resume %s: no trainer state or optimizer state (an export, not a training checkpoint?)", dir)
	}
	var st State
	if err := json.Unmarshal(ck.TrainerState, &st); err != nil {
		return fmt.Errorf("resume %s: %s: %w", dir, model.TrainerStateFile, err)
	}
	if st.FormatVersion != StateFormatVersion {
		return fmt.Errorf("resume %s: %s format_version %d, this build reads %d", dir, model.TrainerStateFile, st.FormatVersion, StateFormatVersion)
	}
	if d := st.Config.resumeDiff(r.cfg); len(d) > 0 {
		return fmt.Errorf("resume %s: training config changed (checkpoint != now): %s", dir, strings.Join(d, "; "))
	}
	if !slices.Equal(ck.Labels, r.labels()) {
		return fmt.Errorf("resume %s: the checkpoint's %d labels differ from the training data's %d", dir, len(ck.Labels), len(r.labels()))
	}
	if err := r.loader.restore(&st); err != nil {
		return fmt.Errorf("resume %s: %w", dir, err)
	}
	for _, p := range r.params {
		t := ck.Params[p.Name]
		if t == nil || len(t.Data) != len(p.Data) {
			return fmt.Errorf("resume %s: param %s missing or of the wrong size", dir, p.Name)
		}
		copy(p.Data, t.Data)
	}
	if err := r.opt.restore(r.params, ck.OptimM, ck.OptimV, st.Step); err != nil {
		return fmt.Errorf("resume %s: %w", dir, err)
	}
	st.Config = r.cfg
	r.st = st
	r.latest, r.latestStep = dir, st.Step
	return nil
}
