package workflows

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/review"
)

// Review gate of the Dataset workflow: updates, query, activities and their
// payloads.
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
	// ReviewReloadUpdate makes the gate read the reviewers store again (a
	// reviewer was added, removed or rotated). It needs no signature: all it
	// does is read the store.
	ReviewReloadUpdate = "review.reload"
	// ReviewQuery returns a ReviewStatus.
	ReviewQuery = "review"
	// ReviewRecordQuery returns a RecordStatus for a sampled record id.
	ReviewRecordQuery = "review.record"
	// StageReviewActivityName stages the merged selection and draws the review sample.
	StageReviewActivityName = "StageReview"
	// LoadSampleActivityName returns one page of the staged sample.
	LoadSampleActivityName = "LoadSample"
	// LoadReviewersActivityName reads the reviewers' public keys from the home.
	LoadReviewersActivityName = "LoadReviewers"
	// CheckEditActivityName re-validates an edited record with the generator's
	// validator; a local activity, so the catalog is never loaded in workflow code.
	CheckEditActivityName = "CheckEdit"
	// SaveReviewOpsActivityName writes one part of a run's review journal.
	SaveReviewOpsActivityName = "SaveReviewOps"
	// LoadReviewOpsActivityName returns one page of a review journal.
	LoadReviewOpsActivityName = "LoadReviewOps"
)

