package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/internal/atomicfile"
	"github.com/cyclecore/mlmforge/schemas"
)

func newDatasetsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "datasets",
		Short: "List, inspect, export and verify the versioned Parquet datasets",
		Long: `Datasets live under <home>/datasets/<task>/<version>/: one zstd Parquet file per
split (train.parquet, test.parquet) and a manifest.json with row counts per split
and quota cell, the sha256 of every file, and the generation provenance. Versions
are immutable once committed.

A dataset is named by a REF: TASK@VERSION (edgeintent@v3), TASK@latest, or just
TASK for the newest version.`,
	}
	cmd.AddCommand(newDatasetsLsCmd(a), newDatasetsShowCmd(a), newDatasetsExportCmd(a), newDatasetsVerifyCmd(a), newDatasetsRmCmd(a))
	return cmd
}

func datasetsStore(a *app) (*datasets.Store, error) {
	return datasets.Open(filepath.Join(a.home, "datasets"))
}

// datasetsVersion opens the version a REF names; a malformed REF is a usage error.
func datasetsVersion(a *app, ref string) (*datasets.Version, error) {
	task, version, err := datasets.ParseRef(ref)
	if err != nil {
		return nil, &usageError{err}
	}
	s, err := datasetsStore(a)
	if err != nil {
		return nil, err
	}
	return s.Version(task, version)
}

func newDatasetsLsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "ls [TASK]",
		Short: "List dataset versions, oldest first",
		Long: `ls prints one line per committed version: task, version, creation time (UTC),
rows per split, the first 12 characters of the spec hash, and the parent version.
With TASK (edgejson, edgeintent, edgefunccall) it lists only that task.`,
		Example: `  mlmforge datasets ls
  mlmforge datasets ls edgeintent`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.MaximumNArgs(1)(cmd, args); err != nil {
				return &usageError{fmt.Errorf("%s: %w", cmd.CommandPath(), err)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := datasetsStore(a)
			if err != nil {
				return err
			}
			var ms []*datasets.Manifest
			if len(args) == 1 {
				task, err := schemas.ParseTask(args[0])
				if err != nil {
					return &usageError{err}
				}
				ms, err = s.List(task)
				if err != nil {
					return err
				}
			} else if ms, err = s.ListAll(); err != nil {
				return err
			}
			if len(ms) == 0 {
				fmt.Fprintf(a.out, "no datasets yet under %s\n", s.Root())
				return nil
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TASK\tVERSION\tCREATED\tROWS\tSPEC\tPARENT")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Task, m.Version, formatCreated(m.CreatedAt),
					splitRows(m), orDash(shortHash(m.SpecHash)), orDash(m.Parent))
			}
			return tw.Flush()
		},
	}
}

func formatCreated(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// splitRows formats rows per split in manifest order: "test=300 train=2700".
func splitRows(m *datasets.Manifest) string {
	var parts []string
	for _, name := range m.SplitNames() {
		parts = append(parts, fmt.Sprintf("%s=%d", name, m.Splits[name].Rows))
	}
	return strings.Join(parts, " ")
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// testSplitText explains a manifest's test split kind in a line, so that
// whoever reads a test score knows whether it measures template recall.
func testSplitText(kind string) string {
	switch {
	case kind == generator.TestSplitStandard:
		return kind + " (same phrasing templates and values as train)"
	case strings.HasPrefix(kind, "template-held-out"):
		return kind + " (test uses only templates and values train never saw; docs/holdout.md)"
	case strings.HasPrefix(kind, "value-held-out"):
		return kind + " (test uses only values train never saw; the model teacher's phrasing is not held out)"
	}
	return kind
}

func newDatasetsShowCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "show REF",
		Short: "Show a dataset version's manifest: counts per split and cell, files, provenance",
		Long: `show prints a version's manifest for humans: rows per split, rows per quota cell
and split, every file with its size and sha256, the provenance recorded by the
generation workflow, and the review summary once the review step has run.`,
		Example: `  mlmforge datasets show edgeintent
  mlmforge datasets show edgejson@v2`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := datasetsVersion(a, args[0])
			if err != nil {
				return err
			}
			return printManifest(a.out, v)
		},
	}
}

