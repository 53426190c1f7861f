package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/generator/ollamatest"
)

// TestGenerateFlagsFailFast: flags that can only fail later (a version name
// that escapes the store, a batch size or a parallelism below 1 or above the
// limits) fail before anything starts, naming the flag. No server is running:
// reaching the workflow would fail differently.
func TestGenerateFlagsFailFast(t *testing.T) {
	base := []string{"generate", "--task", "edgeintent", "--test", "5", "--teacher", "builtin", "--review", "auto"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--version", "../../etc"}, `--version: invalid version name "../../etc"`},
		{[]string{"--version", "latest"}, `--version: invalid version name "latest"`},
		{[]string{"--parallel", "-3"}, "--parallel -3: want 1 to 256"},
		{[]string{"--parallel", "0"}, "--parallel 0: want 1 to 256"},
		{[]string{"--parallel", "1000"}, "--parallel 1000: want 1 to 256"},
		{[]string{"--batch-size", "0"}, "--batch-size 0: want 1 to 10000"},
		{[]string{"--batch-size", "-1"}, "--batch-size -1: want 1 to 10000"},
		{[]string{"--train", "1000000000"}, "--train 1000000000 and --test 5: at most 1000000 examples per dataset"},
		{[]string{"--train", "999996"}, "--train 999996 and --test 5: at most 1000000 examples per dataset"},
	} {
		start := time.Now()
		_, _, err := runCmd(t, t.TempDir(), append(append([]string{}, base...), tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to contain %q", tc.args, err, tc.want)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%v: took %v to fail", tc.args, d)
		}
	}
}

// TestCheckTeacherProbe: an Ollama teacher is probed once before generation:
// no server fails in seconds naming the OLLAMA_HOST tried; a server without
// the model fails naming the model; a server with it passes.
func TestCheckTeacherProbe(t *testing.T) {
	dead := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t)) // nothing listens there: connection refused
	t.Setenv("OLLAMA_HOST", dead)
	start := time.Now()
	err := checkTeacher(context.Background(), "ollama:qwen2.5:7b", false)
	if err == nil || !strings.Contains(err.Error(), "OLLAMA_HOST="+"http://"+dead) {
		t.Errorf("no Ollama: error %v, want it to name OLLAMA_HOST=http://%s", err, dead)
	}
	if d := time.Since(start); d > 6*time.Second {
		t.Errorf("no Ollama: took %v to fail", d)
	}
	if strings.Count(err.Error(), "connection refused") > 1 {
		t.Errorf("error chain repeated: %v", err)
	}

	srv := ollamatest.New(t, ollamatest.WithModel("qwen2.5:7b", ollamatest.DefaultDigest, ollamatest.DefaultQuantization))
	t.Setenv("OLLAMA_HOST", srv.URL)
	if err := checkTeacher(context.Background(), "ollama:qwen2.5:7b", false); err != nil {
		t.Errorf("model present: %v", err)
	}
	err = checkTeacher(context.Background(), "ollama:llama9:1b", false)
	if err == nil || !strings.Contains(err.Error(), "llama9:1b") || !strings.Contains(err.Error(), srv.URL) {
		t.Errorf("model absent: error %v, want it to name the model and %s", err, srv.URL)
	}
	// With --address the workers may use another Ollama: no error here.
	if err := checkTeacher(context.Background(), "ollama:llama9:1b", true); err != nil {
		t.Errorf("remote: %v", err)
	}
}
