// Package review is the human review of a dataset version before release: a
// stratified sample of its records (SelectSample), the state machine reviewers
// work through (Queue: leases, decisions, undo, two-reviewer adjudication), the
// release decision (Summary) and the decision log as Parquet.
//
// It is a plain domain library. A workflow keeps a Queue in its state, calls it
// from update handlers and continues-as-new with it, so nothing here reads the
// clock (times come from the caller), draws random numbers, starts goroutines
// or lets map iteration order reach a result, and every type is JSON.
package review

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
)

// Kind is what a reviewer says about a record.
type Kind string

// The decision kinds.
const (
	// Approve: the record is right as it is.
	Approve Kind = "approve"
	// Reject: the record is wrong and is dropped from the release; Reason says why.
	Reject Kind = "reject"
	// Edit: the record was wrong and the reviewer corrected its input, target or both.
	Edit Kind = "edit"
)

// RejectReasons are the reasons a reject may give; "other" needs a Note.
var RejectReasons = []string{"wrong_label", "not_grounded", "unnatural_text", "unsafe_or_pii", "duplicate", "other"}

// Review statuses reported by Outcome.Status. The final ones are the
// datasets.Record.ReviewStatus values the release writes.
const (
	StatusPending           = datasets.ReviewPending
	StatusApproved          = datasets.ReviewApproved
	StatusRejected          = datasets.ReviewRejected
	StatusEdited            = datasets.ReviewEdited
	StatusPendingSecond     = "pending_second_review"
	StatusNeedsAdjudication = "needs_adjudication"
)

// Decision is one reviewer's (or adjudicator's) verdict on one record.
type Decision struct {
	// RequestID is the client's idempotency key: a decision whose RequestID was
	// applied before changes nothing and gets the first outcome back.
	RequestID string `json:"request_id"`
	// RecordID is the id of a sampled record.
	RecordID string `json:"record_id"`
	// Reviewer names who decides.
	Reviewer string `json:"reviewer"`
	// Kind is approve, reject or edit.
	Kind Kind `json:"kind"`
	// Reason is one of RejectReasons: required for a reject, optional for an
	// edit, not allowed for an approve.
	Reason string `json:"reason,omitempty"`
	// Note is free text; required when Reason is "other".
	Note string `json:"note,omitempty"`
	// EditInput is an edit's corrected input (empty: the input stays).
	EditInput string `json:"edit_input,omitempty"`
	// EditTarget is an edit's corrected target JSON (empty: the target stays).
	// An edit sets at least one of EditInput and EditTarget.
	EditTarget json.RawMessage `json:"edit_target,omitempty"`
	// At is when the decision was made, set by the caller (workflow.Now). It is
	// also the time against which leases are checked.
	At time.Time `json:"at"`
}

// Codes of a DecisionError, HTTP status codes so a front end can pass them on.
const (
	CodeNotFound = 404 // the record is not in this sample, or there is nothing to undo
	CodeConflict = 409 // the state does not allow it: decided already, leased by someone else
	CodeInvalid  = 422 // the decision itself is malformed or its edit fails validation
)

// DecisionError is why a decision, adjudication or undo is refused.
type DecisionError struct {
	// Code is CodeNotFound, CodeConflict or CodeInvalid.
	Code int `json:"code"`
	// Msg is shown to the reviewer as is.
	Msg string `json:"msg"`
}

// Error returns the message.
func (e *DecisionError) Error() string { return e.Msg }

