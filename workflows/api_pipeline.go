package workflows

import (
	"github.com/cyclecore/mlmforge/generator"
)

// The pipeline boundary: regenerate -> review -> train -> evaluate -> promote.

// Pipeline workflow and activity names.
const (
	// PipelineWorkflowName runs one pass of a pipeline spec.
	PipelineWorkflowName = "Pipeline"
	// FindDatasetActivityName looks for a committed version generated from the
	// same spec (same spec hash), so an unchanged dataset step is reused.
	FindDatasetActivityName = "FindDataset"
	// FindTrainedActivityName looks for a finished training run with the same
	// inputs (model spec and dataset version), so an unchanged step is reused.
	FindTrainedActivityName = "FindTrained"
	// PromoteActivityName compares a report with the thresholds and the promoted
	// models, promotes the students that earn it and writes lineage.json.
	PromoteActivityName = "Promote"
	// PipelineProgressQuery answers the pipeline's step tree.
	PipelineProgressQuery = "pipeline.progress"
)

// PipelineSpec is a pipeline spec file (YAML or JSON; every field documented in
// docs/pipeline.md). It is the Pipeline workflow's input.
type PipelineSpec struct {
	// Name names the pipeline (schedules and promoted models are per name).
	Name string `json:"name"`
	// Datasets are the datasets to regenerate or reuse, one per task.
	Datasets []PipelineDataset `json:"datasets"`
	// Review is the review gate of every regenerated dataset.
	Review ReviewOptions `json:"review"`
	// Models are the students to train.
	Models []PipelineModel `json:"models"`
	// Baselines are Ollama models evaluated next to the students (ollama:<tag>).
	Baselines []string `json:"baselines,omitempty"`
	// Eval configures the evaluation.
	Eval PipelineEval `json:"eval"`
	// Promotion decides which students replace the promoted ones.
	Promotion PromotionPolicy `json:"promotion"`
}

// PipelineDataset is one dataset step.
type PipelineDataset struct {
	// Spec is the generation spec (task, variant, counts, teacher, seed, ...).
	Spec generator.Spec `json:"spec"`
	// Reuse names an existing version (e.g. "edgeintent@v3") to use instead of
	// generating; the generation spec is then ignored.
	Reuse string `json:"reuse,omitempty"`
}

// PipelineModel is one student to train.
type PipelineModel struct {
	// Name is the model's name for promotion, e.g. "mlm-60m-intent".
	Name string `json:"name"`
	// Task picks the dataset it trains on.
	Task string `json:"task"`
	// Train is the training request; its Dataset is filled from the dataset step.
	Train TrainInput `json:"train"`
}

// PipelineEval configures the pipeline's evaluation.
type PipelineEval struct {
	// Split, Limit, Shots and Constrained are as in EvalInput.
	Split       string `json:"split,omitempty"`
	Limit       int    `json:"limit,omitempty"`
	Shots       []int  `json:"shots,omitempty"`
	Constrained bool   `json:"constrained,omitempty"`
}

// PromotionPolicy is the bar a new student must clear.
type PromotionPolicy struct {
	// Thresholds are minimum metric values by "task.metric", e.g.
	// {"edgeintent.top1": 0.8, "edgejson.json_exact": 0.5}.
	Thresholds map[string]float64 `json:"thresholds,omitempty"`
	// Tolerance is how far below the promoted model a metric may fall (default 0.01).
	Tolerance float64 `json:"tolerance,omitempty"`
}

// FindDatasetInput asks whether a dataset step can be reused.
type FindDatasetInput struct {
	Spec  generator.Spec `json:"spec"`
	Reuse string         `json:"reuse,omitempty"`
}

// FoundDataset is a dataset step's output: found (reused) or to be generated.
type FoundDataset struct {
	// Found is set when an existing version serves the step.
	Found bool `json:"found"`
	// Task and Version name the version; Dir is its directory.
	Task    string `json:"task"`
	Version string `json:"version,omitempty"`
	Dir     string `json:"dir,omitempty"`
	// SpecHash is the generation spec's hash (the reuse key).
	SpecHash string `json:"spec_hash"`
}

// FindTrainedInput asks whether a training step can be reused.
type FindTrainedInput struct {
	// RunKey derives from the train input and the dataset version.
	RunKey string `json:"run_key"`
}

// PromoteInput asks the promotion activity to decide.
type PromoteInput struct {
	Pipeline  string            `json:"pipeline"`
	RunID     string            `json:"run_id"`
	Policy    PromotionPolicy   `json:"policy"`
	ReportDir string            `json:"report_dir"`
	Students  []PromoteStudent  `json:"students"`
	Datasets  []FoundDataset    `json:"datasets"`
	Reused    map[string]bool   `json:"reused,omitempty"`
	Reviews   map[string]string `json:"reviews,omitempty"`
}

// PromoteStudent is one trained student to judge.
type PromoteStudent struct {
	Name       string      `json:"name"`
	Task       string      `json:"task"`
	Checkpoint string      `json:"checkpoint"`
	Train      TrainResult `json:"train"`
}

// Promotion is one student's verdict.
type Promotion struct {
	Name       string `json:"name"`
	Promoted   bool   `json:"promoted"`
	Checkpoint string `json:"checkpoint"`
	// Reason explains the verdict, metric by metric.
	Reason string `json:"reason"`
	// Previous is the checkpoint promoted before (still promoted when not Promoted).
	Previous string `json:"previous,omitempty"`
}

// PromoteResult is the promotion activity's result.
type PromoteResult struct {
	Promotions []Promotion `json:"promotions"`
	// Lineage is the run's lineage.json.
	Lineage string `json:"lineage"`
}

// PipelineResult is the Pipeline workflow's result.
type PipelineResult struct {
	Datasets   []FoundDataset   `json:"datasets"`
	Trained    []PromoteStudent `json:"trained"`
	Eval       EvalResult       `json:"eval"`
	Promotions []Promotion      `json:"promotions"`
	Lineage    string           `json:"lineage"`
	// Reused lists the steps that were reused rather than recomputed.
	Reused []string `json:"reused,omitempty"`
}

// PipelineProgress is the answer to the progress query: one line per step.
type PipelineProgress struct {
	Steps []PipelineStep `json:"steps"`
}

// PipelineStep is one step of a pipeline run.
type PipelineStep struct {
	// Name is e.g. "dataset edgeintent", "train mlm-60m-intent", "evaluate", "promote".
	Name string `json:"name"`
	// State is pending, running, waiting-for-review, done, reused or failed.
	State string `json:"state"`
	// WorkflowID is the child workflow doing the step, for mlmforge status.
	WorkflowID string `json:"workflow_id,omitempty"`
	// Detail is a short note (version, checkpoint, error).
	Detail string `json:"detail,omitempty"`
}
