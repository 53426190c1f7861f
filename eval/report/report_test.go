package report

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var testLineage = Lineage{GeneratedAt: time.Date(2026, 5, 1, 14, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
	GitCommit: "abc123", Machine: Machine{CPUModel: "AMD EPYC 9B14", Cores: 2, OS: "linux", Arch: "amd64", GoVersion: "go1.26.8"}}

// plotsDir is where a test writes a report: $MLMFORGE_PLOTS/<name> when set
// (to look at the PNGs), else a temp dir.
func plotsDir(t *testing.T, name string) string {
	t.Helper()
	root := os.Getenv("MLMFORGE_PLOTS")
	if root == "" {
		return t.TempDir()
	}
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestWriteHandMade(t *testing.T) {
	dir := plotsDir(t, "handmade")
	results := handMadeResults()
	f, err := Write(dir, results, testLineage)
	if err != nil {
		t.Fatal(err)
	}
	md := readText(t, dir, MarkdownFile)
	mustContain(t, MarkdownFile, md,
		// Table 1: category from size, params, MB, headline per task; "—" where a model has no result.
		"| student:runs/intent-nlm/final | runs/intent-nlm/final | NLM | 2M | 8.00 | 0-shot | — | 60.0 | — |",
		"| student:runs/intent-20m/final | runs/intent-20m/final | Nano MLM | 20M | 80.0 | 0-shot | — | 80.0 | — |",
		"| student:runs/json-135m/final | runs/json-135m/final | Compact MLM | 135M | 540.0 | 0-shot | 75.0 | — | — |",
		"| student:runs/json-135m/final | runs/json-135m/final | Compact MLM | 135M | 540.0 | 0-shot constrained | 85.0 | — | — |",
		"| ollama:qwen2.5:7b | — | SLM | 7.62B | 4683 | 0-shot | 90.0 | 90.0 | — |",
		"| ollama:qwen2.5:7b | — | SLM | 7.62B | 4683 | 5-shot | — | 95.0 | — |",
		`| ollama:mystery\|model | — | unknown | — | — | 0-shot | — | — | 75.0 |`,
		// Table 2: overall with latency (nearest-rank p50/p95 of 20..59 ms), then each level.
		"| student:runs/json-135m/final | 0-shot | edgejson@v2/test | overall | 40 | 75.0 | 87.5 | 99.0 | 10 | 39.0 | 57.0 |",
		"| student:runs/json-135m/final | 0-shot | edgejson@v2/test | complex | 10 | 25.0 | 62.5 | 99.0 | 0 | — | — |",
		// Table 3: top-1, top-5, macro-F1, invalid, inferences/s, p50, confused pairs.
		"| ollama:qwen2.5:7b | 5-shot | assistant-50@v1/test | 30 | 95.0 | 100.0 | 94.0 | 1 | 57.1 | 17.0 | alarm_set → alarm_cancel (2); alarm_cancel → alarm_set (1); weather → (invalid) (1) |",
		// Table 4.
		`| ollama:mystery\|model | 0-shot | edgefunccall@v1/test | 12 | 90.0 | 80.0 | 85.0 | 80.0 | 75.0 (3/4) | 50.0 (1/2) | 75.0 | 45.0 |`,
		// Cross-platform: 40 examples in a measured 2 s wall; 1580 ms over 400 tokens.
		"| AMD EPYC 9B14 (2 cores, linux/amd64) | student:runs/json-135m/final | EdgeJSON | 0-shot | 3.95 | 253.2 | 20.0 | 39.0 | 57.0 | 812.0 |",
		// Constrained vs unconstrained, side by side.
		"| student:runs/json-135m/final | EdgeJSON | edgejson@v2/test | 0 | JSON exact | 75.0 | 85.0 | +10.0 | 25.0 | 15.0 | 0 of 40 | 39.0 | 44.0 |",
		"- Pareto front, EdgeJSON: student:runs/json-135m/final (0-shot constrained, edgejson@v2/test); ollama:qwen2.5:7b (0-shot, edgejson@v2/test)",
		"- Pareto front, EdgeIntent: student:runs/intent-nlm/final (0-shot, assistant-50@v1/test); student:runs/intent-20m/final (0-shot, assistant-50@v1/test); ollama:qwen2.5:7b (5-shot, assistant-50@v1/test)",
		"- Not on the size plot (parameter count unknown): ollama:mystery|model",
		"![Headline metric vs parameters](accuracy_vs_size.png)", "![p50/p95 latency per job](latency.png)",
		"(confusion/ollama-qwen2.5-7b__edgeintent__assistant-50@v1-test__5shot.png)",
		// Lineage, in UTC.
		"- Generated: 2026-05-01T12:00:00Z", "- Git commit: abc123", "- Machine: AMD EPYC 9B14 (2 cores, linux/amd64); Go go1.26.8",
		"| EdgeIntent | assistant-50 | v1 | test | — | 30 | — |",
		"| ollama:qwen2.5:7b | — | ollama | SLM | 7.62B | 4683 | Q4_K_M | 845dbda0ea48 | family=qwen2 |",
		"| student:runs/json-135m/final | runs/json-135m/final | sha256:aa11 | — |",
	)
	var at []int
	for _, h := range []string{"## Table 1", "## Table 2", "## Table 3", "## Table 4", "## Cross-platform", "## Constrained", "## Figures", "## Lineage"} {
		at = append(at, strings.Index(md, h))
	}
	if !slices.IsSorted(at) || at[0] < 0 {
		t.Errorf("sections missing or out of order: %v", at)
	}
	if results[3].Report.EdgeIntent.Confusion == nil {
		t.Error("Write took the caller's confusion matrix away")
	}
	checkResultsJSON(t, dir, f)
	checkPredictionFiles(t, dir, f, results)
	acc := checkPNG(t, filepath.Join(dir, AccuracyPlotFile), 600, 400)
	lat := checkPNG(t, filepath.Join(dir, LatencyPlotFile), 600, 300)
	t.Logf("accuracy plot %dx%d, latency plot %dx%d", acc.Width, acc.Height, lat.Width, lat.Height)
	for _, j := range f.Jobs {
		if j.Dataset.Task != "edgeintent" {
			if j.Files.ConfusionPNG != "" {
				t.Errorf("job %s: confusion file for task %s", j.Key, j.Dataset.Task)
			}
			continue
		}
		checkPNG(t, filepath.Join(dir, j.Files.ConfusionPNG), 150, 150)
		checkConfusionCSV(t, filepath.Join(dir, j.Files.ConfusionCSV), 3)
	}
}

// checkResultsJSON checks that results.json reads back as what Write
// returned, with the documented field names.
func checkResultsJSON(t *testing.T, dir string, want *File) {
	t.Helper()
	got, err := ReadResults(filepath.Join(dir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(want)
		t.Fatalf("results.json does not round-trip:\n got %s\nwant %s", a, b)
	}
	var raw struct {
		FormatVersion int                          `json:"format_version"`
		Jobs          []map[string]json.RawMessage `json:"jobs"`
		Pareto        map[string][]string          `json:"pareto"`
		Plots         map[string]string            `json:"plots"`
		Lineage       map[string]json.RawMessage   `json:"lineage"`
	}
	if err := json.Unmarshal([]byte(readText(t, dir, ResultsFile)), &raw); err != nil {
		t.Fatal(err)
	}
	if raw.FormatVersion != FormatVersion || len(raw.Jobs) != len(want.Jobs) || raw.Plots["latency"] != LatencyPlotFile {
		t.Errorf("results.json: version %d, %d jobs, plots %v", raw.FormatVersion, len(raw.Jobs), raw.Plots)
	}
	for _, j := range raw.Jobs {
		for _, k := range []string{"key", "model", "category", "dataset", "variant", "variant_label", "headline_metric",
			"headline", "n", "cost", "files"} {
			if _, ok := j[k]; !ok {
				t.Errorf("results.json job lacks %q", k)
			}
		}
	}
	if _, ok := raw.Lineage["machine"]; !ok {
		t.Error("results.json lacks lineage.machine")
	}
	for _, j := range want.Jobs {
		if j.Dataset.Task == "edgeintent" && (j.Confusion == nil || j.EdgeIntent.Confusion != nil) {
			t.Errorf("job %s: confusion matrix not moved to the job", j.Key)
		}
	}
}

// checkPredictionFiles checks every job's predictions file against its examples.
func checkPredictionFiles(t *testing.T, dir string, f *File, results []Result) {
	t.Helper()
	for _, j := range f.Jobs {
		src := sourceOf(results, &j)
		rows, err := ReadPredictions(filepath.Join(dir, j.Files.Predictions))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(src.Report.Examples) {
			t.Fatalf("%s: %d rows, want %d", j.Files.Predictions, len(rows), len(src.Report.Examples))
		}
		for i, r := range rows {
			ex := src.Report.Examples[i]
			want := PredictionRow{ID: ex.ID, Job: j.Key, Model: j.Model.Ref, Task: j.Dataset.Task, Dataset: j.Dataset.Label(),
				Variant: j.VariantLabel, Raw: ex.Raw, ParseError: ex.ParseError, Correct: ex.Correct,
				Metrics: r.Metrics, LatencyMS: ex.Cost.LatencyMS, PromptTokens: 30, OutputTokens: 10}
			if r != want {
				t.Fatalf("%s row %d:\n got %+v\nwant %+v", j.Files.Predictions, i, r, want)
			}
			var m map[string]float64
			if err := json.Unmarshal([]byte(r.Metrics), &m); err != nil || !reflect.DeepEqual(m, ex.Metrics) {
				t.Fatalf("%s row %d: metrics %q (%v), want %v", j.Files.Predictions, i, r.Metrics, err, ex.Metrics)
			}
		}
	}
}

// sourceOf returns the result a job was built from.
func sourceOf(results []Result, j *Job) *Result {
	for i := range results {
		r := &results[i]
		if r.Model.Ref == j.Model.Ref && reflect.DeepEqual(r.Dataset, j.Dataset) && r.Variant == j.Variant {
			return r
		}
	}
	panic("no result for job " + j.Key)
}

func checkConfusionCSV(t *testing.T, path string, classes int) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != classes+1 || len(recs[0]) != classes+2 || recs[0][0] != `gold\pred` {
		t.Errorf("%s: %d rows, header %v", path, len(recs), recs[0])
	}
}

// TestWriteDeterministic checks that the input order does not change the
// report: the same results give byte-identical report.md and results.json.
func TestWriteDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	results := handMadeResults()
	if _, err := Write(a, results, testLineage); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(results)
	if _, err := Write(b, results, testLineage); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{MarkdownFile, ResultsFile} {
		if readText(t, a, name) != readText(t, b, name) {
			t.Errorf("%s depends on the order of the results", name)
		}
	}
}

// TestWriteReplaces checks that writing again into the same directory
// replaces the files and leaves no temporary file behind.
func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	results := handMadeResults()
	for range 2 {
		if _, err := Write(dir, results, testLineage); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
