package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// Write builds the report of results (see Build) and writes it into dir,
// creating it: report.md, results.json, the predictions files, the plots and
// the confusion matrices. Every file is replaced atomically, so a reader never
// sees a half-written one; results.json goes last, so its presence means the
// files it names exist. It returns what results.json holds.
func Write(dir string, results []Result, lin Lineage) (*File, error) {
	f, err := Build(results, lin)
	if err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	for _, sub := range []string{PredictionsDir, ConfusionDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("create report dir: %w", err)
		}
	}
	for i := range f.Jobs {
		if err := writeJobFiles(dir, &f.Jobs[i]); err != nil {
			return nil, err
		}
	}
	if f.Plots.AccuracyVsSize != "" {
		err := writeFile(dir, f.Plots.AccuracyVsSize, func(w io.Writer) error { return writeAccuracyPlot(w, f) })
		if err != nil {
			return nil, err
		}
	}
	if f.Plots.Latency != "" {
		if err := writeFile(dir, f.Plots.Latency, func(w io.Writer) error { return writeLatencyPlot(w, f) }); err != nil {
			return nil, err
		}
	}
	md := f.Markdown()
	if err := writeFile(dir, MarkdownFile, func(w io.Writer) error { _, err := io.WriteString(w, md); return err }); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", ResultsFile, err)
	}
	if err := writeFile(dir, ResultsFile, func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err }); err != nil {
		return nil, err
	}
	for i := range f.Jobs {
		f.Jobs[i].report = nil // the examples are on disk now; do not pin them in memory
	}
	return f, nil
}

// jobFiles names a job's files: its predictions and, for an EdgeIntent job
// with a confusion matrix, the matrix as PNG and CSV.
func jobFiles(j *Job) JobFiles {
	fs := JobFiles{Predictions: PredictionsDir + "/" + j.Key + predictionsFileExt}
	if j.Confusion != nil {
		fs.ConfusionPNG = ConfusionDir + "/" + j.Key + ".png"
		fs.ConfusionCSV = ConfusionDir + "/" + j.Key + ".csv"
	}
	return fs
}

// writeJobFiles writes the files jobFiles names.
func writeJobFiles(dir string, j *Job) error {
	if err := writePredictions(filepath.Join(dir, filepath.FromSlash(j.Files.Predictions)), j); err != nil {
		return fmt.Errorf("job %s: %w", j.Key, err)
	}
	if j.Files.ConfusionPNG == "" {
		return nil
	}
	if err := writeFile(dir, j.Files.ConfusionPNG, j.Confusion.WritePNG); err != nil {
		return fmt.Errorf("job %s: %w", j.Key, err)
	}
	if err := writeFile(dir, j.Files.ConfusionCSV, j.Confusion.WriteCSV); err != nil {
		return fmt.Errorf("job %s: %w", j.Key, err)
	}
	return nil
}

// writeFile writes dir/rel atomically through write.
func writeFile(dir, rel string, write func(io.Writer) error) error {
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if err := atomicfile.Write(path, 0o644, func(f *os.File) error { return write(f) }); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
