package report

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/cyclecore/mlmforge/schemas"
)

// Table renders results as the compact aligned text table `mlmforge eval`
// prints at the end: one line per job with its model, category, task,
// dataset, variant, headline and secondary metrics (percentages) and
// latency. Results that cannot be reported give one error line instead.
func Table(results []Result) string {
	f, err := Build(results, Lineage{})
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	return f.Table()
}

// Table renders the file's jobs as Table does.
func (f *File) Table() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tRUN\tCATEGORY\tTASK\tDATASET\tVARIANT\tN\tHEADLINE\tOTHER METRICS\tP50 MS\tP95 MS")
	for i := range f.Jobs {
		j := &f.Jobs[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s %s\t%s\t%s\t%s\n", modelName(j), orNone(j.Run), j.Category,
			taskTitle(j.Dataset.Task), j.Dataset.Label(), j.VariantLabel, j.N, jobHeadlineTitle(j),
			pct(j.Headline), secondaryMetrics(j), num(j.Cost.LatencyP50MS), num(j.Cost.LatencyP95MS))
	}
	tw.Flush()
	return b.String()
}

// secondaryMetrics are the task's other main metrics, compactly.
func secondaryMetrics(j *Job) string {
	switch schemas.Task(j.Dataset.Task) {
	case schemas.EdgeJSON:
		if m := j.EdgeJSON; m != nil {
			return fmt.Sprintf("field-F1 %s  schema %s", pct(m.FieldF1), pct(m.SchemaCompliance))
		}
	case schemas.EdgeIntent:
		if m := j.EdgeIntent; m != nil {
			return fmt.Sprintf("top-5 %s  macro-F1 %s", pct(m.Top5), pct(m.MacroF1))
		}
	case schemas.EdgeFuncCall:
		if m := j.EdgeFuncCall; m != nil && m.CallTurns == 0 {
			return fmt.Sprintf("no-call right %s", pct(m.ErrorRecovery.NoCallIrrelevant.Rate))
		} else if m != nil {
			return fmt.Sprintf("fn %s  param-F1 %s  AST %s", pct(m.FunctionExact), pct(m.ParamF1), pct(m.AST))
		}
	}
	return none
}
