// Package workflows holds mlmforge's Temporal workflows and the one contract
// file (this one) that names every workflow, activity, task queue and the
// input/result structs that cross the Temporal boundary.
package workflows

import (
	"fmt"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/review"
)

// Task queues. Workflow tasks are light and go to Workflows; heavy activity work
// goes to its own queue so that generation, training and evaluation can run on
// separate machines with their own concurrency limits.
const (
	// TaskQueueWorkflows carries workflow tasks (orchestration only).
	TaskQueueWorkflows = "mlmforge"
	// TaskQueueGenerate carries dataset generation and validation batches.
	TaskQueueGenerate = "generate"
	// TaskQueueTrain carries training activities.
	TaskQueueTrain = "train"
	// TaskQueueEval carries evaluation activities.
	TaskQueueEval = "eval"
)

// TaskQueues lists every queue a full worker listens on, in a stable order.
var TaskQueues = []string{TaskQueueWorkflows, TaskQueueGenerate, TaskQueueTrain, TaskQueueEval}

// DefaultNamespace is the namespace the embedded server creates and workers use by default.
const DefaultNamespace = "default"

// Workflow and activity names, registered explicitly so that renaming a Go
// function never changes what is recorded in existing histories.
const (
	// HealthWorkflowName pings every activity queue and reports who answered.
	HealthWorkflowName = "Health"
	// PingActivityName answers a health ping; registered once per activity queue.
	PingActivityName = "Ping"
	// WorkerIdentityActivityName returns the identity of the worker it runs on;
	// workflows run it as a local activity to learn which worker holds them.
	WorkerIdentityActivityName = "WorkerIdentity"
)

// HealthInput asks the Health workflow to ping activity queues.
type HealthInput struct {
	// Queues are the activity task queues to ping; empty means generate, train and eval.
	Queues []string `json:"queues,omitempty"`
	// ScheduleToStartSeconds bounds how long a ping waits for a worker on its queue
	// before that queue is reported as unserved; 0 means 10 seconds.
	ScheduleToStartSeconds int `json:"schedule_to_start_seconds,omitempty"`
}

// HealthResult reports which worker answered on each queue.
type HealthResult struct {
	// WorkflowWorker is the identity of the worker that ran the workflow task.
	WorkflowWorker string `json:"workflow_worker"`
	// Queues holds one entry per pinged queue, in input order.
	Queues []QueueHealth `json:"queues"`
}

// QueueHealth is the outcome of one ping.
type QueueHealth struct {
	// Queue is the task queue pinged.
	Queue string `json:"queue"`
	// Worker is the identity (host@pid) of the worker that answered; empty if none did.
	Worker string `json:"worker,omitempty"`
	// Error says why the ping failed (no worker within the schedule-to-start timeout ...).
	Error string `json:"error,omitempty"`
}

// PingInput is the Ping activity's input.
type PingInput struct {
	// Queue is the queue the ping was scheduled on, echoed back.
	Queue string `json:"queue"`
}

// PingResult is the Ping activity's answer.
type PingResult struct {
	// Queue echoes PingInput.Queue.
	Queue string `json:"queue"`
	// Worker is the answering worker's identity.
	Worker string `json:"worker"`
}

// HealthWorkflowID returns a workflow ID for a health check; the suffix makes
// each check its own execution.
func HealthWorkflowID(suffix string) string {
	return fmt.Sprintf("mlmforge-health-%s", suffix)
}

// Dataset generation: workflow, activities, query.
const (
	// DatasetWorkflowName generates, validates and commits one dataset version.
	DatasetWorkflowName = "Dataset"
	// PlanDatasetActivityName resolves a spec into cells and quotas (plan.json).
	PlanDatasetActivityName = "PlanDataset"
	// GenerateBatchActivityName generates one batch of cells into a Parquet shard.
	GenerateBatchActivityName = "GenerateBatch"
	// MergeShardsActivityName dedups all shards and reports what is still missing.
	MergeShardsActivityName = "MergeShards"
	// CommitDatasetActivityName writes the selected examples as a dataset version.
	CommitDatasetActivityName = "CommitDataset"
	// DatasetProgressQuery returns a DatasetProgress.
	DatasetProgressQuery = "progress"
)

// DatasetWorkflowID is the workflow id for a spec hash: the same spec maps to
// the same workflow, so starting it twice never generates twice.
func DatasetWorkflowID(specHash string) string {
	return "dataset-" + specHash[:16]
}

