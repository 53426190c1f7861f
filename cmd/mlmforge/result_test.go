package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cyclecore/mlmforge/workflows"
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

// TestPrintTrainResultCut: a run that cut training examples at seq_len says
// how many, at which lengths; one that cut none says nothing of it.
func TestPrintTrainResultCut(t *testing.T) {
	var out bytes.Buffer
	a := &app{out: &out}
	r := workflows.TrainResult{Checkpoint: "ck", Task: "edgejson", Preset: "tiny-json", SeqLen: 512, MaxSeq: 512,
		TrainExamples: 950, Truncated: 204}
	printTrainResult(a, r)
	if want := "Cut:        204 of 950 training examples are longer than seq_len 512 (max_seq 512)"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
	out.Reset()
	r.Truncated = 0
	printTrainResult(a, r)
	if strings.Contains(out.String(), "Cut:") {
		t.Errorf("nothing was cut, but:\n%s", out.String())
	}
}