func errorf(code int, format string, args ...any) *DecisionError {
	return &DecisionError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// CheckFunc re-validates a record with an edit applied: input and target are
// the record's after the edit (the original where the edit leaves one alone).
// A non-nil error refuses the edit with its text. ValidatorCheck builds one
// from the generator's validator.
type CheckFunc func(rec datasets.Record, input string, target json.RawMessage) error

// Outcome is what Apply, Adjudicate and a replayed request return.
type Outcome struct {
	// Status is the record's status after the decision: approved, rejected,
	// edited, pending_second_review or needs_adjudication. For a replayed
	// RequestID it is the status the first request got.
	Status string `json:"status"`
	// Duplicate is set when the RequestID had been applied before and nothing changed.
	Duplicate bool `json:"duplicate,omitempty"`
	// Error is set when nothing was applied because the decision does not fit
	// the state (Validate was skipped, or the state moved since). It holds the
	// message Validate would have returned.
	Error string `json:"error,omitempty"`
	// Progress is the queue's progress after the decision.
	Progress Progress `json:"progress"`
}

// FinalDecision is what the release does with one reviewed record.
type FinalDecision struct {
	// Kind is the deciding kind.
	Kind Kind `json:"kind"`
	// Status is the record's new datasets.Record.ReviewStatus.
	Status string `json:"status"`
	// Reason is the deciding decision's reason, if any.
	Reason string `json:"reason,omitempty"`
	// Input and Target are the corrected record of an edit (each the
	// original where the edit left it alone); empty otherwise.
	Input  string          `json:"input,omitempty"`
	Target json.RawMessage `json:"target,omitempty"`
	// Reviewer is who made the deciding decision (the adjudicator, if any).
	Reviewer string `json:"reviewer"`
	// Adjudicated is set when an adjudicator settled a disagreement.
	Adjudicated bool `json:"adjudicated,omitempty"`
}

// statusOf is the final status a kind leads to.
func statusOf(k Kind) string {
	switch k {
	case Approve:
		return StatusApproved
	case Reject:
		return StatusRejected
	case Edit:
		return StatusEdited
	}
	return ""
}

// checkForm finds what is malformed in d without looking at any state.
func checkForm(d Decision) *DecisionError {
	if err := decisionBounds(d); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(d.RequestID) == "":
		return errorf(CodeInvalid, "request_id is required")
	case strings.TrimSpace(d.Reviewer) == "":
		return errorf(CodeInvalid, "reviewer is required")
	case d.RecordID == "":
		return errorf(CodeInvalid, "record_id is required")
	}
	if d.Reason != "" && !slices.Contains(RejectReasons, d.Reason) {
		return errorf(CodeInvalid, "unknown reason %q: want one of %s", d.Reason, strings.Join(RejectReasons, ", "))
	}
	if d.Reason == "other" && strings.TrimSpace(d.Note) == "" {
		return errorf(CodeInvalid, `reason "other" needs a note`)
	}
	edits := d.EditInput != "" || len(d.EditTarget) > 0
	switch d.Kind {
	case Approve:
		if d.Reason != "" || edits {
			return errorf(CodeInvalid, "an approve takes no reason and no edit")
		}
	case Reject:
		if d.Reason == "" {
			return errorf(CodeInvalid, "a reject needs a reason: one of %s", strings.Join(RejectReasons, ", "))
		}
		if edits {
			return errorf(CodeInvalid, "a reject takes no edit; use kind edit to correct the record")
		}
	case Edit:
		if !edits {
			return errorf(CodeInvalid, "an edit needs edit_input, edit_target or both")
		}
		if len(d.EditTarget) > 0 && !json.Valid(d.EditTarget) {
			return errorf(CodeInvalid, "edit_target is not valid JSON")
		}
	default:
		return errorf(CodeInvalid, "unknown kind %q: want approve, reject or edit", d.Kind)
	}
	return nil
}

// edited returns the record's input and target with d's edit applied.
func edited(rec datasets.Record, d Decision) (string, json.RawMessage) {
	input, target := rec.Input, json.RawMessage(rec.Target)
	if d.EditInput != "" {
		input = d.EditInput
	}
	if len(d.EditTarget) > 0 {
		target = d.EditTarget
	}
	return input, target
}

// checkEdit refuses an edit that changes nothing or that check rejects. It
// runs after checkForm, so EditTarget is valid JSON.
func checkEdit(rec datasets.Record, d Decision, check CheckFunc) *DecisionError {
	if d.Kind != Edit {
		return nil
	}
	input, target := edited(rec, d)
	if input == rec.Input && canonicalJSON(target) == canonicalJSON(json.RawMessage(rec.Target)) {
		return errorf(CodeInvalid, "the edit changes nothing; approve the record instead")
	}
	if check == nil {
		return nil
	}
	if err := check(rec, input, target); err != nil {
		return errorf(CodeInvalid, "the edited record fails validation: %v", err)
	}
	return nil
}

// normalized copies d so the queue owns it, with EditTarget compacted.
func normalized(d Decision) Decision {
	if len(d.EditTarget) > 0 {
		var b bytes.Buffer
		if json.Compact(&b, d.EditTarget) == nil {
			d.EditTarget = b.Bytes()
		} else {
			d.EditTarget = slices.Clone(d.EditTarget)
		}
	}
	return d
}

// agree reports whether two decisions on rec lead to the same released record:
// the same kind, and for edits the same corrected input and target (JSON
// compared by value, so key order and spacing do not count).
func agree(rec datasets.Record, a, b Decision) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind != Edit {
		return true
	}
	ai, at := edited(rec, a)
	bi, bt := edited(rec, b)
	return ai == bi && canonicalJSON(at) == canonicalJSON(bt)
}

// canonicalJSON re-encodes JSON with object keys sorted and no spacing
// (numbers kept as written); text that is not JSON is returned as is.
func canonicalJSON(raw json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return string(raw)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return string(raw)
	}
	return string(out)
}

// Fingerprint identifies what a decision says: its record, kind, reason, note
// and edit (the target compared as canonical JSON), not its request id,
// reviewer or time. A request id reused with another fingerprint is a
// different decision, not a retry.
func (d Decision) Fingerprint() string {
	b, _ := json.Marshal([]string{d.RecordID, string(d.Kind), d.Reason, d.Note, d.EditInput,
		canonicalJSON(d.EditTarget)})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// CheckForm reports what is malformed in d without looking at any queue: a
// field over its bound (CodeTooLarge), a missing field, an unknown kind or
// reason, a reason or edit where the kind takes none (CodeInvalid). Front ends
// call it to answer at once; Validate checks it again.
func (d Decision) CheckForm() error {
	if err := checkForm(d); err != nil {
		return err
	}
	return nil
}

// Edited returns a record's input and target with d's edit applied (each the
// original where the edit leaves it alone).
func Edited(rec datasets.Record, d Decision) (string, json.RawMessage) { return edited(rec, d) }