// DatasetInput starts a DatasetWorkflow.
type DatasetInput struct {
	// Spec says what to generate (task, variant, counts, teacher, seed, mode, thresholds).
	Spec generator.Spec `json:"spec"`
	// Version names the dataset version; empty picks the next vN.
	Version string `json:"version,omitempty"`
	// BatchSize is the number of examples one activity generates (default 250).
	BatchSize int `json:"batch_size,omitempty"`
	// MaxParallel bounds concurrent batch activities (default 4).
	MaxParallel int `json:"max_parallel,omitempty"`
	// MaxRounds bounds generate-then-merge rounds that top up cells short
	// after cross-batch dedup (default 5).
	MaxRounds int `json:"max_rounds,omitempty"`
	// Review configures the review gate before release (policy required by default).
	Review ReviewOptions `json:"review"`
	// TeacherQueue sends batches to a per-teacher task queue (default "generate"),
	// so each Ollama host gets its own worker and concurrency limit.
	TeacherQueue string `json:"teacher_queue,omitempty"`
	// State carries progress across continue-as-new; nil on the first run.
	State *DatasetState `json:"state,omitempty"`
}

// DatasetState is the part of a DatasetWorkflow that survives continue-as-new.
type DatasetState struct {
	// Plan is the planning activity's result.
	Plan PlanResult `json:"plan"`
	// Round is the next round to run.
	Round int `json:"round"`
	// Shards are the Parquet shards written so far.
	Shards []string `json:"shards"`
	// NextAttempt is the next attempt number per cell and split.
	NextAttempt []map[string]int `json:"next_attempt"`
	// Kept is the merged count per cell and split.
	Kept []map[string]int `json:"kept"`
	// Stats accumulates teacher and rejection counts.
	Stats generator.Stats `json:"stats"`
	// Pending are the items the next round must generate.
	Pending []generator.Item `json:"pending"`
	// Drops discard the examples of regenerated cells (--regenerate-rejected).
	Drops []CellDrop `json:"drops,omitempty"`
	// Regenerated counts, per cell index, how often the cell was regenerated; each
	// regeneration extends the cell's attempt range by one more full range.
	Regenerated []int `json:"regenerated,omitempty"`
	// ReviewRound is the number of failed reviews regenerated so far.
	ReviewRound int `json:"review_round,omitempty"`
	// EarlierReviews are the failed reviews that led to regeneration; their
	// decisions on records that survive still apply to the release.
	EarlierReviews []ReviewCommit `json:"earlier_reviews,omitempty"`
}

// CellDrop discards every example of Cell generated before round BeforeRound: the
// cell's examples were rejected in review and the cell is generated anew.
type CellDrop struct {
	Cell        string `json:"cell"`
	BeforeRound int    `json:"before_round"`
}

// DatasetProgress is the answer to the progress query.
type DatasetProgress struct {
	// Phase is planning, generating, merging, committing, done or failed.
	Phase string `json:"phase"`
	// Round is the current round (0-based).
	Round int `json:"round"`
	// Done and Target count examples over all cells, per split.
	Done   map[string]int `json:"done"`
	Target map[string]int `json:"target"`
	// Cells lists per-cell progress (key, split, done, target).
	Cells []CellProgress `json:"cells,omitempty"`
	// BatchesDone and BatchesTotal count the current round's batches.
	BatchesDone  int `json:"batches_done"`
	BatchesTotal int `json:"batches_total"`
	// Stats holds rejects per reason, teacher tokens and time.
	Stats generator.Stats `json:"stats"`
	// Version is the committed dataset version once done.
	Version string `json:"version,omitempty"`
}

// CellProgress is one cell and split's progress.
type CellProgress struct {
	Cell   string `json:"cell"`
	Split  string `json:"split"`
	Done   int    `json:"done"`
	Target int    `json:"target"`
}

// DatasetResult is what a DatasetWorkflow returns.
type DatasetResult struct {
	// Task and Version name the committed dataset; Dir is its directory.
	Task    string `json:"task"`
	Version string `json:"version"`
	Dir     string `json:"dir"`
	// SpecHash identifies the spec.
	SpecHash string `json:"spec_hash"`
	// Counts are rows per split.
	Counts map[string]int `json:"counts"`
	// Short lists the cells that hit their attempt cap before their quota.
	Short []CellProgress `json:"short,omitempty"`
	// Stats holds rejects per reason, teacher tokens and time.
	Stats generator.Stats `json:"stats"`
	// ReviewPolicy and Review summarize the review gate.
	ReviewPolicy string          `json:"review_policy,omitempty"`
	Review       *review.Summary `json:"review,omitempty"`
	// TestSplit is the kind of the test split ("standard", "template-held-out
	// 25%"; generator.TestSplitKind), so that the result says whether a test
	// score on it measures generalization.
	TestSplit string `json:"test_split,omitempty"`
}

