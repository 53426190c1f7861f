package main

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// getResult is run.Get, except that a wait cut off by the server (no answer in
// time, unavailable, rate limited) is repeated while ctx lasts: the workflow
// goes on regardless. A quickstart beside a CI run on a machine short of memory
// once failed with "context deadline exceeded" while every step was still
// running. A workflow's own failure, a timeout included, is returned as is.
func getResult(ctx context.Context, run client.WorkflowRun, valuePtr any) error {
	for {
		err := run.Get(ctx, valuePtr)
		if err == nil || ctx.Err() != nil || !transientRPC(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(resultRetryDelay):
		}
	}
}

// resultRetryDelay is the pause before getResult asks again.
var resultRetryDelay = time.Second

// transientRPC reports whether err is a server call that did not complete (as
// opposed to an answer saying the workflow failed).
func transientRPC(err error) bool {
	var deadline *serviceerror.DeadlineExceeded
	var unavailable *serviceerror.Unavailable
	var exhausted *serviceerror.ResourceExhausted
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &deadline) || errors.As(err, &unavailable) ||
		errors.As(err, &exhausted)
}
