package report

import (
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
