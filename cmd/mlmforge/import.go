package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/datasets/importer"
	"github.com/cyclecore/mlmforge/schemas"
)

// importSources are the SOURCE arguments of `mlmforge import`.
var importSources = []string{"clinc150", "snips", "bfcl", "csv", "jsonl"}

// importFlags are the flags of `mlmforge import`.
type importFlags struct {
	from       []string
	strict     bool
	task       string
	mapping    string
	oos        bool
	categories []string
	splits     []string
	split      string
	variant    string
	idPrefix   string
	version    string
	force      bool
}

// importFlagSources says which sources each source-specific flag applies to, so
// that a flag that would be ignored is refused instead.
var importFlagSources = map[string][]string{
	"map":        {"csv", "jsonl"},
	"splits":     {"csv", "jsonl"},
	"split":      {"csv", "jsonl"},
	"variant":    {"csv", "jsonl"},
	"id-prefix":  {"csv", "jsonl"},
	"oos":        {"clinc150"},
	"categories": {"bfcl"},
}

func newImportCmd(a *app) *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "import SOURCE --from PATH",
		Short: "Import a real benchmark or your own test set as a dataset version",
		Long: `import reads a benchmark or CSV / JSON Lines files and commits them as a new
dataset version, with the same columns, manifest and per-cell counts as a
generated one; its provenance says "imported from <source> <file> sha256 <hash>".
Importing the same files with the same options again finds the version already
written (--force writes a new one). Ids are deterministic.

A bad row (a gold that fails its own schema, an empty list of acceptable
values, a broken line) is skipped: each is printed on stderr as
file:line:column (in characters) with the reason, and listed in the
version's manifest (provenance.bad_rows). --strict stops at the first one.

Sources:
  clinc150  data_full.json (or its directory) -> edgeintent, splits train/val/test;
            --oos adds the out-of-scope rows as class "oos" in oos_train/oos_val/oos_test
  snips     the 2017 benchmark directory (validate_<Intent>.json) -> edgejson (slots as
            JSON, a generated JSON Schema per intent in each record's meta) or, with
            --task edgeintent, the 7 intents; split test
  bfcl      the BFCL directory (BFCL_v4_<category>.json + possible_answer/) ->
            edgefunccall, split test, scenario and cell = category; every AST
            category the directory holds (live_* and relevance included) unless
            --categories names some
  csv       CSV files with a header row (.tsv: tab-separated); --task is required
  jsonl     JSON Lines files, one object per line; --task is required

For csv and jsonl, --map names the column of each field: input, target (JSON),
label (an edgeintent class: the target becomes {"intent": label}), split, id,
cell, complexity (simple/medium/complex, or a nesting depth: 0 simple, 1-2
medium, 3+ complex, each depth its own cell unless a cell column is mapped),
variant, scenario, function, schema (an edgejson row's JSON Schema; a row
without one must name a catalog schema in its cell). Unnamed fields use the
same-named column when there is one; other columns are kept in meta. Ids come
from the id column, else from a hash of the row's split, input and target.

One file per split: --from train=train.csv --from test=test.csv imports both
into one version (a row's split column must then agree with its file).

Without --from, the benchmarks are read from $MLMFORGE_EXTERNAL_DATA/<source>.`,
		Example: `  mlmforge import clinc150 --from data/clinc150 --oos
  mlmforge import snips --from data/snips --task edgejson
  mlmforge import bfcl --from data/bfcl --categories simple_python,irrelevance
  mlmforge import csv --from my_tests.csv --task edgeintent --map input=text,label=intent
  mlmforge import csv --from train=train.csv --from test=test.csv --task edgejson --map complexity=depth
  mlmforge import jsonl --from calls.jsonl --task edgefunccall --split test --strict`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := f.load(cmd, args[0])
			if err != nil {
				return err
			}
			store, err := datasetsStore(a)
			if err != nil {
				return err
			}
			m, reused, err := importer.Commit(store, d, importer.CommitOptions{Version: f.version, Force: f.force})
			if err != nil {
				return err
			}
			return printImport(a, d, m, reused)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.from, "from", nil, "file or directory to read (default $MLMFORGE_EXTERNAL_DATA/SOURCE for clinc150, snips, bfcl); csv/jsonl: SPLIT=FILE, repeatable, one file per split")
	fl.BoolVar(&f.strict, "strict", false, "stop at the first bad row instead of skipping and reporting it")
	fl.StringVar(&f.task, "task", "", "task: required for csv and jsonl; snips: edgejson (default) or edgeintent")
	fl.StringVar(&f.mapping, "map", "", "csv/jsonl column mapping, e.g. input=text,label=intent (default: same-named columns)")
	fl.BoolVar(&f.oos, "oos", false, "clinc150: also import the out-of-scope rows into oos_train, oos_val, oos_test")
	fl.StringSliceVar(&f.categories, "categories", nil, "bfcl: categories to import (default every AST category the directory holds: "+strings.Join(importer.BFCLCategories, ", ")+")")
	fl.StringSliceVar(&f.splits, "splits", importer.DefaultSplits, "csv/jsonl: allowed split names")
	fl.StringVar(&f.split, "split", "test", "csv/jsonl: split of rows without a split column")
	fl.StringVar(&f.variant, "variant", "imported", "csv/jsonl: variant of rows without a variant column")
	fl.StringVar(&f.idPrefix, "id-prefix", "", "csv/jsonl: id prefix of rows without an id column, <prefix>-<line> (default the file name)")
	fl.StringVar(&f.version, "version", "", "version name to write (default the next vN)")
	fl.BoolVar(&f.force, "force", false, "write a new version even if the same import was already committed")
	return cmd
}

