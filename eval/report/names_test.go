package report

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/eval/runner"
)

// TestStudentNamesRunsAndBFCL: students show by their pipeline model name or
// preset with the run in its own column (two runs of one preset told apart),
// an imported BFCL job leads with BFCL's figure, and a set of irrelevance
// cases reports irrelevance detection rather than an AST accuracy of 0.
func TestStudentNamesRunsAndBFCL(t *testing.T) {
	student := func(run, preset, name string) runner.ModelInfo {
		d := map[string]string{"preset": preset}
		if name != "" {
			d["lineage.model_name"] = name
		}
		return runner.ModelInfo{Ref: "student:/home/u/runs/" + run + "/checkpoints/step-00000400", Kind: "student",
			Params: 5_000_000, SizeBytes: 20_000_000, Details: d}
	}
	ds := Dataset{Task: "edgefunccall", Name: "edgefunccall", Version: "v3", Split: "test", N: 12}
	bfcl := funcReport()
	bfcl.EdgeFuncCall.BFCL = &eval.BFCLMetrics{N: 12, AST: eval.Rate{Correct: 6, Total: 8, Rate: 0.75},
		IrrelevanceDetection: eval.Rate{Correct: 4, Total: 4, Rate: 1},
		ByCategory:           map[string]eval.Rate{"simple_python": {Correct: 6, Total: 8, Rate: 0.75}, "irrelevance": {Correct: 4, Total: 4, Rate: 1}}}
	irrel := funcReport()
	irrel.EdgeFuncCall.CallTurns = 0
	irrel.EdgeFuncCall.BFCL = &eval.BFCLMetrics{N: 4, IrrelevanceDetection: eval.Rate{Correct: 3, Total: 4, Rate: 0.75},
		ByCategory: map[string]eval.Rate{"irrelevance": {Correct: 3, Total: 4, Rate: 0.75}}}
	irrel.MaskFallbacks = 2
	results := []Result{
		{Model: student("train-aaaa", "tiny-funccall", ""), Dataset: ds, Report: bfcl},
		{Model: student("train-bbbb", "tiny-funccall", ""), Dataset: ds, Report: funcReport()},
		{Model: student("train-cccc", "tiny-funccall", "fc-student"), Dataset: Dataset{Task: "edgefunccall", Name: "edgefunccall", Version: "v4", Split: "test", N: 4},
			Variant: Variant{Constrained: true}, Report: irrel},
	}
	f, err := Build(results, Lineage{})
	if err != nil {
		t.Fatal(err)
	}
	md := f.Markdown()
	mustContain(t, MarkdownFile, md,
		"| tiny-funccall (train-aaaa/step-00000400) | train-aaaa/step-00000400 | Nano MLM |",
		"| fc-student | train-cccc/step-00000400 | Nano MLM | 5M | 20.0 | 0-shot constrained |",
		"EdgeFuncCall BFCL AST (%) · edgefunccall@v3/test",
		"EdgeFuncCall irrelevance detection (%) · edgefunccall@v4/test",
		"| tiny-funccall (train-aaaa/step-00000400) | 0-shot | edgefunccall@v3/test | 12 | 75.0 (6/8) | 100.0 (4/4) | — | irrelevance 100.0 (4/4); simple_python 75.0 (6/8) |",
		"| fc-student | 0-shot constrained | edgefunccall@v4/test | 12 | 90.0 | 80.0 | 85.0 | — |")
	for _, j := range f.Jobs {
		switch j.Run {
		case "train-aaaa/step-00000400":
			if j.HeadlineMetric != "bfcl_ast" || j.Headline != 0.75 {
				t.Errorf("BFCL job headline %s %v", j.HeadlineMetric, j.Headline)
			}
		case "train-cccc/step-00000400":
			if j.HeadlineMetric != "irrelevance_detection" || j.Headline != 0.75 || j.MaskFallbacks != 2 {
				t.Errorf("irrelevance job headline %s %v, mask fallbacks %d", j.HeadlineMetric, j.Headline, j.MaskFallbacks)
			}
		}
	}
	mustContain(t, "table", f.Table(), "fc-student  ", "irrelevance detection 75.0", "no-call right")
}

