package datasets

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/cyclecore/mlmforge/schemas"
)

// Record is one example of any SLM-Bench task, and one row of a split file.
//
// Columns holding JSON are stored as plain UTF-8 strings (Parquet BYTE_ARRAY with the
// STRING logical type, DuckDB VARCHAR, pyarrow string) rather than the JSON logical type:
// every reader understands them without an extension, and DuckDB's json functions
// (json_extract(target, '$.intent')) work on them directly.
//
// Optional columns are written as Parquet NULL when the Go field is empty, so that
// "WHERE intent IS NULL" works in DuckDB and pyarrow shows None rather than ""; reading
// a NULL back gives "". The JSON form omits them when empty, for the same reason.
type Record struct {
	// ID is the deterministic example id, unique within a version.
	ID string `parquet:"id" json:"id"`
	// Task is the task name (schemas.Task); it must match the version being written.
	Task string `parquet:"task" json:"task"`
	// Split is the split name: "train", "test", or another ^[a-z][a-z0-9_]*$ name.
	Split string `parquet:"split" json:"split"`
	// Input is the natural language input; for multi-turn function calling a JSON array of turns.
	Input string `parquet:"input" json:"input"`
	// Target is JSON text: the gold object, {"intent": ...}, or the gold call(s).
	Target string `parquet:"target" json:"target"`
	// Cell is the quota cell key, e.g. "ecommerce.order_summary", "set_timer",
	// "lights_turn_on/single_turn"; the manifest counts rows per cell.
	Cell string `parquet:"cell" json:"cell"`
	// Variant names the task variant, e.g. "assistant-50".
	Variant string `parquet:"variant" json:"variant"`
	// Complexity is the optional complexity label of the cell.
	Complexity string `parquet:"complexity,optional" json:"complexity,omitempty"`
	// Intent is the optional intent label (EdgeIntent, EdgeFuncCall).
	Intent string `parquet:"intent,optional" json:"intent,omitempty"`
	// Function is the optional gold function name (EdgeFuncCall).
	Function string `parquet:"function,optional" json:"function,omitempty"`
	// Scenario is the optional scenario label (e.g. "single_turn", "multi_turn").
	Scenario string `parquet:"scenario,optional" json:"scenario,omitempty"`
	// Provenance is JSON text: teacher, model, model digest, prompt template id and hash,
	// options, seed, mode.
	Provenance string `parquet:"provenance" json:"provenance"`
	// Validation is JSON text: the checks run on the example and their results.
	Validation string `parquet:"validation" json:"validation"`
	// ReviewStatus is one of "unsampled", "pending", "approved", "rejected", "edited";
	// an empty status is written as "unsampled".
	ReviewStatus string `parquet:"review_status" json:"review_status"`
	// SoftLabels is optional JSON text with teacher distributions, used for distillation.
	SoftLabels string `parquet:"soft_labels,optional" json:"soft_labels,omitempty"`
	// Meta is optional JSON text for anything else.
	Meta string `parquet:"meta,optional" json:"meta,omitempty"`
}

// Review statuses of a Record.
const (
	ReviewUnsampled = "unsampled"
	ReviewPending   = "pending"
	ReviewApproved  = "approved"
	ReviewRejected  = "rejected"
	ReviewEdited    = "edited"
)

var reviewStatuses = []string{ReviewUnsampled, ReviewPending, ReviewApproved, ReviewRejected, ReviewEdited}

var (
	splitRE   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// ValidateSplit reports whether name can name a split (and its file <name>.parquet).
func ValidateSplit(name string) error {
	if !splitRE.MatchString(name) || len(name) > 64 {
		return fmt.Errorf("invalid split name %q: want ^[a-z][a-z0-9_]*$, at most 64 characters", name)
	}
	return nil
}

// ValidateVersion reports whether name can name a version directory. Names that could
// escape the task directory ("../x", "a/b") or hide it (".x") never match; "latest" is
// reserved for the newest version.
func ValidateVersion(name string) error {
	if strings.EqualFold(name, "latest") {
		return fmt.Errorf("invalid version name %q: reserved for the newest version", name)
	}
	if !versionRE.MatchString(name) {
		return fmt.Errorf("invalid version name %q: want ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ (path traversal refused)", name)
	}
	return nil
}

// normalize fills the one default a record has: a fresh example has not been sampled.
func (r *Record) normalize() {
	if r.ReviewStatus == "" {
		r.ReviewStatus = ReviewUnsampled
	}
}

// validate checks r for writing into a dataset of task want ("" accepts any known task).
// Errors name the record (by id, or by position when the id is empty) and the field.
func (r *Record) validate(want string, pos int) error {
	who := fmt.Sprintf("record %q", r.ID)
	if r.ID == "" {
		return fmt.Errorf("record #%d: field id: empty", pos)
	}
	switch {
	case want != "" && r.Task != want:
		return fmt.Errorf("%s: field task: %q does not match dataset task %q", who, r.Task, want)
	case want == "":
		if t, err := schemas.ParseTask(r.Task); err != nil || string(t) != r.Task {
			return fmt.Errorf("%s: field task: unknown task %q", who, r.Task)
		}
	}
	if err := ValidateSplit(r.Split); err != nil {
		return fmt.Errorf("%s: field split: %w", who, err)
	}
	jsonFields := []struct {
		name, val string
		required  bool
	}{
		{"target", r.Target, true},
		{"provenance", r.Provenance, false},
		{"validation", r.Validation, false},
		{"soft_labels", r.SoftLabels, false},
		{"meta", r.Meta, false},
	}
	for _, f := range jsonFields {
		if f.val == "" && !f.required {
			continue
		}
		if !json.Valid([]byte(f.val)) {
			return fmt.Errorf("%s: field %s: not valid JSON: %.60q", who, f.name, f.val)
		}
	}
	for _, s := range reviewStatuses {
		if r.ReviewStatus == s {
			return nil
		}
	}
	return fmt.Errorf("%s: field review_status: %q is not one of %s", who, r.ReviewStatus, strings.Join(reviewStatuses, ", "))
}