func printManifest(out io.Writer, v *datasets.Version) error {
	m := v.Manifest()
	splits := m.SplitNames()
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\n", m.Ref())
	fmt.Fprintf(tw, "  directory\t%s\n", v.Dir())
	fmt.Fprintf(tw, "  created\t%s\n", formatCreated(m.CreatedAt))
	fmt.Fprintf(tw, "  spec hash\t%s\n", orDash(m.SpecHash))
	fmt.Fprintf(tw, "  parent\t%s\n", orDash(m.Parent))
	fmt.Fprintf(tw, "  rows\t%d (%s)\n", m.Rows(), splitRows(m))
	if m.TestSplit != "" {
		fmt.Fprintf(tw, "  test split\t%s\n", testSplitText(m.TestSplit))
	}
	if m.Notes != "" {
		fmt.Fprintf(tw, "  notes\t%s\n", m.Notes)
	}
	fmt.Fprintln(tw, "\nFILES\nSPLIT\tROWS\tBYTES\tFILE\tSHA256")
	for _, name := range splits {
		s := m.Splits[name]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", name, s.Rows, s.Bytes, s.File, s.SHA256)
	}
	fmt.Fprintf(tw, "\nCELLS\nCELL\t%s\tTOTAL\n", strings.ToUpper(strings.Join(splits, "\t")))
	for _, cell := range cellNames(m) {
		total := 0
		row := []string{orDash(cell)}
		for _, name := range splits {
			n := m.Splits[name].Cells[cell]
			total += n
			row = append(row, fmt.Sprint(n))
		}
		fmt.Fprintf(tw, "%s\t%d\n", strings.Join(row, "\t"), total)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, sec := range []struct {
		title string
		raw   json.RawMessage
		none  string
	}{
		{"PROVENANCE", m.Provenance, "(none recorded)"},
		{"REVIEW", m.Review, "(not reviewed yet)"},
	} {
		fmt.Fprintf(out, "\n%s\n", sec.title)
		if len(sec.raw) == 0 {
			fmt.Fprintln(out, sec.none)
			continue
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, sec.raw, "", "  "); err != nil {
			return fmt.Errorf("%s of %s: %w", strings.ToLower(sec.title), m.Ref(), err)
		}
		fmt.Fprintln(out, buf.String())
	}
	return nil
}

func cellNames(m *datasets.Manifest) []string {
	var cells []string
	for _, s := range m.Splits {
		for c := range s.Cells {
			if !slices.Contains(cells, c) {
				cells = append(cells, c)
			}
		}
	}
	slices.Sort(cells)
	return cells
}

func newDatasetsExportCmd(a *app) *cobra.Command {
	var format, split, outPath string
	cmd := &cobra.Command{
		Use:   "export REF",
		Short: "Export a dataset version as JSON Lines",
		Long: `export writes one JSON object per line, the record's fields (id, task, split,
input, target, cell, variant, provenance, ...), to stdout or to --out. Without
--split every split is exported, in manifest order (sorted by name). With --out
the file appears only once complete.`,
		Example: `  mlmforge datasets export edgeintent --format jsonl > edgeintent.jsonl
  mlmforge datasets export edgefunccall@v2 --format jsonl --split test --out test.jsonl`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "jsonl" {
				return usageErrorf("%s: --format %q: valid formats are jsonl", cmd.CommandPath(), format)
			}
			v, err := datasetsVersion(a, args[0])
			if err != nil {
				return err
			}
			if split != "" {
				if _, err := v.Path(split); err != nil {
					return &usageError{fmt.Errorf("--split: %w", err)}
				}
			}
			if outPath == "" || outPath == "-" {
				return v.ExportJSONL(a.out, split)
			}
			if err := exportToFile(v, split, outPath); err != nil {
				return err
			}
			rows := v.Manifest().Rows()
			if split != "" {
				rows = v.Manifest().Splits[split].Rows
			}
			fmt.Fprintf(a.out, "exported %d rows of %s to %s\n", rows, v.Manifest().Ref(), outPath)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "jsonl", "output format (only jsonl)")
	cmd.Flags().StringVar(&split, "split", "", "export only this split (train, test, ...); default all")
	cmd.Flags().StringVarP(&outPath, "out", "o", "", "write to this file instead of stdout")
	return cmd
}

// exportToFile writes the export to path atomically (atomicfile.Write), so that a
// failed export never leaves a truncated file that looks complete.
func exportToFile(v *datasets.Version, split, path string) error {
	err := atomicfile.Write(path, 0o644, func(f *os.File) error { return v.ExportJSONL(f, split) })
	if err != nil {
		return fmt.Errorf("export to %s: %w", path, err)
	}
	return nil
}

func newDatasetsVerifyCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "verify REF",
		Short: "Check a dataset version's files against its manifest (size, sha256, rows)",
		Long: `verify recomputes the size and sha256 of every split file and reads its row
count from the Parquet footer, and compares them with manifest.json. It fails,
naming the file, on the first difference: a file changed, truncated or missing
since the version was committed.`,
		Example: `  mlmforge datasets verify edgeintent@v3`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := datasetsVersion(a, args[0])
			if err != nil {
				return err
			}
			if err := v.Verify(); err != nil {
				return err
			}
			m := v.Manifest()
			fmt.Fprintf(a.out, "%s: ok (%d files, %d rows: sizes, sha256 and row counts match the manifest)\n",
				m.Ref(), len(m.Splits), m.Rows())
			return nil
		},
	}
}

func newDatasetsRmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rm TASK@VERSION",
		Short: "Remove a dataset version that nothing references",
		Long: `rm deletes a committed version, typically an import made by mistake. It
refuses a version anything still names, and lists what: another version that
has it as its parent, a training run or checkpoint trained on it (lineage in
HOME/runs), an evaluation report or pipeline lineage that scored it (HOME/reports).
Remove those first, or keep the version. The version must be named exactly:
rm does not take "latest".`,
		Example: `  mlmforge datasets rm edgejson@v4`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			task, version, err := datasets.ParseRef(args[0])
			if err != nil {
				return &usageError{err}
			}
			if version == "latest" {
				return usageErrorf("%s: %s: name the version to remove (TASK@VERSION), not latest", cmd.CommandPath(), args[0])
			}
			s, err := datasetsStore(a)
			if err != nil {
				return err
			}
			v, err := s.Version(task, version)
			if err != nil {
				return err
			}
			refs, err := datasetReferences(a.home, v.Manifest().Task, version, v.Dir())
			if err != nil {
				return err
			}
			if len(refs) > 0 {
				return fmt.Errorf("datasets rm %s@%s: %w by %s", task, version, datasets.ErrReferenced, strings.Join(refs, "; "))
			}
			if err := s.Remove(task, version); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "removed %s@%s (%d rows)\n", task, version, v.Manifest().Rows())
			return nil
		},
	}
}

// datasetReferences lists what in the home names task@version (dir is its
// directory): checkpoints and finished training runs under HOME/runs, reports
// and pipeline lineages under HOME/reports.
func datasetReferences(home, task, version, dir string) ([]string, error) {
	ref := task + "@" + version
	var out []string
	cks, err := filepath.Glob(filepath.Join(home, "runs", "*", "checkpoints", "*", "config.json"))
	if err != nil {
		return nil, err
	}
	for _, p := range cks {
		var cf struct {
			Lineage map[string]string `json:"lineage"`
		}
		if readJSONFile(p, &cf) && (cf.Lineage["dataset"] == ref || cf.Lineage["dataset_dir"] == dir ||
			slices.Contains(strings.Split(cf.Lineage["datasets"], ","), ref)) {
			out = append(out, "checkpoint "+filepath.Dir(p))
		}
	}
	for _, pat := range []struct{ glob, what string }{
		{filepath.Join(home, "runs", "*", "result.json"), "training run"},
		{filepath.Join(home, "reports", "*", "results.json"), "report"},
		{filepath.Join(home, "reports", "*", "lineage.json"), "pipeline lineage"},
	} {
		files, err := filepath.Glob(pat.glob)
		if err != nil {
			return nil, err
		}
		for _, p := range files {
			if namesDataset(p, task, version) {
				out = append(out, pat.what+" "+filepath.Dir(p))
			}
		}
	}
	return out, nil
}

// namesDataset reports whether a training result ({task, dataset_version}),
// a report ({lineage: {datasets: [{task, version}]}}) or a pipeline lineage
// ({datasets: [{task, version}]}) names task@version.
func namesDataset(path, task, version string) bool {
	type ds struct {
		Task    string `json:"task"`
		Version string `json:"version"`
	}
	var f struct {
		Task           string `json:"task"`
		DatasetVersion string `json:"dataset_version"`
		Datasets       []ds   `json:"datasets"`
		Lineage        struct {
			Datasets []ds `json:"datasets"`
		} `json:"lineage"`
	}
	if !readJSONFile(path, &f) {
		return false
	}
	if f.Task == task && f.DatasetVersion == version {
		return true
	}
	for _, d := range append(f.Datasets, f.Lineage.Datasets...) {
		if d.Task == task && d.Version == version {
			return true
		}
	}
	return false
}

// readJSONFile decodes a JSON file, false when it is missing or unreadable.
func readJSONFile(path string, v any) bool {
	b, err := os.ReadFile(path)
	return err == nil && json.Unmarshal(b, v) == nil
}
