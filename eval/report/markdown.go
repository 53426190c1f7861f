package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/schemas"
)

// Markdown renders report.md: the seed paper's Tables 1-4, the cross-platform
// table, constrained vs unconstrained decoding, the figures and the lineage.
func (f *File) Markdown() string {
	var b strings.Builder
	b.WriteString("# mlmforge evaluation report\n\n")
	if !f.Lineage.GeneratedAt.IsZero() {
		fmt.Fprintf(&b, "Generated %s", f.Lineage.GeneratedAt.Format(time.RFC3339))
	} else {
		b.WriteString("Generated")
	}
	fmt.Fprintf(&b, " from %d job(s) on %s. Metrics are percentages of examples (definitions: docs/metrics.md); "+
		"latencies are per example in milliseconds; `—` means unknown or not applicable.\n\n", len(f.Jobs), f.Lineage.Machine.Label())
	f.writeTestSplits(&b)
	f.writeOverview(&b)
	f.writeJSONTable(&b)
	f.writeIntentTable(&b)
	f.writeFuncCallTable(&b)
	f.writeCrossPlatform(&b)
	f.writeConstrained(&b)
	f.writeFigures(&b)
	f.writeLineage(&b)
	return b.String()
}

// column is one dataset column of Table 1.
type column struct {
	task, label string
}

// modelVariant is one row of Table 1.
type modelVariant struct {
	job     *Job // the first job of the row, for the model's description
	variant Variant
}

// writeOverview writes Table 1: one row per model and variant, one headline
// column per task and dataset.
func (f *File) writeOverview(b *strings.Builder) {
	b.WriteString("## Table 1: Overview\n\n")
	if len(f.Jobs) == 0 {
		b.WriteString("No results.\n\n")
		return
	}
	var cols []column
	var rows []modelVariant
	cells := map[string]map[column]string{} // row key -> column -> headline
	titles := map[column]string{}
	for i := range f.Jobs {
		j := &f.Jobs[i]
		c := column{j.Dataset.Task, j.Dataset.Label()}
		if !slices.Contains(cols, c) {
			cols = append(cols, c)
			titles[c] = jobHeadlineTitle(j)
		}
		rk := j.Model.Ref + "\x00" + j.VariantLabel
		if cells[rk] == nil {
			cells[rk] = map[column]string{}
			rows = append(rows, modelVariant{j, j.Variant})
		}
		cells[rk][c] = pct(j.Headline)
	}
	slices.SortStableFunc(rows, func(a, b modelVariant) int {
		return cmp.Or(cmp.Compare(sizeRank(a.job.Model.Params), sizeRank(b.job.Model.Params)),
			cmp.Compare(a.job.Model.Ref, b.job.Model.Ref), cmp.Compare(a.variant.Shots, b.variant.Shots),
			cmp.Compare(b2i(a.variant.Constrained), b2i(b.variant.Constrained)))
	})
	t := mdTable{header: []string{"Model", "Run", "Category", "Params", "Size (MB)", "Variant"}}
	for _, c := range cols {
		t.header = append(t.header, fmt.Sprintf("%s %s (%%) · %s", taskTitle(c.task), titles[c], c.label))
	}
	for _, r := range rows {
		j := r.job
		row := []string{modelName(j), orNone(j.Run), j.Category, humanParams(j.Model.Params), megabytes(j.Model.SizeBytes), j.VariantLabel}
		for _, c := range cols {
			v, ok := cells[j.Model.Ref+"\x00"+j.VariantLabel][c]
			if !ok {
				v = none
			}
			row = append(row, v)
		}
		t.add(row...)
	}
	t.write(b)
	b.WriteString("Headline metrics: EdgeJSON JSON exact match, EdgeIntent top-1 accuracy, EdgeFuncCall example " +
		"accuracy (every turn of the example right); imported BFCL data BFCL's AST accuracy over every acceptable " +
		"value (irrelevance detection for a set of irrelevance cases only). Categories follow the SLM-Bench paper: " +
		"NLM under 10 MB on disk (measured), else by parameters: Nano MLM up to 30M, Micro MLM 30M-100M, Compact " +
		"MLM 100M-250M, SLM 1B-8B.\n\n")
}

// jobsOf returns the jobs of a task, in file order.
func (f *File) jobsOf(task schemas.Task) []*Job {
	var out []*Job
	for i := range f.Jobs {
		if f.Jobs[i].Dataset.Task == string(task) {
			out = append(out, &f.Jobs[i])
		}
	}
	return out
}

// complexityLevels are the EdgeJSON levels, in the paper's order.
var complexityLevels = []string{"simple", "medium", "complex"}

