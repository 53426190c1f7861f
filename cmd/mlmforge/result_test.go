package main

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// fakeRun answers Get with errs in turn, then with the value 42.
type fakeRun struct {
	client.WorkflowRun
	errs  []error
	calls int
}

func (r *fakeRun) Get(_ context.Context, valuePtr any) error {
	r.calls++
	if len(r.errs) > 0 {
		err := r.errs[0]
		r.errs = r.errs[1:]
		return err
	}
	*valuePtr.(*int) = 42
	return nil
}

// TestGetResultRetriesTransientErrors: a wait cut off by the server is asked
// again until the result comes; a workflow's own failure and a cancelled
// context end it at once.
func TestGetResultRetriesTransientErrors(t *testing.T) {
	defer func(d time.Duration) { resultRetryDelay = d }(resultRetryDelay)
	resultRetryDelay = time.Millisecond
	ctx := t.Context()

	run := &fakeRun{errs: []error{fmt.Errorf("get history: %w", context.DeadlineExceeded),
		serviceerror.NewUnavailable("busy"), serviceerror.NewDeadlineExceeded("slow")}}
	var v int
	if err := getResult(ctx, run, &v); err != nil || v != 42 || run.calls != 4 {
		t.Fatalf("getResult = %v, value %d after %d calls; want 42 after 4", err, v, run.calls)
	}

	failed := temporal.NewApplicationError("train failed", "TrainError")
	run = &fakeRun{errs: []error{failed}}
	if err := getResult(ctx, run, &v); !errors.Is(err, failed) || run.calls != 1 {
		t.Fatalf("a failed workflow: %v after %d calls, want its error after 1", err, run.calls)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	run = &fakeRun{errs: []error{context.DeadlineExceeded}}
	if err := getResult(cancelled, run, &v); !errors.Is(err, context.DeadlineExceeded) || run.calls != 1 {
		t.Fatalf("a cancelled context: %v after %d calls, want one call", err, run.calls)
	}
}
