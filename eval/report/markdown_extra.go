package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cyclecore/mlmforge/schemas"
)

// writeBFCLTable writes BFCL's own figures for jobs on imported BFCL data:
// AST accuracy over the call categories, irrelevance and relevance
// detection, and each category.
func (f *File) writeBFCLTable(b *strings.Builder, jobs []*Job) {
	t := mdTable{header: []string{"Model", "Variant", "Dataset", "N", "AST (call categories)", "Irrelevance detection",
		"Relevance detection", "By category"}}
	for _, j := range jobs {
		m := j.EdgeFuncCall.BFCL
		if m == nil {
			continue
		}
		var cats []string
		for _, c := range m.Categories() {
			r := m.ByCategory[c]
			cats = append(cats, fmt.Sprintf("%s %s", c, rate(r.Correct, r.Total)))
		}
		t.add(modelName(j), j.VariantLabel, j.Dataset.Label(), fmt.Sprint(m.N), rate(m.AST.Correct, m.AST.Total),
			rate(m.IrrelevanceDetection.Correct, m.IrrelevanceDetection.Total),
			rate(m.RelevanceDetection.Correct, m.RelevanceDetection.Total), strings.Join(cats, "; "))
	}
	if len(t.rows) == 0 {
		return
	}
	b.WriteString("### BFCL (imported)\n\n")
	t.write(b)
	b.WriteString("BFCL's AST checker over every acceptable value of the possible answer; output that does not " +
		"decode counts as no call (right on an irrelevance case, wrong elsewhere). See docs/metrics.md.\n\n")
}

// writeCrossPlatform writes the cross-platform table: every job's throughput
// on the machine it ran on (one machine per report; reports from several
// machines compare row by row).
func (f *File) writeCrossPlatform(b *strings.Builder) {
	if len(f.Jobs) == 0 {
		return
	}
	b.WriteString("## Cross-platform: this machine\n\n")
	machine := f.Lineage.Machine.Label()
	t := mdTable{header: []string{"Machine", "Model", "Task", "Variant", "ms/token", "Tokens/s", "Inferences/s",
		"p50 ms", "p95 ms", "Peak RSS (MB)"}}
	for i := range f.Jobs {
		j := &f.Jobs[i]
		c := j.Cost
		t.add(machine, modelName(j), taskTitle(j.Dataset.Task), j.VariantLabel, num(c.MSPerToken),
			num(c.TokensPerSecond), num(c.InferencesPerSecond), num(c.LatencyP50MS), num(c.LatencyP95MS),
			megabytes(j.PeakRSSBytes))
	}
	t.write(b)
}

// writeConstrained puts constrained and unconstrained decoding side by side
// for every model, dataset and shot count that has both.
func (f *File) writeConstrained(b *strings.Builder) {
	type pairKey struct {
		ref, task, dataset string
		shots              int
	}
	pairs := map[pairKey][2]*Job{}
	var order []pairKey
	for i := range f.Jobs {
		j := &f.Jobs[i]
		k := pairKey{j.Model.Ref, j.Dataset.Task, j.Dataset.Label(), j.Variant.Shots}
		p, seen := pairs[k]
		if !seen {
			order = append(order, k)
		}
		p[b2i(j.Variant.Constrained)] = j
		pairs[k] = p
	}
	t := mdTable{header: []string{"Model", "Task", "Dataset", "Shots", "Metric", "Unconstrained", "Constrained",
		"Δ (points)", "Invalid output unconstrained", "Invalid output constrained", "Decoded without mask",
		"p50 ms unconstrained", "p50 ms constrained"}}
	for _, k := range order {
		p := pairs[k]
		u, c := p[0], p[1]
		if u == nil || c == nil {
			continue
		}
		t.add(modelName(u), taskTitle(k.task), k.dataset, fmt.Sprint(k.shots), jobHeadlineTitle(u), pct(u.Headline),
			pct(c.Headline), fmt.Sprintf("%+.1f", 100*(c.Headline-u.Headline)), invalidShare(u), invalidShare(c),
			fmt.Sprintf("%d of %d", c.MaskFallbacks, c.N), num(u.Cost.LatencyP50MS), num(c.Cost.LatencyP50MS))
	}
	if len(t.rows) == 0 {
		return
	}
	b.WriteString("## Constrained vs unconstrained decoding\n\n")
	t.write(b)
	b.WriteString("Decoded without mask: examples whose schema the JSON-Schema mask cannot compile (the reason is " +
		"in the predictions' mask_fallback column); they ran unconstrained and are scored like the others.\n\n")
}

// invalidShare is the percentage of outputs that did not parse (or, for
// EdgeIntent, named no class).
func invalidShare(j *Job) string {
	if j.N == 0 {
		return none
	}
	return pct(float64(j.InvalidOutputs) / float64(j.N))
}

