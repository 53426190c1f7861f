package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/worker"
	"github.com/cyclecore/mlmforge/workflows"
)

// TestGenerateSurvivesWorkerKill runs a dataset workflow on a separate dev
// server with one worker process, kills that worker with SIGKILL in the middle
// of the run, starts another, and checks the committed dataset: exact counts
// per cell, unique ids, no near duplicates across splits.
func TestGenerateSurvivesWorkerKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs an embedded Temporal server and worker processes; skipped with -short")
	}
	port := freeTCPPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	startCLI(t, "Ready.", "--home", t.TempDir(), "dev", "--review-listen", "127.0.0.1:0", "--port", fmt.Sprint(port), "--queues", "none", "--ui-port", "-1")
	home := t.TempDir() // shared by both workers, like a shared filesystem
	first, _ := startCLI(t, "Press Ctrl+C", "--home", home, "worker", "--address", addr)

	out, errOut, code := runCLI(t, "--home", home, "generate", "--task", "edgeintent", "--classes", "50",
		"--train", "4000", "--test", "1000", "--batch-size", "40", "--parallel", "2", "--seed", "11",
		"--address", addr, "--detach", "--review", "auto")
	if code != 0 {
		t.Fatalf("generate --detach: exit %d: %s %s", code, out, errOut)
	}
	id := strings.TrimSpace(out)
	ctx, cancel := testContext(t)
	defer cancel()
	c, err := worker.Dial(ctx, worker.DialConfig{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for {
		p, err := queryProgress(ctx, c, id)
		if err == nil && p.BatchesDone >= 4 {
			if p.Phase != "generating" || p.BatchesDone == p.BatchesTotal {
				t.Fatalf("run too far along to test a mid-run kill: %+v", p)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no progress before the deadline")
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, errOut, code = runCLI(t, "status", id, "--address", addr)
	if code != 0 || !strings.Contains(out, id+": ") || !strings.Contains(out, "cells still short") {
		t.Errorf("status while running: exit %d\n%s%s", code, out, errOut)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	startCLI(t, "Press Ctrl+C", "--home", home, "worker", "--address", addr)

	var res workflows.DatasetResult
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		t.Fatalf("workflow after the worker was killed: %v", err)
	}
	if res.Counts["train"] != 4000 || res.Counts["test"] != 1000 || len(res.Short) != 0 {
		t.Fatalf("result counts %v, short %v", res.Counts, res.Short)
	}
	checkDataset(t, filepath.Join(home, "datasets"), res.Version, map[string]int{"train": 80, "test": 20})

	out, errOut, code = runCLI(t, "status", id, "--address", addr)
	if code != 0 || !strings.Contains(out, "Dataset edgeintent@"+res.Version+" committed") || !strings.Contains(out, "train  4000 examples") {
		t.Errorf("status after completion: exit %d\n%s%s", code, out, errOut)
	}
}

// checkDataset verifies a committed EdgeIntent version: every cell holds its
// per-split count, ids are unique, and no test input has a near duplicate in train.
func checkDataset(t *testing.T, root, version string, perCell map[string]int) {
	t.Helper()
	store, err := datasets.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	v, err := store.Version(schemas.EdgeIntent, version)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	dd := generator.NewDeduper(0.8, 1)
	for _, split := range []string{"test", "train"} {
		info := v.Manifest().Splits[split]
		if len(info.Cells) != 50 {
			t.Errorf("%s has %d cells, want 50", split, len(info.Cells))
		}
		for cell, n := range info.Cells {
			if n != perCell[split] {
				t.Errorf("%s cell %s has %d rows, want %d", split, cell, n, perCell[split])
			}
		}
		recs, err := v.Read(split)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if ids[r.ID] {
				t.Fatalf("duplicate id %s", r.ID)
			}
			ids[r.ID] = true
			if dup, reason := dd.Check(r.Input); reason != "" {
				t.Fatalf("%s example %s %q is a %s of %s", split, r.ID, r.Input, reason, dup)
			}
			dd.Add(r.ID, r.Input)
		}
	}
}

// TestGenerateDefaultTestSets generates the three SLM-Bench default test sets
// with the builtin teacher through the CLI on the embedded server, and checks
// every manifest against the plan's exact per-cell quotas.
func TestGenerateDefaultTestSets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded Temporal server; skipped with -short")
	}
	home := t.TempDir()
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	sets := []struct {
		args []string
		spec generator.Spec
	}{
		{[]string{"--task", "edgejson", "--test", "1000"}, generator.Spec{Task: schemas.EdgeJSON}},
		{[]string{"--task", "edgeintent", "--classes", "50", "--test", "1000"}, generator.Spec{Task: schemas.EdgeIntent, Variant: "50"}},
		{[]string{"--task", "edgefunccall", "--functions", "100", "--test", "500"}, generator.Spec{Task: schemas.EdgeFuncCall, Variant: "100"}},
	}
	for _, set := range sets {
		var out, errOut strings.Builder
		root := newRootCmd(&out, &errOut)
		root.SetArgs(append([]string{"--home", home, "generate", "--seed", "7", "--review", "auto"}, set.args...))
		if err := root.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("%v: %v\n%s", set.args, err, errOut.String())
		}
		spec := set.spec
		spec.Counts = map[string]int{"test": map[schemas.Task]int{schemas.EdgeJSON: 1000, schemas.EdgeIntent: 1000, schemas.EdgeFuncCall: 500}[spec.Task]}
		spec.Teacher, spec.Seed, spec.Temperature = "builtin", 7, 0.7
		spec.NearDupThreshold = 0.8
		plan, err := generator.NewPlan(cat, spec)
		if err != nil {
			t.Fatal(err)
		}
		store, err := datasets.Open(filepath.Join(home, "datasets"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := store.Version(spec.Task, "latest")
		if err != nil {
			t.Fatal(err)
		}
		m := v.Manifest()
		if m.SpecHash != plan.SpecHash {
			t.Errorf("%s: manifest spec hash %s, the CLI's spec plans %s", spec.Task, m.SpecHash, plan.SpecHash)
		}
		cells := m.Splits["test"].Cells
		for _, c := range plan.Cells {
			if q := c.Quota["test"]; cells[c.Cell.Key] != q {
				t.Errorf("%s cell %s: %d rows, quota %d", spec.Task, c.Cell.Key, cells[c.Cell.Key], q)
			}
		}
		if m.Splits["test"].Rows != spec.Counts["test"] || !strings.Contains(out.String(), "Rejected:") {
			t.Errorf("%s: %d rows; output:\n%s", spec.Task, m.Splits["test"].Rows, out.String())
		}
	}
}