// load checks the flags against the source and runs its importer. Flag
// mistakes are usage errors; a bad file is not.
func (f *importFlags) load(cmd *cobra.Command, source string) (*importer.Dataset, error) {
	source = strings.ToLower(source)
	if !slices.Contains(importSources, source) {
		return nil, usageErrorf("%s: unknown source %q: sources are %s", cmd.CommandPath(), source, strings.Join(importSources, ", "))
	}
	for flag, sources := range importFlagSources {
		if cmd.Flags().Changed(flag) && !slices.Contains(sources, source) {
			return nil, usageErrorf("%s: --%s applies to %s only, not %s", cmd.CommandPath(), flag, strings.Join(sources, ", "), source)
		}
	}
	task, err := f.checkTask(source)
	if err == nil {
		err = f.checkNames(cmd)
	}
	if err != nil {
		return nil, &usageError{fmt.Errorf("%s: %w", cmd.CommandPath(), err)}
	}
	files, err := f.tableFiles(cmd, source)
	if err != nil {
		return nil, err
	}
	for _, tf := range files { // before reading anything: a typo in the second file fails now
		if _, err := os.Stat(tf.Path); err != nil {
			return nil, fmt.Errorf("%s %s: --from %s: %w", cmd.CommandPath(), source, tf.Path, errors.Unwrap(err))
		}
	}
	from := ""
	if len(files) == 1 {
		from = files[0].Path
	}
	if from == "" && len(files) == 0 {
		ext := os.Getenv("MLMFORGE_EXTERNAL_DATA")
		if ext == "" || source == "csv" || source == "jsonl" {
			return nil, usageErrorf("%s: --from is required (the %s file or directory to read)", cmd.CommandPath(), source)
		}
		from = filepath.Join(ext, source)
	}
	switch source {
	case "clinc150":
		return importer.ImportCLINC150(from, importer.CLINC150Options{IncludeOOS: f.oos})
	case "snips":
		return importer.ImportSNIPS(from, importer.SNIPSOptions{Task: task})
	case "bfcl":
		return importer.ImportBFCL(from, importer.BFCLOptions{Categories: f.categories, Strict: f.strict})
	}
	m, err := importer.ParseMapping(f.mapping)
	if err != nil {
		return nil, &usageError{fmt.Errorf("%s: --map: %w", cmd.CommandPath(), err)}
	}
	opts := importer.TableOptions{Task: task, Mapping: m, Splits: f.splits, DefaultSplit: f.split,
		Variant: f.variant, IDPrefix: f.idPrefix, Strict: f.strict}
	return importer.ImportTable(source, files, opts)
}

