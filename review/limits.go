package review

import (
	"fmt"
	"unicode/utf8"
)

// Bounds of what a reviewer may send. Every field of a decision ends up in the
// Dataset workflow's history (the update's arguments) and in review.parquet, so
// each is bounded: a note of a megabyte would make the workflow task fail with
// PayloadsTooLarge and wedge the release. The bounds are generous for what a
// reviewer types; an edited record is bounded like a generated one.
const (
	// MaxRequestIDBytes bounds a client's idempotency key.
	MaxRequestIDBytes = 128
	// MaxRecordIDBytes bounds a record id (generated ids are 32 hex digits).
	MaxRecordIDBytes = 128
	// MaxReviewerBytes bounds a reviewer name (the reviewers store allows 64).
	MaxReviewerBytes = 64
	// MaxNoteBytes bounds a decision's free-text note.
	MaxNoteBytes = 4096
	// MaxReasonBytes bounds a reason (one of RejectReasons, checked too).
	MaxReasonBytes = 32
	// MaxEditInputBytes bounds an edit's corrected input.
	MaxEditInputBytes = 16 << 10
	// MaxEditTargetBytes bounds an edit's corrected target JSON.
	MaxEditTargetBytes = 16 << 10
	// MaxSignatureBytes bounds a request signature (hex of 64 bytes).
	MaxSignatureBytes = 128
)

// CodeTooLarge is the DecisionError code of a field over its bound (HTTP 413).
const CodeTooLarge = 413

// fieldBound is one field's value and bound, named as in the JSON requests.
type fieldBound struct {
	name  string
	value string
	max   int
}

// checkBounds refuses a field longer than its bound, or one that is not
// UTF-8 text, naming the field, its size and the bound.
func checkBounds(fields ...fieldBound) *DecisionError {
	for _, f := range fields {
		if len(f.value) > f.max {
			return errorf(CodeTooLarge, "%s is %d bytes; at most %d are allowed", f.name, len(f.value), f.max)
		}
		if !utf8.ValidString(f.value) {
			return errorf(CodeInvalid, "%s is not valid UTF-8 text", f.name)
		}
	}
	return nil
}

// decisionBounds checks every field of d against its bound.
func decisionBounds(d Decision) *DecisionError {
	return checkBounds(
		fieldBound{"request_id", d.RequestID, MaxRequestIDBytes},
		fieldBound{"record_id", d.RecordID, MaxRecordIDBytes},
		fieldBound{"reviewer", d.Reviewer, MaxReviewerBytes},
		fieldBound{"reason", d.Reason, MaxReasonBytes},
		fieldBound{"note", d.Note, MaxNoteBytes},
		fieldBound{"edit_input", d.EditInput, MaxEditInputBytes},
		fieldBound{"edit_target", string(d.EditTarget), MaxEditTargetBytes},
	)
}

// CheckRequestBounds checks the fields of a lease or undo request: the
// reviewer, a record id and a request id (each may be empty here; emptiness
// is checked where it matters).
func CheckRequestBounds(reviewer, recordID, requestID string) error {
	if err := checkBounds(fieldBound{"reviewer", reviewer, MaxReviewerBytes},
		fieldBound{"record_id", recordID, MaxRecordIDBytes},
		fieldBound{"request_id", requestID, MaxRequestIDBytes}); err != nil {
		return err
	}
	return nil
}

// MaxDecisionBytes is an upper bound of a decision's JSON encoding, what one
// update carries: every bounded field escaped at worst six bytes per byte
// (\u00XX), plus the field names.
const MaxDecisionBytes = 6*(MaxRequestIDBytes+MaxRecordIDBytes+MaxReviewerBytes+MaxReasonBytes+MaxNoteBytes+
	MaxEditInputBytes+MaxEditTargetBytes+MaxSignatureBytes) + 1024

// Bounds describes the field bounds in one line, e.g. for --help.
func Bounds() string {
	return fmt.Sprintf("note <= %d bytes, edit_input <= %d, edit_target <= %d, request_id <= %d, reviewer <= %d",
		MaxNoteBytes, MaxEditInputBytes, MaxEditTargetBytes, MaxRequestIDBytes, MaxReviewerBytes)
}