// PlanInput is the PlanDataset activity's input.
type PlanInput struct {
	Spec generator.Spec `json:"spec"`
	// RunID names the run directory HOME/runs/<RunID>.
	RunID string `json:"run_id"`
}

// PlanResult describes a plan written to disk.
type PlanResult struct {
	// PlanPath is HOME/runs/<run>/plan.json; RunDir holds the run's shards.
	PlanPath string `json:"plan_path"`
	RunDir   string `json:"run_dir"`
	SpecHash string `json:"spec_hash"`
	Task     string `json:"task"`
	Variant  string `json:"variant"`
	// Splits are the split names, test first.
	Splits []string `json:"splits"`
	// Cells are the cell keys and quotas, in plan order.
	Cells []PlanCell `json:"cells"`
	// AttemptFactor is the spec's attempt cap factor.
	AttemptFactor int `json:"attempt_factor"`
}

// PlanCell is a cell key with its quota per split.
type PlanCell struct {
	Key   string         `json:"key"`
	Quota map[string]int `json:"quota"`
}

// BatchInput is the GenerateBatch activity's input.
type BatchInput struct {
	PlanPath string `json:"plan_path"`
	RunDir   string `json:"run_dir"`
	// Round and Batch name the shard: shards/r<round>-b<batch>.parquet.
	Round int `json:"round"`
	Batch int `json:"batch"`
	// Items are the cells and splits to fill.
	Items []generator.Item `json:"items"`
}

// BatchResult is the GenerateBatch activity's result.
type BatchResult struct {
	// Shard is the Parquet file with the batch's kept examples.
	Shard string `json:"shard"`
	// Items report each item.
	Items []generator.ItemResult `json:"items"`
	// Stats counts the batch's rejects and teacher usage.
	Stats generator.Stats `json:"stats"`
}

// MergeInput is the MergeShards and CommitDataset activities' input.
type MergeInput struct {
	PlanPath string   `json:"plan_path"`
	Shards   []string `json:"shards"`
	// Version, RunID, Stats and Review are used by CommitDataset only.
	Version string          `json:"version,omitempty"`
	RunID   string          `json:"run_id,omitempty"`
	Stats   generator.Stats `json:"stats,omitempty"`
	Review  *ReviewCommit   `json:"review,omitempty"`
	// Fraction is the sample fraction (StageReview).
	Fraction float64 `json:"fraction,omitempty"`
	// Drops discard the examples of regenerated cells before the merge.
	Drops []CellDrop `json:"drops,omitempty"`
	// ReviewRound names the staged sample file of a repeated review (StageReview).
	ReviewRound int `json:"review_round,omitempty"`
}

// MergeResult is the MergeShards activity's result.
type MergeResult struct {
	// Kept is the count per cell index and split after cross-batch dedup.
	Kept []map[string]int `json:"kept"`
	// Stats counts duplicates dropped across batches.
	Stats generator.Stats `json:"stats"`
}

// CommitResult is the CommitDataset activity's result.
type CommitResult struct {
	Version string         `json:"version"`
	Dir     string         `json:"dir"`
	Counts  map[string]int `json:"counts"`
	// TestSplit is the kind of the version's test split, as its manifest
	// records it (datasets.Manifest.TestSplit).
	TestSplit string `json:"test_split,omitempty"`
}

// Review gate of the Dataset workflow: updates, query and their payloads.
const (
	// ReviewLeaseUpdate leases the next sampled record to a reviewer.
	ReviewLeaseUpdate = "review.lease"
	// ReviewDecideUpdate records a reviewer's decision (approve, reject, edit).
	// Decisions are updates, not signals, so the reviewer gets the validator's
	// accept or reject answer (unknown record, malformed or schema-breaking edit).
	ReviewDecideUpdate = "review.decide"
	// ReviewUndoUpdate withdraws a reviewer's last decision on a record.
	ReviewUndoUpdate = "review.undo"
	// ReviewAdjudicateUpdate settles a two-reviewer disagreement.
	ReviewAdjudicateUpdate = "review.adjudicate"
	// ReviewQuery returns a ReviewStatus.
	ReviewQuery = "review"
	// ReviewRecordQuery returns a RecordStatus for a sampled record id.
	ReviewRecordQuery = "review.record"
	// StageReviewActivityName stages the merged selection and draws the review sample.
	StageReviewActivityName = "StageReview"
	// LoadSampleActivityName returns one page of the staged sample.
	LoadSampleActivityName = "LoadSample"
)

// Review policies.
const (
	// ReviewRequired waits for reviewers to decide every sampled record and
	// releases only at or above the approval threshold.
	ReviewRequired = "required"
	// ReviewAuto releases without waiting; the manifest records that the
	// sample was auto-approved (quickstart, CI).
	ReviewAuto = "auto"
)