// tableFiles reads the --from values: one path, or for csv and jsonl one
// SPLIT=FILE per split. Ambiguous forms are usage errors: several paths
// without splits, a split given twice, a value that is both an existing file
// and SPLIT=FILE, SPLIT=FILE with --split.
func (f *importFlags) tableFiles(cmd *cobra.Command, source string) ([]importer.TableFile, error) {
	table := source == "csv" || source == "jsonl"
	var files []importer.TableFile
	seen := map[string]string{}
	for _, v := range f.from {
		split, path, ok := strings.Cut(v, "=")
		if ok && datasets.ValidateSplit(split) == nil && path != "" {
			if _, err := os.Stat(v); err == nil {
				return nil, usageErrorf("%s: --from %q: a file of that name exists and it reads as SPLIT=FILE too; write ./%s for the file", cmd.CommandPath(), v, v)
			}
			if !table {
				return nil, usageErrorf("%s: --from %s=FILE: one file per split applies to csv and jsonl, not %s", cmd.CommandPath(), split, source)
			}
			if prev, dup := seen[split]; dup {
				return nil, usageErrorf("%s: --from %s= given twice (%s and %s): put the split's rows in one file", cmd.CommandPath(), split, prev, path)
			}
			seen[split] = path
			files = append(files, importer.TableFile{Path: path, Split: split})
			continue
		}
		files = append(files, importer.TableFile{Path: v})
	}
	switch {
	case len(files) > 1 && len(seen) != len(files):
		return nil, usageErrorf("%s: --from given %d times: name each file's split, e.g. --from train=train.csv --from test=test.csv",
			cmd.CommandPath(), len(files))
	case len(seen) > 0 && cmd.Flags().Changed("split"):
		return nil, usageErrorf("%s: --split and --from SPLIT=FILE both set the split: use one", cmd.CommandPath())
	}
	return files, nil
}

// checkNames checks the names the import writes before it reads anything:
// --version would otherwise fail only at the commit, after every file was
// read, and a --split outside --splits would reject every row.
func (f *importFlags) checkNames(cmd *cobra.Command) error {
	if f.version != "" {
		if err := datasets.ValidateVersion(f.version); err != nil {
			return fmt.Errorf("--version: %w", err)
		}
	}
	for _, s := range f.splits {
		if err := datasets.ValidateSplit(s); err != nil {
			return fmt.Errorf("--splits: %w", err)
		}
	}
	if cmd.Flags().Changed("split") {
		if err := datasets.ValidateSplit(f.split); err != nil {
			return fmt.Errorf("--split: %w", err)
		}
		if !slices.Contains(f.splits, f.split) {
			return fmt.Errorf("--split %s: not one of --splits (%s)", f.split, strings.Join(f.splits, ", "))
		}
	}
	return nil
}

// checkTask resolves --task for a source: each benchmark has its task(s), and
// csv and jsonl need one.
func (f *importFlags) checkTask(source string) (schemas.Task, error) {
	fixed := map[string]schemas.Task{"clinc150": schemas.EdgeIntent, "bfcl": schemas.EdgeFuncCall}[source]
	if f.task == "" {
		switch source {
		case "csv", "jsonl":
			return "", fmt.Errorf("--task is required for %s: edgejson, edgeintent or edgefunccall", source)
		case "snips":
			return schemas.EdgeJSON, nil
		}
		return fixed, nil
	}
	task, err := schemas.ParseTask(f.task)
	if err != nil {
		return "", fmt.Errorf("--task: %w", err)
	}
	if fixed != "" && task != fixed {
		return "", fmt.Errorf("--task %s: %s imports as %s", task, source, fixed)
	}
	if source == "snips" && task == schemas.EdgeFuncCall {
		return "", fmt.Errorf("--task %s: snips imports as edgejson or edgeintent", task)
	}
	return task, nil
}

// printImport prints the version written (or found) and its rows per split.
func printImport(a *app, d *importer.Dataset, m *datasets.Manifest, reused bool) error {
	if reused {
		fmt.Fprintf(a.out, "%s already imported as %s (same files and options; --force writes a new version): %d rows\n",
			d.Source, m.Ref(), m.Rows())
	} else {
		fmt.Fprintf(a.out, "imported %s into %s: %d rows\n", d.Source, m.Ref(), m.Rows())
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SPLIT\tROWS")
	for _, name := range m.SplitNames() {
		fmt.Fprintf(tw, "  %s\t%d\n", name, m.Splits[name].Rows)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range d.Files {
		switch {
		case f.Encoding == "latin-1":
			fmt.Fprintf(a.err, "note: %s is not UTF-8: read as Latin-1\n", f.Name)
		case f.Encoding != "":
			for _, r := range f.Repairs {
				fmt.Fprintf(a.err, "note: %s is UTF-8 with an invalid sequence: %s (recorded in the provenance)\n", f.Name, r)
			}
		}
	}
	for _, w := range d.Warnings {
		fmt.Fprintf(a.err, "warning: %s\n", w)
	}
	for _, r := range d.BadRows {
		fmt.Fprintf(a.err, "skipped %s\n", r)
	}
	if n := len(d.BadRows); n > 0 {
		fmt.Fprintf(a.err, "%d bad row(s) skipped (listed in the manifest's provenance.bad_rows; --strict stops at the first)\n", n)
	}
	_, err := fmt.Fprintf(a.out, "%s\n", m.Notes)
	return err
}