// writeJSONTable writes Table 2: EdgeJSON overall and per complexity level.
func (f *File) writeJSONTable(b *strings.Builder) {
	jobs := f.jobsOf(schemas.EdgeJSON)
	if len(jobs) == 0 {
		return
	}
	b.WriteString("## Table 2: EdgeJSON\n\n")
	t := mdTable{header: []string{"Model", "Variant", "Dataset", "Level", "N", "JSON exact", "Field F1",
		"Schema compliance", "Parse failures", "p50 ms", "p95 ms"}}
	for _, j := range jobs {
		m := j.EdgeJSON
		add := func(level string, s eval.JSONScores, p50, p95 string) {
			t.add(modelName(j), j.VariantLabel, j.Dataset.Label(), level, fmt.Sprint(s.N), pct(s.JSONExact),
				pct(s.FieldF1), pct(s.SchemaCompliance), fmt.Sprint(s.ParseFailures), p50, p95)
		}
		add("overall", m.JSONScores, num(j.Cost.LatencyP50MS), num(j.Cost.LatencyP95MS))
		for _, level := range levelOrder(m.ByComplexity) {
			name := level
			if name == "" {
				name = "(unlabelled)"
			}
			add(name, m.ByComplexity[level], none, none)
		}
	}
	t.write(b)
}

// levelOrder lists the levels present: simple, medium, complex, then any
// other in name order.
func levelOrder(by map[string]eval.JSONScores) []string {
	var out, rest []string
	for _, l := range complexityLevels {
		if _, ok := by[l]; ok {
			out = append(out, l)
		}
	}
	for l := range by {
		if !slices.Contains(complexityLevels, l) {
			rest = append(rest, l)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// confusedShown is how many confused pairs a Table 3 row lists.
const confusedShown = 3

// writeIntentTable writes Table 3: EdgeIntent.
func (f *File) writeIntentTable(b *strings.Builder) {
	jobs := f.jobsOf(schemas.EdgeIntent)
	if len(jobs) == 0 {
		return
	}
	b.WriteString("## Table 3: EdgeIntent\n\n")
	t := mdTable{header: []string{"Model", "Variant", "Dataset", "N", "Top-1", "Top-5", "Macro-F1", "Invalid",
		"Inferences/s", "p50 ms", "Most confused (gold → predicted, count)"}}
	for _, j := range jobs {
		m := j.EdgeIntent
		t.add(modelName(j), j.VariantLabel, j.Dataset.Label(), fmt.Sprint(m.N), pct(m.Top1), pct(m.Top5),
			pct(m.MacroF1), fmt.Sprint(m.Invalid), num(j.Cost.InferencesPerSecond), num(j.Cost.LatencyP50MS),
			confusedText(m.MostConfused, confusedShown))
	}
	t.write(b)
}

// confusedText lists the first k confused pairs: "a → b (4); c → d (2)".
func confusedText(pairs []eval.ConfusedPair, k int) string {
	if len(pairs) == 0 {
		return none
	}
	parts := make([]string, 0, k)
	for _, p := range pairs[:min(k, len(pairs))] {
		parts = append(parts, fmt.Sprintf("%s → %s (%d)", p.Gold, p.Pred, p.Count))
	}
	return strings.Join(parts, "; ")
}

// writeFuncCallTable writes Table 4: EdgeFuncCall.
func (f *File) writeFuncCallTable(b *strings.Builder) {
	jobs := f.jobsOf(schemas.EdgeFuncCall)
	if len(jobs) == 0 {
		return
	}
	b.WriteString("## Table 4: EdgeFuncCall\n\n")
	t := mdTable{header: []string{"Model", "Variant", "Dataset", "N", "Function exact", "Call exact", "Param F1",
		"AST", "Error recovery", "Multi-turn success", "Example acc", "p50 ms"}}
	for _, j := range jobs {
		m := j.EdgeFuncCall
		er := m.ErrorRecovery.Overall
		mt := m.MultiTurnSuccess
		ast := pct(m.AST)
		if m.CallTurns == 0 {
			ast = none // no call turn: nothing for an AST accuracy to count
		}
		t.add(modelName(j), j.VariantLabel, j.Dataset.Label(), fmt.Sprint(m.N), pct(m.FunctionExact),
			pct(m.CallExact), pct(m.ParamF1), ast, rate(er.Correct, er.Total), rate(mt.Correct, mt.Total),
			pct(m.ExampleAccuracy), num(j.Cost.LatencyP50MS))
	}
	t.write(b)
	f.writeBFCLTable(b, jobs)
	b.WriteString("Function exact, call exact, param F1 and AST are means over gold call turns; error recovery " +
		"counts ask, no-call and recovery turns; multi-turn success executes the predicted calls against the " +
		"catalog's mocks.\n\n")
}
