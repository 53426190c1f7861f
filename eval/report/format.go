package report

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/cyclecore/mlmforge/schemas"
)

// none marks a value that is unknown or does not apply.
const none = "—"

// taskTitle is the paper's name of a task.
func taskTitle(task string) string {
	switch schemas.Task(task) {
	case schemas.EdgeJSON:
		return "EdgeJSON"
	case schemas.EdgeIntent:
		return "EdgeIntent"
	case schemas.EdgeFuncCall:
		return "EdgeFuncCall"
	}
	return task
}

// metricTitles are the short names of the headline metrics.
var metricTitles = map[string]string{"json_exact": "JSON exact", "top1": "top-1", "example_accuracy": "example acc",
	"bfcl_ast": "BFCL AST", "irrelevance_detection": "irrelevance detection", "relevance_detection": "relevance detection"}

// jobHeadlineTitle is the short name of a job's headline metric.
func jobHeadlineTitle(j *Job) string {
	if t, ok := metricTitles[j.HeadlineMetric]; ok {
		return t
	}
	return headlineTitle(j.Dataset.Task)
}

// headlineTitle is the short name of a task's headline metric.
func headlineTitle(task string) string {
	switch schemas.Task(task) {
	case schemas.EdgeJSON:
		return "JSON exact"
	case schemas.EdgeIntent:
		return "top-1"
	case schemas.EdgeFuncCall:
		return "example acc"
	}
	return "headline"
}

// pct formats a fraction as a percentage with one decimal: 0.8734 -> "87.3".
func pct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return none
	}
	return fmt.Sprintf("%.1f", 100*v)
}

// rate formats a count of successes: "75.0 (3/4)", or "—" with no cases.
func rate(correct, total int) string {
	if total == 0 {
		return none
	}
	return fmt.Sprintf("%s (%d/%d)", pct(float64(correct)/float64(total)), correct, total)
}

// num formats a positive measurement with a precision that suits its size;
// zero (unknown) is "—".
func num(v float64) string {
	switch {
	case v <= 0 || math.IsNaN(v) || math.IsInf(v, 0):
		return none
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 1000:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// humanParams formats a parameter count: 135000000 -> "135M", 1.5e9 -> "1.5B".
func humanParams(n int64) string {
	if n <= 0 {
		return none
	}
	units := []struct {
		div    float64
		suffix string
	}{{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}}
	for _, u := range units {
		if v := float64(n) / u.div; v >= 100 {
			return fmt.Sprintf("%.0f", v) + u.suffix
		} else if v >= 1 {
			return trimZero(fmt.Sprintf("%.3g", v)) + u.suffix
		}
	}
	return fmt.Sprint(n)
}

// trimZero drops a %g exponent-free number's redundant trailing zeros.
func trimZero(s string) string {
	if strings.Contains(s, ".") && !strings.Contains(s, "e") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// megabytes formats a byte count in MB (10^6 bytes, as the paper's 10 MB
// NLM bound); zero is "—".
func megabytes(b int64) string {
	if b <= 0 {
		return none
	}
	return num(float64(b) / 1e6)
}

// modelName is a model's display name (Job.Name, set by Build).
func modelName(j *Job) string {
	if j.Name != "" {
		return j.Name
	}
	return baseName(j)
}

// baseName names a model before names are made unique: a student by its
// pipeline model name or preset, else by its checkpoint path
// ("student:<run>/<step>" under an mlmforge run directory); other models by
// their reference.
func baseName(j *Job) string {
	if j.Model.Ref == "" {
		return "(unnamed model)"
	}
	if j.Model.Kind == "student" || strings.HasPrefix(j.Model.Ref, "student:") {
		if n := cmp.Or(j.Model.Details["lineage.model_name"], j.Model.Details["preset"]); n != "" {
			return n
		}
		if run := studentRun(j.Model.Ref); run != "" {
			return "student:" + run
		}
	}
	return j.Model.Ref
}

// studentRun is "<run>/<step>" for a checkpoint under an mlmforge run
// directory (HOME/runs/<run>/checkpoints/<step>), the directory's base name
// for another checkpoint, "" for a model that is no student.
func studentRun(ref string) string {
	path, ok := strings.CutPrefix(ref, "student:")
	if !ok {
		return ""
	}
	dir, step := filepath.Split(filepath.Clean(path))
	if filepath.Base(filepath.Clean(dir)) == "checkpoints" {
		return filepath.Base(filepath.Dir(filepath.Clean(dir))) + "/" + step
	}
	return filepath.Clean(path)
}

// assignNames sets every job's Name and Run. Students get their model name
// (runs in their own column); when two different models would show one
// name, each shows its run (or reference) after it.
func assignNames(jobs []Job) {
	refs := map[string]map[string]bool{} // name -> refs
	for i := range jobs {
		j := &jobs[i]
		j.Run = studentRun(j.Model.Ref)
		n := baseName(j)
		if refs[n] == nil {
			refs[n] = map[string]bool{}
		}
		refs[n][j.Model.Ref] = true
	}
	for i := range jobs {
		j := &jobs[i]
		j.Name = baseName(j)
		if len(refs[j.Name]) > 1 {
			j.Name += " (" + cmp.Or(j.Run, j.Model.Ref) + ")"
		}
	}
}

// mdTable collects a Markdown table.
type mdTable struct {
	header []string
	rows   [][]string
}

func (t *mdTable) add(cells ...string) { t.rows = append(t.rows, cells) }

// write renders the table; cells are escaped so that a '|' or a newline in a
// model name cannot break the row.
func (t *mdTable) write(b *strings.Builder) {
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + mdEscape(c) + " |")
		}
		b.WriteString("\n")
	}
	line(t.header)
	sep := make([]string, len(t.header))
	for i := range sep {
		sep[i] = "---"
	}
	b.WriteString("|" + strings.Join(sep, "|") + "|\n")
	for _, r := range t.rows {
		line(r)
	}
	b.WriteString("\n")
}

var mdEscaper = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ")

func mdEscape(s string) string { return mdEscaper.Replace(s) }
