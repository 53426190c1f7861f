package generator

import "encoding/json"

// Validator checks a candidate example before it enters a dataset; the Runner
// calls it on every teacher answer. validate.Validator is the real one.
type Validator interface {
	// Check validates one candidate: the sample it was written for, the
	// teacher's input and the target. It returns the checks passed, or the
	// first failure.
	Check(s Sample, input string, target json.RawMessage) (Validation, *Rejection)
}

// Validation records what was checked for a kept example (datasets.Record.Validation).
type Validation struct {
	// Checks are the checks run and passed, in order: json, schema, label,
	// turns, length, leak, mock_execution, grounding.
	Checks []string `json:"checks"`
	// Grounded maps each grounded leaf's path to the normalizer that found it.
	Grounded map[string]string `json:"grounded,omitempty"`
}

// Rejection says why a candidate example was not kept.
type Rejection struct {
	// Reason is the counted category.
	Reason RejectReason `json:"reason"`
	// Detail is a human-readable explanation, e.g. `$.order_id "ORD-1234" not found in input`.
	Detail string `json:"detail"`
}

// Error makes a Rejection usable as an error.
func (r *Rejection) Error() string { return string(r.Reason) + ": " + r.Detail }