// writeFigures links the plots and names what they leave out.
func (f *File) writeFigures(b *strings.Builder) {
	b.WriteString("## Figures\n\n")
	if f.Plots.AccuracyVsSize != "" {
		fmt.Fprintf(b, "![Headline metric vs parameters](%s)\n\n", f.Plots.AccuracyVsSize)
		for _, task := range schemas.Tasks {
			keys := f.Pareto[string(task)]
			if len(keys) == 0 {
				continue
			}
			var names []string
			for _, key := range keys {
				if j := f.job(key); j != nil {
					names = append(names, fmt.Sprintf("%s (%s, %s)", modelName(j), j.VariantLabel, j.Dataset.Label()))
				}
			}
			fmt.Fprintf(b, "- Pareto front, %s: %s\n", taskTitle(string(task)), strings.Join(names, "; "))
		}
	} else {
		b.WriteString("- Accuracy vs size not drawn: no model has a known parameter count.\n")
	}
	var unsized []string
	for i := range f.Jobs {
		if j := &f.Jobs[i]; j.Model.Params <= 0 && !slices.Contains(unsized, modelName(j)) {
			unsized = append(unsized, modelName(j))
		}
	}
	if len(unsized) > 0 && f.Plots.AccuracyVsSize != "" {
		fmt.Fprintf(b, "- Not on the size plot (parameter count unknown): %s\n", strings.Join(unsized, ", "))
	}
	b.WriteString("\n")
	if f.Plots.Latency != "" {
		fmt.Fprintf(b, "![p50/p95 latency per job](%s)\n\n", f.Plots.Latency)
	} else {
		b.WriteString("Latency not drawn: no job measured latency.\n\n")
	}
	for i := range f.Jobs {
		j := &f.Jobs[i]
		if j.Files.ConfusionPNG == "" {
			continue
		}
		fmt.Fprintf(b, "Confusion, %s (%s, %s): ![confusion %s](%s) ([CSV](%s))\n\n", modelName(j), j.VariantLabel,
			j.Dataset.Label(), j.Key, j.Files.ConfusionPNG, j.Files.ConfusionCSV)
	}
}

// job returns the job with the key, or nil.
func (f *File) job(key string) *Job {
	for i := range f.Jobs {
		if f.Jobs[i].Key == key {
			return &f.Jobs[i]
		}
	}
	return nil
}

// writeTestSplits says which kind of test split the scores come from: a
// score on a standard test split includes template recall, one on a
// held-out split does not (docs/holdout.md).
func (f *File) writeTestSplits(b *strings.Builder) {
	kinds := map[string][]string{}
	var order []string
	for i := range f.Jobs {
		d := f.Jobs[i].Dataset
		if d.TestSplit == "" {
			continue
		}
		if _, ok := kinds[d.TestSplit]; !ok {
			order = append(order, d.TestSplit)
		}
		if l := d.Label(); !slices.Contains(kinds[d.TestSplit], l) {
			kinds[d.TestSplit] = append(kinds[d.TestSplit], l)
		}
	}
	if len(order) == 0 {
		return
	}
	b.WriteString("Test splits: ")
	for i, k := range order {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(b, "%s (%s)", k, strings.Join(kinds[k], ", "))
	}
	b.WriteString(". A `standard` test split uses the same phrasing templates and values as train, so its " +
		"scores include template recall; a held-out one (shown in brackets after the dataset) uses only " +
		"templates and values train never saw (docs/holdout.md).\n\n")
}

// writeLineage writes where the results came from.
func (f *File) writeLineage(b *strings.Builder) {
	lin := f.Lineage
	m := lin.Machine
	b.WriteString("## Lineage\n\n")
	if !lin.GeneratedAt.IsZero() {
		fmt.Fprintf(b, "- Generated: %s\n", lin.GeneratedAt.Format(time.RFC3339))
	}
	fmt.Fprintf(b, "- Git commit: %s\n", orNone(lin.GitCommit))
	fmt.Fprintf(b, "- Machine: %s; Go %s\n\n", m.Label(), orNone(m.GoVersion))
	if len(lin.Datasets) > 0 {
		t := mdTable{header: []string{"Task", "Dataset", "Version", "Split", "Test split kind", "N", "Variants"}}
		for _, d := range lin.Datasets {
			t.add(taskTitle(d.Task), orNone(d.Name), orNone(d.Version), orNone(d.Split), orNone(d.TestSplit), fmt.Sprint(d.N),
				orNone(strings.Join(d.Variants, ", ")))
		}
		t.write(b)
	}
	t := mdTable{header: []string{"Model", "Run", "Kind", "Category", "Params", "Size (MB)", "Quantization", "Digest", "Details"}}
	var seen []string
	for i := range f.Jobs {
		j := &f.Jobs[i]
		if slices.Contains(seen, j.Model.Ref) {
			continue
		}
		seen = append(seen, j.Model.Ref)
		t.add(modelName(j), orNone(j.Run), orNone(j.Model.Kind), j.Category, humanParams(j.Model.Params), megabytes(j.Model.SizeBytes),
			orNone(j.Model.Quantization), orNone(j.Model.Digest), detailsText(j.Model.Details))
	}
	if len(t.rows) > 0 {
		t.write(b)
	}
	if len(lin.Checkpoints) > 0 {
		t := mdTable{header: []string{"Checkpoint model", "Path", "Digest", "Step"}}
		for _, c := range lin.Checkpoints {
			step := none
			if c.Step > 0 {
				step = fmt.Sprint(c.Step)
			}
			t.add(c.Model, orNone(c.Path), orNone(c.Digest), step)
		}
		t.write(b)
	}
}

func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

// detailsText lists a model's details as "k=v" in key order.
func detailsText(d map[string]string) string {
	if len(d) == 0 {
		return none
	}
	parts := make([]string, 0, len(d))
	for _, k := range slices.Sorted(maps.Keys(d)) {
		parts = append(parts, k+"="+d[k])
	}
	return strings.Join(parts, ", ")
}