// Error types of review updates. ReviewErrorPrefix + an HTTP-like code
// ("Review404", "Review409", "Review413", "Review422") carries a
// review.DecisionError; the others are for the gate client.
const (
	// ReviewErrorPrefix starts the type of every review rejection.
	ReviewErrorPrefix = "Review"
	// ReviewUnauthorized (Review401): unknown reviewer or bad signature; a
	// client may reload the gate's reviewers once and retry.
	ReviewUnauthorized = "Review401"
	// ReviewMoving (Review503): the gate is moving to its next run
	// (continue-as-new); retry in a moment.
	ReviewMoving = "Review503"
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

// MaxRequiredSample bounds the sample of a required review. Every run of the
// gate pages the sample in, so it must stay far below Temporal's history
// limit; 20,000 records is 10% of a 200k-row dataset (lower --review-fraction,
// or use review auto, for more).
const MaxRequiredSample = 20000

// RequestMaxAge is how old a signed lease or undo may be: a request captured
// from a history cannot be replayed later.
const RequestMaxAge = 10 * time.Minute

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

// LeaseRequest asks for the next record to review, signed by the reviewer.
type LeaseRequest struct {
	Reviewer string `json:"reviewer"`
	// At is when the client made the request; older than RequestMaxAge is refused.
	At time.Time `json:"at,omitempty"`
	// Signature is the reviewer's review.Signer signature of the request
	// (SigningBytes) for this workflow id and update.
	Signature string `json:"signature,omitempty"`
}

// SigningBytes is what the signature covers: the request without it.
func (r LeaseRequest) SigningBytes() []byte { r.Signature = ""; return mustJSON(r) }

// LeaseResult carries the leased record; nil when nothing is left for this reviewer.
type LeaseResult struct {
	Record *datasets.Record `json:"record,omitempty"`
}

// DecideRequest is a decision or adjudication, signed by its reviewer. It
// encodes as the decision's fields plus "signature", so it reads the
// review.Decision arguments of older histories.
type DecideRequest struct {
	review.Decision
	// Signature is the reviewer's signature of the request (SigningBytes).
	Signature string `json:"signature,omitempty"`
}

// SigningBytes is what the signature covers: the request without it.
func (r DecideRequest) SigningBytes() []byte { r.Signature = ""; return mustJSON(r) }

// UndoRequest withdraws Reviewer's last decision on RecordID.
type UndoRequest struct {
	Reviewer string `json:"reviewer"`
	RecordID string `json:"record_id"`
	// RequestID makes a retried or replayed undo a no-op.
	RequestID string `json:"request_id,omitempty"`
	// At is when the client made the request; older than RequestMaxAge is refused.
	At time.Time `json:"at,omitempty"`
	// Signature is the reviewer's signature of the request (SigningBytes).
	Signature string `json:"signature,omitempty"`
}

// SigningBytes is what the signature covers: the request without it.
func (r UndoRequest) SigningBytes() []byte { r.Signature = ""; return mustJSON(r) }

// mustJSON encodes a request; the request types always encode. Encoding a
// struct is deterministic (fields in declaration order, map keys sorted);
// workflowcheck's reflection heuristics are told so.
func mustJSON(v any) []byte {
	//workflowcheck:ignore
	b, err := json.Marshal(v)
	if err != nil {
		panic("encode review request: " + err.Error())
	}
	return b
}

// ReloadResult is the answer to a reload: the reviewers the gate now knows.
type ReloadResult struct {
	Reviewers []string `json:"reviewers"`
}

// RecordStatus is the answer to the review.record query.
type RecordStatus struct {
	// Record is the sampled record; nil when the id is not in the sample.
	Record *datasets.Record `json:"record,omitempty"`
	// Status is its review status (review.Status*).
	Status string `json:"status,omitempty"`
	// Decisions are the decisions in force on it (notes of earlier gate runs dropped).
	Decisions []review.Decision `json:"decisions,omitempty"`
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
	// Reviewers are the reviewers whose signed requests the gate accepts.
	Reviewers []string `json:"reviewers,omitempty"`
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

// ReviewState is a gate in progress, carried across continue-as-new: the
// sample and the journal by reference, the leases and clock inline.
type ReviewState struct {
	// SamplePath and Sampled are the staged sample.
	SamplePath string `json:"sample_path"`
	Sampled    int    `json:"sampled"`
	// OpsDir holds the journal: one segment per gate run, OpsParts[i] files each.
	OpsDir   string `json:"ops_dir"`
	OpsParts []int  `json:"ops_parts,omitempty"`
	// Leases and Clock restore the queue's leases.
	Leases []review.Lease `json:"leases,omitempty"`
	Clock  time.Time      `json:"clock"`
	// DeadlineAt is the gate's deadline, if any.
	DeadlineAt *time.Time `json:"deadline_at,omitempty"`
	// Runs counts the gate's runs so far.
	Runs int `json:"runs"`
}

// ReviewCommit carries the review's outcome to CommitDataset.
type ReviewCommit struct {
	// Policy is the gate's policy; with auto, sampled records are marked approved.
	Policy string `json:"policy"`
	// SamplePath lists the sampled records (for auto: which to mark).
	SamplePath string `json:"sample_path"`
	// Config is the review queue's configuration (two reviewers, threshold).
	Config review.Config `json:"config,omitempty"`
	// OpsDir and OpsParts locate the review journal: the commit replays it
	// onto the sample for the decisions, so any number of decisions travels
	// by reference. Empty for auto and for gates opened before the journal.
	OpsDir   string `json:"ops_dir,omitempty"`
	OpsParts []int  `json:"ops_parts,omitempty"`
	// Final maps each decided record id to what the release does with it;
	// inline only for gates opened before the journal.
	Final map[string]review.FinalDecision `json:"final,omitempty"`
	// Rows are the decisions in force, written to review.parquet; inline
	// only for gates opened before the journal.
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

// ReviewersResult is the LoadReviewers activity's result.
type ReviewersResult struct {
	Keys []review.ReviewerKey `json:"keys"`
}

// CheckEditInput asks CheckEdit to re-validate a sampled record with an edit
// applied (Input and Target are the record's after the edit).
type CheckEditInput struct {
	Record datasets.Record `json:"record"`
	Input  string          `json:"input"`
	Target json.RawMessage `json:"target"`
	// MinInputChars and MaxInputChars are the spec's length bounds.
	MinInputChars int `json:"min_input_chars,omitempty"`
	MaxInputChars int `json:"max_input_chars,omitempty"`
}

// CheckEditResult says why an edit fails validation; empty when it passes.
type CheckEditResult struct {
	Error string `json:"error,omitempty"`
}

// SaveReviewOpsInput writes part Part of segment Segment of a journal.
type SaveReviewOpsInput struct {
	Dir     string      `json:"dir"`
	Segment int         `json:"segment"`
	Part    int         `json:"part"`
	Ops     []review.Op `json:"ops"`
}

// LoadReviewOpsInput asks for ops [Offset, Offset+Limit) of a journal.
type LoadReviewOpsInput struct {
	Dir    string `json:"dir"`
	Parts  []int  `json:"parts"`
	Offset int    `json:"offset"`
	Limit  int    `json:"limit"`
}

// LoadReviewOpsResult is one page of a journal, notes dropped (review.Op.Compact).
type LoadReviewOpsResult struct {
	Ops   []review.Op `json:"ops"`
	Total int         `json:"total"`
}

// ReviewOpsPath is the file of one part of a journal segment.
func ReviewOpsPath(dir string, segment, part int) string {
	return filepath.Join(dir, fmt.Sprintf("ops-%04d-%04d.json", segment, part))
}
