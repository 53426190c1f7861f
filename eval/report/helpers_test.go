package report

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/eval/runner"
)

// example is a hand-made scored example.
func example(id, task string, correct bool, latency float64, tokens int) eval.ExampleResult {
	ex := eval.ExampleResult{Task: task, Correct: correct, Metrics: map[string]float64{"m": 1}}
	ex.ID, ex.Raw, ex.Cost = id, fmt.Sprintf(`{"answer": %q}`, id), eval.Cost{LatencyMS: latency, PromptTokens: 30, OutputTokens: tokens}
	if !correct {
		ex.ParseError = "unexpected end of JSON input"
		ex.Metrics["m"] = 0
	}
	return ex
}

// examples makes n examples of which the first k are correct, with latencies
// base, base+1, ... ms.
func examples(task string, n, k int, base float64) []eval.ExampleResult {
	out := make([]eval.ExampleResult, n)
	for i := range out {
		out[i] = example(fmt.Sprintf("%s-%03d", task, i), task, i < k, base+float64(i), 10)
	}
	return out
}

// jsonReport is a hand-made EdgeJSON report: exact match k/n.
func jsonReport(n, k int, base float64) *eval.Report {
	ex := examples("edgejson", n, k, base)
	exact := float64(k) / float64(n)
	sc := func(n int, v float64) eval.JSONScores {
		return eval.JSONScores{N: n, JSONExact: v, FieldPrecision: v, FieldRecall: v, FieldF1: (1 + v) / 2, SchemaCompliance: 0.99}
	}
	m := &eval.JSONMetrics{JSONScores: sc(n, exact), ByComplexity: map[string]eval.JSONScores{
		"simple": sc(n/2, 0.9), "medium": sc(n/4, 0.5), "complex": sc(n-n/2-n/4, 0.25)}}
	m.ParseFailures = n - k
	return &eval.Report{N: n, EdgeJSON: m, Examples: ex, Cost: costOf(ex)}
}

// intentReport is a hand-made EdgeIntent report with a 3-class confusion matrix.
func intentReport(top1, top5 float64) *eval.Report {
	conf := &eval.Confusion{Labels: []string{"alarm_set", "alarm_cancel", "weather"},
		Counts: [][]int{{8, 2, 0, 0}, {1, 9, 0, 0}, {0, 0, 9, 1}}}
	ex := examples("edgeintent", 30, 26, 3)
	m := &eval.IntentMetrics{N: 30, Invalid: 1, Top1: top1, Top5: top5, MacroF1: top1 - 0.01,
		PerClass:     map[string]eval.ClassScores{"weather": {Precision: 1, Recall: 0.9, F1: 0.947, Support: 10}},
		MostConfused: conf.MostConfused(10), Confusion: conf}
	return &eval.Report{N: 30, EdgeIntent: m, Examples: ex, Cost: costOf(ex)}
}

// funcReport is a hand-made EdgeFuncCall report.
func funcReport() *eval.Report {
	ex := examples("edgefunccall", 12, 9, 40)
	m := &eval.FuncCallMetrics{N: 12, CallTurns: 15, FunctionExact: 0.9, CallExact: 0.8, ParamF1: 0.85, AST: 0.8,
		ExampleAccuracy: 0.75, TurnAccuracy: 0.8,
		ErrorRecovery:    eval.ErrorRecovery{Overall: eval.Rate{Correct: 3, Total: 4, Rate: 0.75}},
		MultiTurnSuccess: eval.Rate{Correct: 1, Total: 2, Rate: 0.5},
		ByScenario:       map[string]eval.ScenarioScores{"single_turn": {N: 8, Accuracy: 0.875}}}
	return &eval.Report{N: 12, EdgeFuncCall: m, Examples: ex, Cost: costOf(ex)}
}

func costOf(ex []eval.ExampleResult) eval.CostSummary {
	costs := make([]eval.Cost, len(ex))
	for i := range ex {
		costs[i] = ex[i].Cost
	}
	return eval.SummarizeCost(costs, 0)
}

// handMadeResults covers every category, both variants of a student, few-shot
// baselines and a model without a parameter count.
func handMadeResults() []Result {
	slm := runner.ModelInfo{Ref: "ollama:qwen2.5:7b", Kind: "ollama", Params: 7_615_616_512, SizeBytes: 4_683_087_332,
		Digest: "845dbda0ea48", Quantization: "Q4_K_M", Details: map[string]string{"family": "qwen2"}}
	json135 := runner.ModelInfo{Ref: "student:runs/json-135m/final", Kind: "student", Params: 135_000_000,
		SizeBytes: 540_000_000, Digest: "sha256:aa11", Quantization: "F32"}
	intent20 := runner.ModelInfo{Ref: "student:runs/intent-20m/final", Kind: "student", Params: 20_000_000, SizeBytes: 80_000_000}
	nlm := runner.ModelInfo{Ref: "student:runs/intent-nlm/final", Kind: "student", Params: 2_000_000, SizeBytes: 8_000_000}
	mystery := runner.ModelInfo{Ref: "ollama:mystery|model", Kind: "ollama"}
	jsonDS := Dataset{Task: "edgejson", Name: "edgejson", Version: "v2", Split: "test", N: 40}
	intentDS := Dataset{Task: "edgeintent", Name: "assistant-50", Version: "v1", Split: "test", N: 30}
	funcDS := Dataset{Task: "edgefunccall", Name: "edgefunccall", Version: "v1", Split: "test", N: 12}
	return []Result{
		{Model: json135, Dataset: jsonDS, Report: jsonReport(40, 30, 20), Wall: 2 * time.Second, PeakRSSBytes: 812_000_000},
		{Model: json135, Dataset: jsonDS, Variant: Variant{Constrained: true}, Report: jsonReport(40, 34, 25)},
		{Model: slm, Dataset: jsonDS, Report: jsonReport(40, 36, 900)},
		{Model: slm, Dataset: intentDS, Report: intentReport(0.9, 0.98)},
		{Model: slm, Dataset: intentDS, Variant: Variant{Shots: 5}, Report: intentReport(0.95, 1)},
		{Model: intent20, Dataset: intentDS, Report: intentReport(0.8, 0.97)},
		{Model: nlm, Dataset: intentDS, Report: intentReport(0.6, 0.9)},
		{Model: mystery, Dataset: funcDS, Report: funcReport()},
	}
}

// checkPNG decodes a PNG and checks that its size is sane.
func checkPNG(t *testing.T, path string, minW, minH int) image.Config {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if cfg.Width < minW || cfg.Height < minH || cfg.Width > 8000 || cfg.Height > 8000 {
		t.Errorf("%s: %dx%d, want at least %dx%d and at most 8000x8000", path, cfg.Width, cfg.Height, minW, minH)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(f); err != nil {
		t.Errorf("%s: decode: %v", path, err)
	}
	return cfg
}

// mustContain fails for every want missing from text.
func mustContain(t *testing.T, name, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q", name, w)
		}
	}
	if t.Failed() {
		t.Logf("%s:\n%s", name, text)
	}
}

func readText(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