// TestCrowdedPlots: many models of close sizes and scores, long names and
// every task: the plots must still render (look at them with MLMFORGE_PLOTS).
func TestCrowdedPlots(t *testing.T) {
	dir := plotsDir(t, "crowded")
	var results []Result
	jsonDS := Dataset{Task: "edgejson", Name: "edgejson", Version: "v7", Split: "test", N: 40}
	intentDS := Dataset{Task: "edgeintent", Name: "edgeintent", Version: "v4", Split: "test", N: 30}
	funcDS := Dataset{Task: "edgefunccall", Name: "edgefunccall", Version: "v2", Split: "test", N: 12}
	models := []runner.ModelInfo{
		{Ref: "ollama:qwen2.5:0.5b", Kind: "ollama", Params: 494_000_000, SizeBytes: 398_000_000},
		{Ref: "ollama:qwen2.5:1.5b", Kind: "ollama", Params: 1_540_000_000, SizeBytes: 986_000_000},
		{Ref: "ollama:llama3.2:1b-instruct-q8_0", Kind: "ollama", Params: 1_240_000_000, SizeBytes: 1_320_000_000},
		{Ref: "student:/h/runs/train-1/checkpoints/step-00000400", Kind: "student", Params: 5_100_000, SizeBytes: 20_400_000, Details: map[string]string{"preset": "tiny-json"}},
		{Ref: "student:/h/runs/train-2/checkpoints/step-00000800", Kind: "student", Params: 5_300_000, SizeBytes: 21_200_000, Details: map[string]string{"preset": "tiny-json"}},
		{Ref: "student:/h/runs/train-3/checkpoints/step-00001200", Kind: "student", Params: 4_900_000, SizeBytes: 4_900_000, Details: map[string]string{"preset": "nlm-5m-intent"}},
		{Ref: "student:/h/runs/train-4/checkpoints/step-00002000", Kind: "student", Params: 135_000_000, SizeBytes: 540_000_000, Details: map[string]string{"preset": "mlm-135m-json"}},
	}
	for i, m := range models {
		results = append(results,
			Result{Model: m, Dataset: jsonDS, Report: jsonReport(40, 20+i, 20+float64(i*30))},
			Result{Model: m, Dataset: intentDS, Report: intentReport(0.7+float64(i)*0.02, 0.95)},
			Result{Model: m, Dataset: funcDS, Report: funcReport()})
		if m.Kind == "student" {
			results = append(results, Result{Model: m, Dataset: jsonDS, Variant: Variant{Constrained: true}, Report: jsonReport(40, 22+i, 25)})
		}
	}
	f, err := Write(dir, results, testLineage)
	if err != nil {
		t.Fatal(err)
	}
	acc := checkPNG(t, filepath.Join(dir, f.Plots.AccuracyVsSize), 600, 400)
	lat := checkPNG(t, filepath.Join(dir, f.Plots.Latency), 600, 400)
	t.Logf("accuracy %dx%d, latency %dx%d", acc.Width, acc.Height, lat.Width, lat.Height)
}

// TestDetectGitCommit: a test binary carries no VCS stamp, so the commit
// comes from the checkout it runs in, and nothing outside a checkout.
func TestDetectGitCommit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git on PATH")
	}
	t.Chdir("../..")
	got := DetectGitCommit()
	if len(got) < 40 || !strings.HasSuffix(got, " (working tree)") {
		t.Errorf("commit %q, want HEAD's hash marked (working tree)", got)
	}
	t.Chdir(t.TempDir())
	if got := DetectGitCommit(); got != "" {
		t.Errorf("outside a checkout: %q", got)
	}
}
