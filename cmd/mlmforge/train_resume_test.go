package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/worker"
	"github.com/cyclecore/mlmforge/workflows"
)

// TestTrainingSurvivesAKilledWorker runs the Train workflow on a dev server
// with the training queue served by a separate worker process, kills that
// worker with SIGKILL once a checkpoint exists, starts another worker, and
// checks that the run finished on the second worker after resuming from the
// checkpoint, with a continuous loss curve (every step once).
func TestTrainingSurvivesAKilledWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server and three processes; skipped with -short")
	}
	port := freeTCPPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	home := t.TempDir()
	startCLI(t, "Ready.", "--home", home, "dev", "--review-listen", "127.0.0.1:0", "--port", fmt.Sprint(port),
		"--queues", "mlmforge,generate", "--ui-port", "-1")
	if out, errOut, code := runCLI(t, "--home", home, "generate", "--address", addr, "--task", "edgeintent",
		"--train", "400", "--test", "50", "--review", "auto", "--seed", "9"); code != 0 {
		t.Fatalf("generate: %d %s %s", code, out, errOut)
	}
	first, _ := startCLI(t, "Press Ctrl+C", "--home", home, "worker", "--address", addr, "--queues", "train")
	out, errOut, code := runCLI(t, "--home", home, "train", "--address", addr, "--detach", "--preset", "tiny-intent",
		"--dataset", "edgeintent@latest", "--steps", "150", "--checkpoint-every", "10", "--heartbeat-timeout", "4")
	if code != 0 {
		t.Fatalf("train --detach: %d %s %s", code, out, errOut)
	}
	id := strings.TrimSpace(out)
	runDir := filepath.Join(home, "runs", id)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		cks, _ := filepath.Glob(filepath.Join(runDir, "checkpoints", "step-*"))
		if len(cks) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint within 3 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	startCLI(t, "Press Ctrl+C", "--home", home, "worker", "--address", addr, "--queues", "train")

	ctx, cancel := testContext(t)
	defer cancel()
	c, err := worker.Dial(ctx, worker.DialConfig{Address: addr, Namespace: workflows.DefaultNamespace})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var res workflows.TrainResult
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Resumes < 1 || len(res.Workers) != 2 || res.Workers[0] == res.Workers[1] || res.Steps != 150 {
		t.Fatalf("result %+v: want 150 steps on two workers with a resume", res)
	}
	var m struct {
		Steps []struct {
			Step int     `json:"step"`
			Loss float64 `json:"loss"`
		} `json:"steps"`
	}
	b, err := os.ReadFile(res.Metrics)
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("metrics %s: %v", res.Metrics, err)
	}
	if len(m.Steps) != 150 {
		t.Fatalf("metrics hold %d steps, want 150", len(m.Steps))
	}
	for i, s := range m.Steps {
		if s.Step != i+1 {
			t.Fatalf("metrics step %d is %d: the curve has a gap or a repeat", i+1, s.Step)
		}
	}
	if last, firstLoss := m.Steps[149].Loss, m.Steps[0].Loss; !(last < firstLoss/2) {
		t.Errorf("loss %.3f -> %.3f did not fall across the resume", firstLoss, last)
	}
}
