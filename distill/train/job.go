package train

import (
	"time"

	"github.com/cyclecore/mlmforge/distill/model"
)

// Job is what one training run works on.
type Job struct {
	// Model is the student; its Params must be exactly ModelConfig's tensors.
	Model Model
	// ModelConfig is the student's architecture, written to every checkpoint.
	ModelConfig model.Config
	// Preset is the preset name, recorded in checkpoints.
	Preset string
	// Lineage is recorded in checkpoints (dataset version, teacher, parent...).
	Lineage map[string]string
	// Tokenizer, if set, is saved as every checkpoint's tokenizer.json.
	Tokenizer Tokenizer
	// Train is the training data; Eval the held-out data (nil: no evaluation).
	Train, Eval *Data
	// Mixture, instead of Train, trains on several tasks at once: every batch draws
	// its rows from the sources in proportion to their weights (see MixLoader), and
	// the position in every task is part of the checkpoint.
	Mixture []Source
	// Evals, instead of Eval, are named held-out sets (one per task): an evaluation
	// reports each set's loss and their unweighted mean, which picks the best
	// checkpoint and drives early stopping. Each set averages up to
	// Config.EvalBatches batches.
	Evals []EvalSet
	// OutDir receives checkpoints/, metrics.json and loss.png.
	OutDir string
	// Resume is a checkpoint directory to continue from ("" starts fresh); see
	// LatestCheckpoint.
	Resume string
	// Progress, if set, is called after every step (a CLI bar, an activity heartbeat).
	Progress func(Progress)
	// Checkpointer writes and reads checkpoints; nil checkpoints the whole model
	// (ModelCheckpointer of ModelConfig, Preset and Lineage). distill/lora plugs
	// in adapter checkpoints here, so every method runs this one loop.
	Checkpointer Checkpointer
	// Validator, with Config.ValidateEvery, scores the student with its task
	// metric on held-out training examples; the best checkpoint and early
	// stopping then follow that metric instead of the eval loss.
	Validator Validator
}

// Progress reports one finished step.
type Progress struct {
	// Step is the number of steps done; TotalSteps the number the run will do.
	Step, TotalSteps int
	// Loss, LR and GradNorm are the step's (see StepMetrics).
	Loss, LR, GradNorm float64
	// TokensPerSec is the step's throughput; ETA the estimated time to TotalSteps.
	TokensPerSec float64
	ETA          time.Duration
	// EvalLoss is the evaluation run after this step, NaN when none ran (with
	// Job.Evals, the mean over the sets).
	EvalLoss float64
	// EvalLosses is each Job.Evals set's loss by name when an evaluation ran, else nil.
	EvalLosses map[string]float64
	// Checkpoint is the newest checkpoint directory ("" before the first).
	Checkpoint string
	// Metric names Job.Validator's metric ("" without one); MetricValue is the
	// validation run after this step, NaN when none ran; BestMetric the best so far
	// (NaN before the first).
	Metric                  string
	MetricValue, BestMetric float64
}

// Result is how a run ended.
type Result struct {
	// Step is the number of steps done.
	Step int
	// Loss is the last step's training loss.
	Loss float64
	// BestEvalLoss is the best evaluation (nil when none ran).
	BestEvalLoss *float64
	// BestEvalLosses is the per-set losses of that evaluation (Job.Evals; else nil).
	BestEvalLosses map[string]float64
	// BestMetric is the best Job.Validator value (nil without validations), and
	// Metric its name.
	BestMetric *float64
	Metric     string
	// BestStep is the step of BestCheckpoint.
	BestStep int
	// Checkpoint is the newest checkpoint; BestCheckpoint the best one: by
	// BestMetric when the run validated, else by BestEvalLoss.
	Checkpoint, BestCheckpoint string
	// Stopped says why the run ended (StopDone ...).
	Stopped string
	// Tokens and Elapsed are this call's non-padding training tokens and wall
	// time (a resumed run counts only what it did itself).
	Tokens  int64
	Elapsed time.Duration
}
