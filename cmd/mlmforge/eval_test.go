package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"

	"github.com/cyclecore/mlmforge/generator/ollamatest"
)

// TestTrainAndEvalEndToEnd: generate a small EdgeIntent dataset, train a tiny
// student briefly, then evaluate it together with an Ollama baseline (the
// httptest Ollama fake, answering each utterance's intent for most of them)
// on the embedded server, and check the one report: tables, results.json,
// predictions and plots.
func TestTrainAndEvalEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server three times; skipped with -short")
	}
	home := t.TempDir()
	out, errOut, code := runCLI(t, "--home", home, "generate", "--task", "edgeintent", "--classes", "50",
		"--train", "600", "--test", "100", "--review", "auto", "--seed", "5")
	if code != 0 {
		t.Fatalf("generate: %d %s %s", code, out, errOut)
	}
	if !strings.Contains(out, "Test split: standard (") {
		t.Errorf("generate does not say which kind of test split it made:\n%s", out)
	}
	out, errOut, code = runCLI(t, "--home", home, "train", "--preset", "tiny-intent", "--dataset", "edgeintent@latest",
		"--steps", "40", "--checkpoint-every", "20")
	if code != 0 {
		t.Fatalf("train: %d %s %s", code, out, errOut)
	}
	m := regexp.MustCompile(`Checkpoint: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("train output has no checkpoint: %s", out)
	}
	ckpt := m[1]
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json", "optimizer.safetensors"} {
		if _, err := os.Stat(filepath.Join(ckpt, f)); err != nil {
			t.Error(err)
		}
	}
	// The baseline answers the gold intent for utterances it "knows": every
	// utterance containing an 'e'; the others get a wrong label.
	srv := ollamatest.New(t, ollamatest.WithModel("qwen2.5:0.5b", "sha256:1234", "Q4_K_M"),
		ollamatest.WithResponder(func(req api.ChatRequest) string {
			user := req.Messages[len(req.Messages)-1].Content
			if strings.Contains(user, "e") {
				return "weather_current"
			}
			return "nonsense_label"
		}))
	t.Setenv("OLLAMA_HOST", srv.URL)
	out, errOut, code = runCLI(t, "--home", home, "eval", "--models", "ollama:qwen2.5:0.5b,student:"+ckpt,
		"--tasks", "edgeintent", "--limit", "60", "--shard-size", "25")
	if code != 0 {
		t.Fatalf("eval: %d %s %s", code, out, errOut)
	}
	rm := regexp.MustCompile(`Report: (\S+)/report.md`).FindStringSubmatch(out)
	if rm == nil {
		t.Fatalf("eval output has no report: %s", out)
	}
	dir := rm[1]
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"qwen2.5:0.5b", "student", "EdgeIntent", "NLM", "Test splits: standard (edgeintent@v1/test)",
		"| EdgeIntent | edgeintent | v1 | test | standard | 60 | assistant-50 |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	var results struct {
		Jobs []json.RawMessage `json:"jobs"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil || json.Unmarshal(b, &results) != nil || len(results.Jobs) != 2 {
		t.Fatalf("results.json: %d jobs, %v", len(results.Jobs), err)
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	if len(pngs) == 0 {
		pngs, _ = filepath.Glob(filepath.Join(dir, "*", "*.png"))
	}
	if len(pngs) < 2 {
		t.Fatalf("plots: %v", pngs)
	}
	for _, p := range pngs {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(f); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		f.Close()
	}
	preds, _ := filepath.Glob(filepath.Join(dir, "predictions", "*.parquet"))
	if len(preds) != 2 {
		t.Errorf("predictions: %v", preds)
	}
	// Evaluating again reuses every shard.
	out, errOut, code = runCLI(t, "--home", home, "eval", "--models", "ollama:qwen2.5:0.5b,student:"+ckpt,
		"--tasks", "edgeintent", "--limit", "60", "--shard-size", "25")
	if code != 0 || !strings.Contains(out, "6 of 6 shards reused") {
		t.Errorf("second eval: %d %s %s%s", code, out, errOut, serverLog(home))
	}
}
