package generator

import "fmt"

// OutputError says that the model answered but its output cannot be used. It
// is not a failure of the call: the caller counts a rejection with Reason and
// keeps Raw for the rejection report.
type OutputError struct {
	// Reason is the rejection reason to count, RejectJSONParse for output that
	// is not the JSON object the answer format asks for.
	Reason RejectReason
	// Raw is the model's unparsed output.
	Raw string
	// Err says what is wrong with it.
	Err error
}

// Error gives the reason and what is wrong with the output.
func (e *OutputError) Error() string {
	return fmt.Sprintf("teacher output rejected (%s): %v", e.Reason, e.Err)
}

// Unwrap returns the underlying parse error.
func (e *OutputError) Unwrap() error { return e.Err }