// ReviewOptions configures the review gate.
type ReviewOptions struct {
	// Policy is required (default) or auto.
	Policy string `json:"policy,omitempty"`
	// Fraction of each split x cell to sample (default 0.10, at least one per cell).
	Fraction float64 `json:"fraction,omitempty"`
	// Threshold is the approval rate needed for release (default 0.9).
	Threshold float64 `json:"threshold,omitempty"`
	// TwoReviewers asks for two independent decisions per sampled record.
	TwoReviewers bool `json:"two_reviewers,omitempty"`
	// DeadlineSeconds bounds the wait for reviewers; 0 waits forever.
	DeadlineSeconds int `json:"deadline_seconds,omitempty"`
	// OnDeadline is fail (default) or release (with the decisions made so far).
	OnDeadline string `json:"on_deadline,omitempty"`
	// RegenerateRejected, when a review fails its threshold, discards every cell
	// that had a rejected record, generates those cells anew and samples again,
	// instead of failing the run.
	RegenerateRejected bool `json:"regenerate_rejected,omitempty"`
	// MaxRegenerations bounds RegenerateRejected (default 2 repeated reviews).
	MaxRegenerations int `json:"max_regenerations,omitempty"`
}

// LeaseRequest asks for the next record to review.
type LeaseRequest struct {
	Reviewer string `json:"reviewer"`
}

// LeaseResult carries the leased record; nil when nothing is left for this reviewer.
type LeaseResult struct {
	Record *datasets.Record `json:"record,omitempty"`
}

// UndoRequest withdraws Reviewer's last decision on RecordID.
type UndoRequest struct {
	Reviewer string `json:"reviewer"`
	RecordID string `json:"record_id"`
}

// RecordStatus is the answer to the review.record query.
type RecordStatus struct {
	// Record is the sampled record; nil when the id is not in the sample.
	Record *datasets.Record `json:"record,omitempty"`
	// Status is its review status (review.Status*).
	Status string `json:"status,omitempty"`
}

// ReviewStatus is the answer to the review query.
type ReviewStatus struct {
	// Phase is the workflow phase; "review" while the gate waits.
	Phase string `json:"phase"`
	// Task is the dataset's task.
	Task string `json:"task"`
	// Policy is the gate's policy.
	Policy string `json:"policy"`
	// Progress and Summary describe the queue (zero before the gate opens).
	Progress review.Progress `json:"progress"`
	Summary  review.Summary  `json:"summary"`
	// DeadlineAt is when the gate gives up waiting, if it has a deadline.
	DeadlineAt *time.Time `json:"deadline_at,omitempty"`
	// OnDeadline is what happens at the deadline: fail or release.
	OnDeadline string `json:"on_deadline,omitempty"`
	// ReviewRound counts the reviews that failed and were regenerated before this one.
	ReviewRound int `json:"review_round,omitempty"`
	// Earlier summarizes those failed reviews.
	Earlier []review.Summary `json:"earlier,omitempty"`
}

// StageResult is the StageReview activity's result.
type StageResult struct {
	// SamplePath holds the sampled records (provenance and validation dropped).
	SamplePath string `json:"sample_path"`
	// Sampled is the number of sampled records.
	Sampled int `json:"sampled"`
}

// LoadSampleInput asks for records [Offset, Offset+Limit) of the sample.
type LoadSampleInput struct {
	SamplePath string `json:"sample_path"`
	Offset     int    `json:"offset"`
	Limit      int    `json:"limit"`
}

// ReviewCommit carries the review's outcome to CommitDataset.
type ReviewCommit struct {
	// Policy is the gate's policy; with auto, sampled records are marked approved.
	Policy string `json:"policy"`
	// SamplePath lists the sampled records (for auto: which to mark).
	SamplePath string `json:"sample_path"`
	// Final maps each decided record id to what the release does with it.
	Final map[string]review.FinalDecision `json:"final,omitempty"`
	// Rows are the decisions in force, written to review.parquet.
	Rows []review.DecisionRow `json:"rows,omitempty"`
	// Summary is recorded in the manifest.
	Summary review.Summary `json:"summary"`
	// DeadlineReleased is set when the deadline released an undecided sample.
	DeadlineReleased bool `json:"deadline_released,omitempty"`
	// Failed is set when the approval rate fell below the threshold.
	Failed bool `json:"failed,omitempty"`
	// Earlier are the failed reviews before this one (--regenerate-rejected).
	Earlier []ReviewCommit `json:"earlier,omitempty"`
}
