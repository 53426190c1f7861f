package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

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
