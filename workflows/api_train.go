package workflows

// The training boundary: the Train workflow, its activities and their payloads.
// Payloads carry paths and numbers only; weights and batches stay on disk.

// Training workflow and activity names.
const (
	// TrainWorkflowName trains one student on one dataset version.
	TrainWorkflowName = "Train"
	// PrepareTrainActivityName resolves the dataset reference and checks that the
	// preset fits the task; it fails fast (non-retryable) on bad input.
	PrepareTrainActivityName = "PrepareTrain"
	// TrainActivityName runs the training loop, heartbeating TrainHeartbeat and
	// resuming from the last checkpoint when retried on any worker.
	TrainActivityName = "TrainModel"
)

// Training methods.
const (
	// MethodCE trains a classifier on one-hot labels (cross-entropy).
	MethodCE = "ce"
	// MethodKD trains a classifier on the teacher's soft labels
	// (alpha * T^2 * KL + (1 - alpha) * CE).
	MethodKD = "kd"
	// MethodSeqKD trains a decoder on the teacher's outputs (the dataset targets),
	// prompt tokens masked.
	MethodSeqKD = "seqkd"
)

// TrainInput asks for one training run.
type TrainInput struct {
	// Preset names the student architecture (distill/model presets), e.g. tiny-intent.
	Preset string `json:"preset"`
	// Dataset is a dataset reference, TASK@VERSION or TASK@latest; the workflow
	// records the version it resolved to.
	Dataset string `json:"dataset"`
	// Datasets are the dataset references of a multi-task run (method
	// multitask, a "multi" preset such as mlm-120m-balanced), one per task, in
	// place of Dataset.
	Datasets []string `json:"datasets,omitempty"`
	// Weights are the multi-task sampling weights by task (default equal).
	Weights map[string]float64 `json:"weights,omitempty"`
	// Method is ce, kd, seqkd, lora, full or multitask; empty picks ce for encoders
	// and seqkd for decoders.
	Method string `json:"method,omitempty"`
	// Base is the pretrained model of methods lora (frozen, adapted) and full (every
	// weight trained): an mlmforge checkpoint, a Hugging Face Llama directory
	// (config.json, model.safetensors, tokenizer.json) or a GGUF file, on the
	// workers' shared filesystem. Its sha256 goes into the lineage.
	Base string `json:"base,omitempty"`
	// Steps is the number of optimizer steps (0 = the preset's default for its size).
	Steps int `json:"steps,omitempty"`
	// BatchSize is the number of sequences per optimizer step (0 = default).
	BatchSize int `json:"batch_size,omitempty"`
	// GradAccum splits each step into this many micro-batches of BatchSize
	// sequences whose gradients are averaged (0 = 1): the same step in less memory.
	GradAccum int `json:"grad_accum_steps,omitempty"`
	// SeqLen caps the tokens per sequence (0 = the preset's MaxSeq).
	SeqLen int `json:"seq_len,omitempty"`
	// LR is the peak learning rate (0 = default).
	LR float64 `json:"lr,omitempty"`
	// Seed seeds initialization and data order.
	Seed int64 `json:"seed,omitempty"`
	// CheckpointEvery is how many steps pass between checkpoints (0 = default).
	CheckpointEvery int `json:"checkpoint_every,omitempty"`
	// ValidateEvery is how many steps pass between task-metric validations on
	// held-out training examples, which pick the best checkpoint (0 = the preset's
	// default; -1 turns validation off and the eval loss picks).
	ValidateEvery int `json:"validate_every,omitempty"`
	// Patience stops training after this many validations without a new best
	// (0 = the preset's default; -1 never stops early).
	Patience int `json:"patience,omitempty"`
	// ScrambleCopies is how many value-scrambled copies of each decoder training
	// record join the data (train.Scramble; 0 = the preset's default, -1 = none).
	ScrambleCopies int `json:"scramble_copies,omitempty"`
	// HeartbeatSeconds is how long the training activity may go silent before
	// Temporal declares its worker dead and retries it elsewhere (default 120: a
	// 135M checkpoint write takes a while).
	HeartbeatSeconds int `json:"heartbeat_seconds,omitempty"`
	// KDAlpha and KDTemperature configure MethodKD (defaults 0.5 and 2).
	KDAlpha       float64 `json:"kd_alpha,omitempty"`
	KDTemperature float64 `json:"kd_temperature,omitempty"`
}

