package workflows

import (
	"fmt"
	"path/filepath"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/review"
)

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
	// Limits bound one run's work before it continues as new; zero fields
	// take the defaults (tests lower them to exercise continue-as-new).
	Limits RunLimits `json:"limits,omitempty"`
}

// Bounds of a Dataset workflow's input, refused up front (the CLI and the
// pipeline spec check them too). MaxExamples keeps the merge and commit
// activities, which hold the selection in memory, within a worker's means;
// the workflow itself does bounded work per task for any count it accepts.
const (
	// MaxExamples bounds the examples of a dataset, all splits together.
	MaxExamples = 1_000_000
	// MaxBatchSize bounds the examples of one generation activity.
	MaxBatchSize = 10_000
	// MaxParallelBatches bounds concurrent generation activities.
	MaxParallelBatches = 256
	// MaxRoundsLimit bounds the generate-then-merge rounds of one pass.
	MaxRoundsLimit = 50
)

// RunLimits bound what one run of a Dataset workflow does before it
// continues as new, so its history stays far below Temporal's limits.
type RunLimits struct {
	// HistoryEvents is the history length at which a run moves on (default 20,000).
	HistoryEvents int `json:"history_events,omitempty"`
	// ReviewUpdates is the number of review updates one gate run takes
	// (default 1,500; the server refuses updates past 2,000 per run).
	ReviewUpdates int `json:"review_updates,omitempty"`
	// Batches is the number of generation batches one run schedules (default 2,000).
	Batches int `json:"batches,omitempty"`
}

// ShardPath is the Parquet shard of one generation batch.
func ShardPath(runDir string, round, batch int) string {
	return filepath.Join(runDir, "shards", fmt.Sprintf("r%03d-b%04d.parquet", round, batch))
}

// DatasetState is the part of a DatasetWorkflow that survives continue-as-new.
type DatasetState struct {
	// Plan is the planning activity's result.
	Plan PlanResult `json:"plan"`
	// Round is the next round to run.
	Round int `json:"round"`
	// Shards are Parquet shards listed by path, as runs before ShardRounds
	// recorded them.
	Shards []string `json:"shards"`
	// ShardRounds[r] is the number of batches of round r, whose shards are
	// ShardPath(run dir, r, 0..n-1): the shards by reference, so the state
	// stays small however many batches a run writes.
	ShardRounds []int `json:"shard_rounds,omitempty"`
	// Cursor is the round in progress when a run moved on in the middle of it.
	Cursor *RoundCursor `json:"cursor,omitempty"`
	// Review is the review gate in progress when a run moved on during review.
	Review *ReviewState `json:"review,omitempty"`
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

// RoundCursor is how far a round got: batches are cut from the round's
// pending items in order, Item and Offset marking where the next one starts.
type RoundCursor struct {
	// Round is the round's number; Batches its number of batches.
	Round   int `json:"round"`
	Batches int `json:"batches"`
	// Next is the next batch to schedule; Done counts the finished ones.
	Next int `json:"next"`
	Done int `json:"done"`
	// Item and Offset locate the next batch's first example in the pending items.
	Item   int `json:"item"`
	Offset int `json:"offset"`
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

// ShardSet names every shard of a run and the cells whose examples are
// dropped. Each input that carries it embeds it, so its fields stay at the
// top of the input's JSON object, as in the MergeInput that all three
// activities shared before.
type ShardSet struct {
	// PlanPath is the run's plan.json.
	PlanPath string `json:"plan_path"`
	// Shards lists shards by path; ShardRounds names the rest by reference
	// (DatasetState.ShardRounds) under RunDir.
	Shards      []string `json:"shards"`
	ShardRounds []int    `json:"shard_rounds,omitempty"`
	RunDir      string   `json:"run_dir,omitempty"`
	// Drops discard the examples of regenerated cells before the merge.
	Drops []CellDrop `json:"drops,omitempty"`
}

// Paths lists every shard of the set: by path, then by reference (rounds
// of batches under RunDir).
func (s ShardSet) Paths() []string {
	paths := append([]string(nil), s.Shards...)
	for round, n := range s.ShardRounds {
		for b := 0; b < n; b++ {
			paths = append(paths, ShardPath(s.RunDir, round, b))
		}
	}
	return paths
}

// MergeInput is the MergeShards activity's input.
type MergeInput struct {
	ShardSet
}

// StageInput is the StageReview activity's input.
type StageInput struct {
	ShardSet
	// Fraction is the share of the merged selection to sample for review.
	Fraction float64 `json:"fraction,omitempty"`
	// ReviewRound names the staged sample file of a repeated review.
	ReviewRound int `json:"review_round,omitempty"`
}

// CommitInput is the CommitDataset activity's input.
type CommitInput struct {
	ShardSet
	// Version names the dataset version; empty picks the next vN.
	Version string `json:"version,omitempty"`
	// RunID is the workflow id that commits: a retried commit finds the
	// version this run already wrote.
	RunID string `json:"run_id,omitempty"`
	// Stats are the run's teacher and rejection counts, for the provenance.
	Stats generator.Stats `json:"stats,omitempty"`
	// Review is the review gate's outcome (nil for runs without a gate).
	Review *ReviewCommit `json:"review,omitempty"`
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
