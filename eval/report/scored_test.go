package report

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/eval/runner"
	"github.com/cyclecore/mlmforge/internal/testutil"
	"github.com/cyclecore/mlmforge/internal/testutil/records"
	"github.com/cyclecore/mlmforge/schemas"
)

// answer predicts every record with its gold target, except every fifth,
// which gets garbage, and every seventh, which gets no prediction.
func answer(recs []datasets.Record) (preds []eval.Prediction, garbage, missing int) {
	for i, r := range recs {
		switch {
		case i%7 == 6:
			missing++
			continue
		case i%5 == 4:
			garbage++
			preds = append(preds, eval.Prediction{ID: r.ID, Raw: `{"truncated": `, Truncated: true,
				Cost: eval.Cost{LatencyMS: 80, PromptTokens: 50, OutputTokens: 64}})
			continue
		}
		preds = append(preds, eval.Prediction{ID: r.ID, Raw: r.Target,
			Cost: eval.Cost{LatencyMS: float64(10 + i%9), PromptTokens: 50, OutputTokens: 20}})
	}
	return preds, garbage, missing
}

// TestScoredReport builds a report from real scoring of builtin-generated
// records of every task and checks the tables and the predictions files
// against the scorer's numbers.
func TestScoredReport(t *testing.T) {
	scorer, err := eval.NewScorer(testutil.Catalog(t))
	if err != nil {
		t.Fatal(err)
	}
	model := runner.ModelInfo{Ref: "student:runs/multi-60m/final", Kind: "student", Params: 60_000_000, SizeBytes: 240_000_000}
	var results []Result
	type counts struct{ garbage, missing int }
	want := map[string]counts{}
	for _, c := range []struct {
		task    schemas.Task
		variant string
		n       int
	}{{schemas.EdgeJSON, "", 30}, {schemas.EdgeIntent, "50", 100}, {schemas.EdgeFuncCall, "20", 40}} {
		recs := records.Builtin(t, c.task, c.variant, c.n)
		preds, garbage, missing := answer(recs)
		rep, err := scorer.Score(recs, preds)
		if err != nil {
			t.Fatal(err)
		}
		want[string(c.task)] = counts{garbage, missing}
		results = append(results, Result{Model: model, Report: rep, Wall: 500 * time.Millisecond,
			Dataset: Dataset{Task: string(c.task), Name: c.variant, Version: "v1", Split: "test", N: len(recs)}})
	}
	dir := t.TempDir()
	f, err := Write(dir, results, testLineage)
	if err != nil {
		t.Fatal(err)
	}
	md := readText(t, dir, MarkdownFile)
	for _, j := range f.Jobs {
		rep := results[taskOrder(j.Dataset.Task)].Report
		var row string
		switch j.Dataset.Task {
		case "edgejson":
			m := rep.EdgeJSON
			row = fmt.Sprintf("| %s | 0-shot | %s | overall | %d | %s | %s | %s | %d |", model.Ref, j.Dataset.Label(), m.N,
				pct(m.JSONExact), pct(m.FieldF1), pct(m.SchemaCompliance), m.ParseFailures)
		case "edgeintent":
			m := rep.EdgeIntent
			row = fmt.Sprintf("| %s | 0-shot | %s | %d | %s | %s | %s | %d |", model.Ref, j.Dataset.Label(), m.N,
				pct(m.Top1), pct(m.Top5), pct(m.MacroF1), m.Invalid)
			checkPNG(t, filepath.Join(dir, j.Files.ConfusionPNG), 600, 600) // 50 labelled classes
			checkConfusionCSV(t, filepath.Join(dir, j.Files.ConfusionCSV), 50)
		case "edgefunccall":
			m := rep.EdgeFuncCall
			row = fmt.Sprintf("| %s | 0-shot | %s | %d | %s | %s | %s | %s |", model.Ref, j.Dataset.Label(), m.N,
				pct(m.FunctionExact), pct(m.CallExact), pct(m.ParamF1), pct(m.AST))
		}
		mustContain(t, MarkdownFile, md, row)
		checkScoredPredictions(t, dir, j, rep, want[j.Dataset.Task])
	}
	mustContain(t, MarkdownFile, md, "| student:runs/multi-60m/final | runs/multi-60m/final | Micro MLM | 60M | 240.0 | 0-shot |")
	if got, err := ReadResults(filepath.Join(dir, ResultsFile)); err != nil || len(got.Jobs) != 3 {
		t.Fatalf("results.json: %v", err)
	}
}

// checkScoredPredictions checks a job's predictions file against the report:
// one row per record, the verdicts summing to the headline, failures kept raw.
func checkScoredPredictions(t *testing.T, dir string, j Job, rep *eval.Report, want struct{ garbage, missing int }) {
	t.Helper()
	rows, err := ReadPredictions(filepath.Join(dir, j.Files.Predictions))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != rep.N {
		t.Fatalf("%s: %d rows, want %d", j.Key, len(rows), rep.N)
	}
	correct, failed, missing := 0, 0, 0
	for i, r := range rows {
		if r.ID != rep.Examples[i].ID || r.Raw != rep.Examples[i].Raw {
			t.Fatalf("%s row %d: id %q raw %q, want %q %q", j.Key, i, r.ID, r.Raw, rep.Examples[i].ID, rep.Examples[i].Raw)
		}
		if r.Correct {
			correct++
			if r.Parsed == "" || r.Metrics == "" {
				t.Errorf("%s row %d: correct without parsed form or metrics", j.Key, i)
			}
		}
		if r.Raw == `{"truncated": ` && r.ParseError != "" && r.Truncated {
			failed++
		}
		if r.Missing {
			missing++
		}
	}
	if got := float64(correct) / float64(len(rows)); got != j.Headline {
		t.Errorf("%s: %d correct rows of %d, headline %v", j.Key, correct, len(rows), j.Headline)
	}
	if failed != want.garbage || missing != want.missing || j.MissingPredictions != want.missing {
		t.Errorf("%s: %d failed, %d missing rows, want %d and %d", j.Key, failed, missing, want.garbage, want.missing)
	}
	if j.Cost.WallSeconds != 0.5 || j.Cost.N != rep.N-want.missing {
		t.Errorf("%s: cost %+v", j.Key, j.Cost)
	}
}