// TrainPlan is PrepareTrain's answer and the Train activity's input: everything
// resolved, so a retried activity on another worker does exactly the same run.
type TrainPlan struct {
	// Input is the request with defaults filled in.
	Input TrainInput `json:"input"`
	// Task is the dataset's task.
	Task string `json:"task"`
	// DatasetVersion is the resolved version, e.g. v3.
	DatasetVersion string `json:"dataset_version"`
	// DatasetDir is the version's directory.
	DatasetDir string `json:"dataset_dir"`
	// RunDir holds the run's checkpoints, metrics.json and loss.png; it derives
	// from the workflow id, so every attempt on every worker finds the same one.
	RunDir string `json:"run_dir"`
}

// TrainHeartbeat is the Train activity's heartbeat detail: the CLI and status
// read it from the pending activity, and a retried attempt resumes from Checkpoint.
type TrainHeartbeat struct {
	Step       int     `json:"step"`
	TotalSteps int     `json:"total_steps"`
	Loss       float64 `json:"loss"`
	EvalLoss   float64 `json:"eval_loss,omitempty"`
	LR         float64 `json:"lr"`
	TokensPerS float64 `json:"tokens_per_s"`
	ETASeconds float64 `json:"eta_seconds"`
	// Metric names the task metric the run validates with ("" before the first
	// validation); MetricValue is the latest validation and BestMetric the best
	// (which picks the checkpoint), both on held-out training examples.
	Metric      string  `json:"metric,omitempty"`
	MetricValue float64 `json:"metric_value,omitempty"`
	BestMetric  float64 `json:"best_metric,omitempty"`
	// Checkpoint is the latest complete checkpoint directory ("" before the first).
	Checkpoint string `json:"checkpoint,omitempty"`
	// Worker is the identity of the worker running this attempt.
	Worker string `json:"worker,omitempty"`
}

// TrainResult is the Train workflow's result.
type TrainResult struct {
	// Checkpoint is the best checkpoint directory (config.json, model.safetensors,
	// tokenizer.json, optimizer state, lineage): by the task metric on held-out
	// training examples when the run validated, else by the eval loss.
	Checkpoint string `json:"checkpoint"`
	// CheckpointStep is the step Checkpoint was written at.
	CheckpointStep int `json:"checkpoint_step,omitempty"`
	// Metric and BestMetric are the validation metric and its value at Checkpoint
	// (absent when the run did not validate).
	Metric     string  `json:"metric,omitempty"`
	BestMetric float64 `json:"best_metric,omitempty"`
	// Stopped says why training ended: done, early_stop.
	Stopped string `json:"stopped,omitempty"`
	// Metrics and LossPlot are the run's metrics.json and loss.png.
	Metrics  string `json:"metrics"`
	LossPlot string `json:"loss_plot"`
	// Task, Preset, Method and DatasetVersion describe what was trained.
	Task           string `json:"task"`
	Preset         string `json:"preset"`
	Method         string `json:"method"`
	DatasetVersion string `json:"dataset_version"`
	// Params is the student's parameter count.
	Params int `json:"params"`
	// SeqLen is the training sequence length and MaxSeq the student's
	// max_position_embeddings (both fitted to the data for decoders trained
	// from scratch).
	SeqLen int `json:"seq_len,omitempty"`
	MaxSeq int `json:"max_seq,omitempty"`
	// TrainExamples counts the training examples; Truncated those longer than
	// SeqLen, whose ends were cut (for a decoder: the end of its answer).
	TrainExamples int `json:"train_examples,omitempty"`
	Truncated     int `json:"truncated,omitempty"`
	// Steps, FinalLoss and EvalLoss summarize the run.
	Steps     int     `json:"steps"`
	FinalLoss float64 `json:"final_loss"`
	EvalLoss  float64 `json:"eval_loss"`
	// TokensPerS is the mean training throughput of the attempt that finished:
	// non-padding tokens it trained on over its wall time.
	TokensPerS float64 `json:"tokens_per_s"`
	// Resumes counts the attempts that resumed from a checkpoint.
	Resumes int `json:"resumes"`
	// Workers lists the workers that ran attempts, in order.
	Workers []string `json:"workers,omitempty"`
}
