package report

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/eval/runner"
)

func TestParetoFront(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		pts  []Point
		want []int
	}{
		{"empty", nil, nil},
		{"single", []Point{{10, 0.5}}, []int{0}},
		{"bigger and worse is dominated", []Point{{10, 0.5}, {20, 0.4}}, []int{0}},
		{"each bigger one better", []Point{{10, 0.5}, {20, 0.6}, {40, 0.7}}, []int{0, 1, 2}},
		{"same size: the better wins", []Point{{10, 0.5}, {10, 0.6}}, []int{1}},
		{"same score: the smaller wins", []Point{{10, 0.5}, {20, 0.5}}, []int{0}},
		{"identical points both kept", []Point{{10, 0.5}, {10, 0.5}}, []int{0, 1}},
		{"ordered by size", []Point{{40, 0.9}, {10, 0.5}, {20, 0.3}}, []int{1, 0}},
		{"unknown size and NaN take no part", []Point{{0, 1}, {10, 0.5}, {nan, 0.9}, {20, nan}, {-5, 1}}, []int{1}},
		{"seed-paper-like set", []Point{
			{7.6e9, 0.93}, // SLM, best
			{1.5e9, 0.85}, // SLM, dominated by the 135M student
			{135e6, 0.88}, // Compact MLM
			{60e6, 0.81},  // Micro MLM
			{60e6, 0.79},  // Micro MLM, worse twin
			{20e6, 0.62},  // Nano MLM
			{3e6, 0.40},   // NLM
			{250e6, 0.87}, // dominated by the 135M one
		}, []int{6, 5, 3, 2, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParetoFront(tt.pts); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParetoFront = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestNoParams checks that models without a parameter count render: "—" and
// the "unknown" category in the tables, no size plot, no Pareto front.
func TestNoParams(t *testing.T) {
	dir := t.TempDir()
	results := []Result{
		{Model: runner.ModelInfo{Ref: "ollama:mystery", Kind: "ollama"}, Report: funcReport(),
			Dataset: Dataset{Task: "edgefunccall", Name: "edgefunccall", Version: "v1", Split: "test", N: 12}},
		{Model: runner.ModelInfo{Ref: "student:tiny", Kind: "student", SizeBytes: 3_000_000}, Report: intentReport(0.5, 0.7),
			Dataset: Dataset{Task: "EdgeIntent", N: 30}},
	}
	f, err := Write(dir, results, Lineage{})
	if err != nil {
		t.Fatal(err)
	}
	md := readText(t, dir, MarkdownFile)
	mustContain(t, MarkdownFile, md,
		"| ollama:mystery | — | unknown | — | — | 0-shot | — | 75.0 |",
		"| student:tiny | tiny | NLM | — | 3.00 | 0-shot | 50.0 | — |", // NLM by its size on disk alone
		"- Accuracy vs size not drawn: no model has a known parameter count.",
		"| unknown CPU | ollama:mystery | EdgeFuncCall |",
		"- Git commit: —")
	if f.Plots.AccuracyVsSize != "" || len(f.Pareto) != 0 {
		t.Errorf("plots %+v, pareto %v for models without parameters", f.Plots, f.Pareto)
	}
	if _, err := os.Stat(filepath.Join(dir, AccuracyPlotFile)); !os.IsNotExist(err) {
		t.Errorf("accuracy plot written without sizes: %v", err)
	}
	checkPNG(t, filepath.Join(dir, LatencyPlotFile), 400, 300)
	mustContain(t, "table", f.Table(), "ollama:mystery  —     unknown", "student:tiny    tiny  NLM")
	if f.Jobs[0].Dataset.Task != "edgeintent" {
		t.Errorf("task name not normalized: %q", f.Jobs[0].Dataset.Task)
	}
}

func TestWriteEmpty(t *testing.T) {
	dir := t.TempDir()
	f, err := Write(dir, nil, Lineage{})
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, MarkdownFile, readText(t, dir, MarkdownFile), "No results.", "Latency not drawn")
	if got, err := ReadResults(filepath.Join(dir, ResultsFile)); err != nil || !reflect.DeepEqual(got, f) {
		t.Errorf("empty results.json: %+v, %v", got, err)
	}
}

func TestTable(t *testing.T) {
	out := Table(handMadeResults())
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 9 {
		t.Fatalf("%d lines, want a header and 8 rows:\n%s", len(lines), out)
	}
	col := strings.Index(lines[0], "HEADLINE")
	for _, l := range lines[1:] {
		if r := []rune(l); len(r) <= col || !strings.HasPrefix(string(r[col:]), headlineTitleOf(l)) {
			t.Errorf("HEADLINE column not aligned at %d in %q", col, l)
		}
	}
	mustContain(t, "table", out,
		"student:runs/json-135m/final   runs/json-135m/final   Compact MLM  EdgeJSON      edgejson@v2/test      0-shot constrained  40  JSON exact 85.0",
		"field-F1 92.5  schema 99.0", "top-5 100.0  macro-F1 94.0", "fn 90.0  param-F1 85.0  AST 80.0", "919.0   937.0")
	if got := Table([]Result{{Model: runner.ModelInfo{Ref: "x"}, Dataset: Dataset{Task: "edgejson"}}}); !strings.HasPrefix(got, "error: ") {
		t.Errorf("Table of a result without a report = %q", got)
	}
}

// headlineTitleOf returns the headline title a table line should show.
func headlineTitleOf(line string) string {
	for _, task := range []string{"EdgeJSON", "EdgeIntent", "EdgeFuncCall"} {
		if strings.Contains(line, " "+task+" ") {
			return headlineTitle(strings.ToLower(task))
		}
	}
	return "?"
}

func TestBuildErrors(t *testing.T) {
	ok := handMadeResults()[0]
	tests := []struct {
		name string
		edit func(r *Result)
		want string
	}{
		{"no report", func(r *Result) { r.Report = nil }, "field report: missing"},
		{"unknown task", func(r *Result) { r.Dataset.Task = "edgefoo" }, "field dataset.task"},
		{"no metrics of the task", func(r *Result) { r.Report = &eval.Report{N: 1} }, "field report.edgejson"},
		{"intent without metrics", func(r *Result) { r.Dataset.Task = "edgeintent" }, "field report.edgeintent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.edit(&r)
			_, err := Build([]Result{r}, Lineage{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "result 0 (") {
				t.Errorf("err = %v, want one naming result 0 and %q", err, tt.want)
			}
		})
	}
	if _, err := Build([]Result{ok, ok}, Lineage{}); err == nil || !strings.Contains(err.Error(), "same model") {
		t.Errorf("duplicate results: err = %v", err)
	}
}

func TestKeys(t *testing.T) {
	base := handMadeResults()[0]
	mk := func(ref string, v Variant) Result { r := base; r.Model.Ref, r.Variant = ref, v; return r }
	results := []Result{
		mk("ollama:a/b", Variant{}), mk("ollama:a:b", Variant{}), // collide after sanitizing
		mk("student:../../etc/passwd", Variant{Shots: 5, Constrained: true}),
		mk("ollama:"+strings.Repeat("x", 300), Variant{}),
	}
	f, err := Build(results, Lineage{})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, j := range f.Jobs {
		if keys[j.Key] || len(j.Key) > maxKeyLen || sanitize(j.Key) != j.Key || strings.HasPrefix(j.Key, ".") {
			t.Errorf("bad or duplicate key %q", j.Key)
		}
		keys[j.Key] = true
	}
	if !keys["student-..-..-etc-passwd__edgejson__edgejson@v2-test__5shot-constrained"] {
		t.Errorf("keys %v lack the readable student key", keys)
	}
	for k := range keys {
		if strings.HasPrefix(k, "ollama-a-b__") && len(k) != len("ollama-a-b__edgejson__edgejson@v2-test__0shot")+9 {
			t.Errorf("colliding key %q has no hash suffix", k)
		}
	}
	again, err := Build([]Result{results[1], results[3], results[0], results[2]}, Lineage{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.Jobs {
		if f.Jobs[i].Key != again.Jobs[i].Key {
			t.Errorf("key %q became %q when the input order changed", f.Jobs[i].Key, again.Jobs[i].Key)
		}
	}
}

func TestParseCPUModel(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"x86", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 17\nmodel name\t: AMD EPYC  9B14 96-Core Processor\n" +
			"processor\t: 1\nmodel name\t: AMD EPYC 9B14 96-Core Processor\n", "AMD EPYC 9B14 96-Core Processor"},
		{"raspberry pi", "processor\t: 0\nBogoMIPS\t: 108.00\nCPU part\t: 0xd08\n\nHardware\t: BCM2835\n" +
			"Model\t\t: Raspberry Pi 4 Model B Rev 1.4\n", "Raspberry Pi 4 Model B Rev 1.4"},
		{"arm board with hardware only", "processor : 0\nHardware : Qualcomm SM8250\n", "Qualcomm SM8250"},
		{"nothing", "processor : 0\nflags : fpu vme\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCPUModel(strings.NewReader(tt.text))
			if err != nil || got != tt.want {
				t.Errorf("ParseCPUModel = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	m, err := DetectMachine()
	if err != nil || m.Cores != runtime.NumCPU() || m.GoVersion != runtime.Version() || m.OS != runtime.GOOS {
		t.Errorf("DetectMachine = %+v, %v", m, err)
	}
	if _, err := os.Stat("/proc/cpuinfo"); err == nil && runtime.GOARCH == "amd64" && m.CPUModel == "" {
		t.Errorf("no CPU model read from /proc/cpuinfo")
	}
}

func TestFormat(t *testing.T) {
	params := map[int64]string{0: "—", -1: "—", 950: "950", 2_000_000: "2M", 20_000_000: "20M", 60_123_456: "60.1M",
		135_000_000: "135M", 494_032_768: "494M", 999_999_999: "1000M", 1_500_000_000: "1.5B", 7_615_616_512: "7.62B"}
	for n, want := range params {
		if got := humanParams(n); got != want {
			t.Errorf("humanParams(%d) = %q, want %q", n, got, want)
		}
	}
	nums := map[float64]string{0: "—", -3: "—", math.NaN(): "—", 0.123: "0.12", 17: "17.0", 919: "919.0", 1234.5: "1234"}
	for v, want := range nums {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
	if got := rate(3, 4); got != "75.0 (3/4)" {
		t.Errorf("rate(3, 4) = %q", got)
	}
	if got := mdEscape("a|b\nc"); got != `a\|b c` {
		t.Errorf("mdEscape = %q", got)
	}
	if got := (Variant{Shots: 5, Constrained: true}).Label(); got != "5-shot constrained" {
		t.Errorf("variant label %q", got)
	}
	if got := (Dataset{Task: "edgejson", Version: "v2"}).Label(); got != "edgejson@v2" {
		t.Errorf("dataset label %q", got)
	}
}

// TestTestSplitKinds checks that a report says which kind of test split each
// score comes from: a held-out split's dataset label carries its kind in
// every table, the header names every kind with its datasets, and the lineage
// table gives each dataset's kind.
func TestTestSplitKinds(t *testing.T) {
	results := handMadeResults()[3:6] // three models on assistant-50@v1/test
	for i := range results {
		results[i].Dataset.TestSplit = "standard"
	}
	held := results[2]
	held.Dataset.Version, held.Dataset.TestSplit = "v2", "template-held-out 25%"
	results = append(results, held)
	f, err := Build(results, Lineage{})
	if err != nil {
		t.Fatal(err)
	}
	md := f.Markdown()
	mustContain(t, "markdown", md,
		"Test splits: standard (assistant-50@v1/test); template-held-out 25% (assistant-50@v2/test [template-held-out 25%]).",
		"| Task | Dataset | Version | Split | Test split kind | N |",
		"| EdgeIntent | assistant-50 | v1 | test | standard | 30 |",
		"| EdgeIntent | assistant-50 | v2 | test | template-held-out 25% | 30 |")
	if n := strings.Count(md, "assistant-50@v2/test [template-held-out 25%]"); n < 3 {
		t.Errorf("the held-out dataset's label appears %d times, want it in the header, overview and intent table:\n%s", n, md)
	}
	if strings.Contains(md, "v1/test [") {
		t.Errorf("a standard test split is labelled as held out:\n%s", md)
	}
	mustContain(t, "table", f.Table(), "assistant-50@v2/test [template-held-out 25%]")
	if !held.Dataset.HeldOut() || results[0].Dataset.HeldOut() || (Dataset{}).HeldOut() {
		t.Error("HeldOut: want true only for a held-out kind")
	}
}
