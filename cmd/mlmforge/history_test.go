package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// historyEnv, when set to 1, makes TestRecordDatasetHistory (re)write the
// checked-in Dataset workflow history that workflows' replay test replays.
// Re-record it only for an intended, versioned change of the workflow.
const historyEnv = "MLMFORGE_RECORD_HISTORY"

func TestRecordDatasetHistory(t *testing.T) {
	if os.Getenv(historyEnv) != "1" {
		t.Skip("set " + historyEnv + "=1 to re-record workflows/testdata/dataset_history_v1.json")
	}
	_, c, ctx := embeddedForTest(t)
	// Small batches and two splits give a history with parallel activities, a
	// merge, and a commit.
	in := workflows.DatasetInput{Spec: generator.Spec{Task: schemas.EdgeIntent, Variant: "50",
		Counts: map[string]int{"train": 200, "test": 100}, Seed: 1}, BatchSize: 60, MaxParallel: 3,
		Review: workflows.ReviewOptions{Policy: workflows.ReviewAuto}}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "dataset-history", TaskQueue: workflows.TaskQueueWorkflows},
		workflows.DatasetWorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var h historypb.History
	iter := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: " "}.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "workflows", "testdata", "dataset_history_v1.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d events", path, len(h.Events))
}

// embeddedForTest starts the embedded server and worker on a fresh home for
// one test, stopped when the test ends, with the test's context (testContext).
func embeddedForTest(t *testing.T) (*app, client.Client, context.Context) {
	t.Helper()
	a := &app{home: t.TempDir(), out: os.Stdout, err: os.Stderr}
	ctx, cancel := testContext(t)
	t.Cleanup(cancel)
	c, stop, err := connect(ctx, a, clusterFlags{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return a, c, ctx
}

// testContext is the context of a test that drives the embedded server and its
// workflows: it ends a minute before the test binary's -timeout, so that a hung
// test fails with its own message instead of the binary's panic, and no
// earlier. A fixed budget per test fails on a loaded machine: CI once took 17
// minutes for a quickstart test that takes 2 on an idle one, while another
// process held most of the memory.
func testContext(t *testing.T) (context.Context, context.CancelFunc) {
	if dl, ok := t.Deadline(); ok {
		return context.WithDeadline(context.Background(), dl.Add(-time.Minute))
	}
	return context.WithCancel(context.Background()) // the caller cancels it (the tests' cleanups stop servers with it alive)
}
