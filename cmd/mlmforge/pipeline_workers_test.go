package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/worker"
	"github.com/cyclecore/mlmforge/workflows"
)

// TestPipelineOnTwoWorkers runs a pipeline against one dev server whose
// activity queues are served by two worker processes; the worker that trains
// is killed with SIGKILL after a checkpoint, the other resumes the training
// from it, and the pipeline completes with one dataset version, one trained
// student, an evaluation report and a lineage file.
func TestPipelineOnTwoWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server and three processes; skipped with -short")
	}
	port := freeTCPPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	home := t.TempDir()
	startCLI(t, "Ready.", "--home", home, "dev", "--review-listen", "127.0.0.1:0", "--port", fmt.Sprint(port),
		"--queues", "mlmforge", "--ui-port", "-1")
	workers := map[int]*os.Process{}
	for range 2 {
		w, _ := startCLI(t, "Press Ctrl+C", "--home", home, "worker", "--address", addr, "--queues", "generate,train,eval")
		workers[w.Process.Pid] = w.Process
	}
	spec := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(spec, []byte(`name: two-workers
datasets:
  - spec: {task: edgeintent, variant: "50", counts: {train: 500, test: 40}, teacher: builtin, seed: 4}
review: {policy: auto}
models:
  - name: intent
    task: edgeintent
    train: {preset: tiny-intent, steps: 150, checkpoint_every: 10, heartbeat_seconds: 4, seed: 1}
eval: {limit: 20}
promotion: {thresholds: {edgeintent.top1: 0.05}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "--home", home, "pipeline", "run", "--spec", spec, "--address", addr, "--detach")
	if code != 0 {
		t.Fatalf("pipeline run: %d %s %s", code, out, errOut)
	}
	id := strings.TrimSpace(out)
	runDir := waitForCheckpoint(t, home)
	var ran []string
	b, _ := os.ReadFile(filepath.Join(runDir, "workers.json"))
	if json.Unmarshal(b, &ran) != nil || len(ran) == 0 {
		t.Fatalf("workers.json: %s", b)
	}
	pid, _ := strconv.Atoi(strings.SplitN(ran[0], "@", 2)[0])
	victim := workers[pid]
	if victim == nil {
		t.Fatalf("training runs on %s, not one of the workers %v", ran[0], workers)
	}
	if err := victim.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := testContext(t)
	defer cancel()
	c, err := worker.Dial(ctx, worker.DialConfig{Address: addr, Namespace: workflows.DefaultNamespace})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var res workflows.PipelineResult
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Trained) != 1 {
		t.Fatalf("trained %+v", res.Trained)
	}
	tr := res.Trained[0].Train
	if tr.Resumes < 1 || len(tr.Workers) != 2 || tr.Workers[0] == tr.Workers[1] || tr.Steps != 150 {
		t.Fatalf("training %+v: want 150 steps on two workers with a resume", tr)
	}
	versions, _ := filepath.Glob(filepath.Join(home, "datasets", "edgeintent", "v*"))
	if len(versions) != 1 {
		t.Errorf("dataset versions %v: want exactly one", versions)
	}
	if _, err := os.Stat(filepath.Join(res.Eval.ReportDir, "report.md")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(res.Lineage); err != nil {
		t.Error(err)
	}
	if len(res.Promotions) != 1 || !res.Promotions[0].Promoted {
		t.Errorf("promotions %+v", res.Promotions)
	}
}

// waitForCheckpoint waits for the first training checkpoint under home and
// returns its run directory.
func waitForCheckpoint(t *testing.T, home string) string {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for time.Now().Before(deadline) {
		cks, _ := filepath.Glob(filepath.Join(home, "runs", "train-*", "checkpoints", "step-*"))
		if len(cks) > 0 {
			return filepath.Dir(filepath.Dir(cks[0]))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("no training checkpoint within 4 minutes")
	return ""
}
