package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/datasets"
)

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
