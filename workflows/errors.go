package workflows

import "go.temporal.io/sdk/temporal"

// invalidSpec is the non-retryable error of an input that cannot run: what
// names the input ("dataset", "pipeline").
func invalidSpec(what string, err error) error {
	return temporal.NewNonRetryableApplicationError("invalid "+what+" spec: "+err.Error(), ErrInvalidSpec, err)
}
