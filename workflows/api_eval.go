package workflows

// The evaluation boundary: the Evaluate workflow, its activities and payloads.
// Predictions travel through Parquet shards in the report directory, never
// through workflow payloads.

// Evaluation workflow and activity names.
const (
	// EvaluateWorkflowName evaluates models on datasets and writes one report.
	EvaluateWorkflowName = "Evaluate"
	// PrepareEvalActivityName resolves dataset references, describes the models
	// and cuts the work into shards.
	PrepareEvalActivityName = "PrepareEval"
	// EvalShardActivityName runs one model over one shard of one dataset and
	// writes the predictions; a shard already written is not redone.
	EvalShardActivityName = "EvalShard"
	// EvalReportActivityName scores every shard and writes the report.
	EvalReportActivityName = "EvalReport"
)

// EvalInput asks for an evaluation.
type EvalInput struct {
	// Models are model references: ollama:<tag> or student:<checkpoint dir>.
	Models []string `json:"models"`
	// Datasets are dataset references (TASK@VERSION or TASK@latest).
	Datasets []string `json:"datasets"`
	// Split is the split evaluated (default test).
	Split string `json:"split,omitempty"`
	// Limit caps the records per dataset (0 = all), taken in stored order.
	Limit int `json:"limit,omitempty"`
	// ShardSize is the number of records per EvalShard activity (default 100).
	ShardSize int `json:"shard_size,omitempty"`
	// Shots are the few-shot variants of EdgeIntent baselines (default [0]).
	Shots []int `json:"shots,omitempty"`
	// Constrained also runs students with JSON-Schema constrained decoding,
	// next to the unconstrained run.
	Constrained bool `json:"constrained,omitempty"`
	// MaxParallel bounds concurrent shard activities (default 4).
	MaxParallel int `json:"max_parallel,omitempty"`
	// OllamaHost is where the Ollama baselines run ("" = the worker's default).
	OllamaHost string `json:"ollama_host,omitempty"`
}

// EvalJob is one model x dataset x variant of an evaluation.
type EvalJob struct {
	// Key names the job in file names and the report, e.g.
	// "ollama_qwen2.5_0.5b__edgeintent_v3__shots1".
	Key string `json:"key"`
	// Model is the model reference.
	Model string `json:"model"`
	// Task, Dataset and Version name what is evaluated; DatasetDir is its directory.
	Task       string `json:"task"`
	Dataset    string `json:"dataset"`
	Version    string `json:"version"`
	DatasetDir string `json:"dataset_dir"`
	// Split is the evaluated split; N its record count after Limit; Shards the shard count.
	Split  string `json:"split"`
	N      int    `json:"n"`
	Shards int    `json:"shards"`
	// Shots and Constrained are the variant.
	Shots       int  `json:"shots,omitempty"`
	Constrained bool `json:"constrained,omitempty"`
}

// EvalPlan is PrepareEval's result.
type EvalPlan struct {
	// ReportDir is where shards, predictions and the report go; it derives from
	// the workflow id, so a resumed evaluation finds its finished shards.
	ReportDir string `json:"report_dir"`
	// Jobs are the runs to make.
	Jobs []EvalJob `json:"jobs"`
	// Skipped says which model x dataset pairs were left out and why (a student
	// trained for another task).
	Skipped []string `json:"skipped,omitempty"`
	// ShardSize and OllamaHost repeat the input's resolved values.
	ShardSize  int    `json:"shard_size"`
	OllamaHost string `json:"ollama_host,omitempty"`
}

// EvalShardInput asks for one shard of one job.
type EvalShardInput struct {
	ReportDir  string  `json:"report_dir"`
	Job        EvalJob `json:"job"`
	Shard      int     `json:"shard"`
	ShardSize  int     `json:"shard_size"`
	OllamaHost string  `json:"ollama_host,omitempty"`
}

// EvalShardResult reports a written shard.
type EvalShardResult struct {
	// Path is the shard's predictions file.
	Path string `json:"path"`
	// Records is the number of predictions in it.
	Records int `json:"records"`
	// Reused is set when the shard was already written by an earlier attempt or run.
	Reused bool `json:"reused,omitempty"`
}

// EvalResult is the Evaluate workflow's result.
type EvalResult struct {
	// ReportDir holds report.md, results.json, predictions and plots.
	ReportDir string `json:"report_dir"`
	// Table is the headline table as text, for the CLI to print.
	Table string `json:"table"`
	// Shards and ReusedShards count the shard activities and those that found
	// their shard already written.
	Shards       int `json:"shards"`
	ReusedShards int `json:"reused_shards"`
	// Skipped repeats EvalPlan.Skipped.
	Skipped []string `json:"skipped,omitempty"`
}

// EvalProgress is the answer to the Evaluate workflow's progress query.
type EvalProgress struct {
	// Phase is preparing, evaluating, reporting, done or failed.
	Phase string `json:"phase"`
	// ShardsDone and ShardsTotal count shards over every job.
	ShardsDone  int `json:"shards_done"`
	ShardsTotal int `json:"shards_total"`
	// Jobs lists each job's finished shard count, in plan order.
	Jobs []EvalJobProgress `json:"jobs,omitempty"`
}

// EvalJobProgress is one job's progress.
type EvalJobProgress struct {
	Key        string `json:"key"`
	ShardsDone int    `json:"shards_done"`
	Shards     int    `json:"shards"`
}

// EvalProgressQuery is the Evaluate workflow's progress query.
const EvalProgressQuery = "eval.progress"
