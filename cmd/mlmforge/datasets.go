package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/internal/atomicfile"
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
