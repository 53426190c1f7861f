package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"

	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// PredictionRow is one row of predictions/<job key>.parquet: one scored
// example. JSON columns are plain strings, as in dataset files, so DuckDB's
// json functions work on them (json_extract(metrics, '$.field_f1')). Optional
// columns are NULL when empty.
type PredictionRow struct {
	// ID is the example's record id.
	ID string `parquet:"id" json:"id"`
	// Job is the job key; Model the model reference.
	Job   string `parquet:"job" json:"job"`
	Model string `parquet:"model" json:"model"`
	// Task is the task; Dataset the split's label (name@version/split); Variant the variant label.
	Task    string `parquet:"task" json:"task"`
	Dataset string `parquet:"dataset" json:"dataset"`
	Variant string `parquet:"variant" json:"variant"`
	// Raw is the model's output, unmodified.
	Raw string `parquet:"raw" json:"raw"`
	// TurnOutputs is the JSON array of per-turn outputs of an interactive multi-turn run.
	TurnOutputs string `parquet:"turn_outputs,optional" json:"turn_outputs,omitempty"`
	// Parsed is the parsed form the metrics used, as JSON (NULL when parsing failed).
	Parsed string `parquet:"parsed,optional" json:"parsed,omitempty"`
	// ParseError says why the output did not parse.
	ParseError string `parquet:"parse_error,optional" json:"parse_error,omitempty"`
	// Missing is set when the model gave no prediction; Truncated when
	// generation hit its token limit.
	Missing   bool `parquet:"missing" json:"missing"`
	Truncated bool `parquet:"truncated" json:"truncated"`
	// Correct is the example's headline verdict.
	Correct bool `parquet:"correct" json:"correct"`
	// Metrics is the JSON object of per-example metric values.
	Metrics string `parquet:"metrics,optional" json:"metrics,omitempty"`
	// ASTErrorType and ASTError are the BFCL AST checker's verdict on an
	// EdgeFuncCall example that it rejected (NULL when it passed or was not checked).
	ASTErrorType string `parquet:"ast_error_type,optional" json:"ast_error_type,omitempty"`
	ASTError     string `parquet:"ast_error,optional" json:"ast_error,omitempty"`
	// MaskFallback says why a constrained run decoded this example without
	// its JSON-Schema mask (NULL when it had one, or the run was unconstrained).
	MaskFallback string `parquet:"mask_fallback,optional" json:"mask_fallback,omitempty"`
	// LatencyMS, PromptTokens and OutputTokens are the example's cost.
	LatencyMS    float64 `parquet:"latency_ms" json:"latency_ms"`
	PromptTokens int64   `parquet:"prompt_tokens" json:"prompt_tokens"`
	OutputTokens int64   `parquet:"output_tokens" json:"output_tokens"`
}

// predictionRow converts one scored example.
func predictionRow(j *Job, ex *eval.ExampleResult) (PredictionRow, error) {
	r := PredictionRow{ID: ex.ID, Job: j.Key, Model: j.Model.Ref, Task: j.Dataset.Task, Dataset: j.Dataset.Label(),
		Variant: j.VariantLabel, Raw: ex.Raw, Parsed: string(ex.Parsed), ParseError: ex.ParseError,
		Missing: ex.Missing, Truncated: ex.Truncated, Correct: ex.Correct, LatencyMS: ex.Cost.LatencyMS,
		PromptTokens: int64(ex.Cost.PromptTokens), OutputTokens: int64(ex.Cost.OutputTokens), MaskFallback: ex.MaskFallback}
	if ex.AST != nil && !ex.AST.Valid {
		r.ASTErrorType, r.ASTError = ex.AST.ErrorType, ex.AST.Error
	}
	if len(ex.TurnOutputs) > 0 {
		b, err := json.Marshal(ex.TurnOutputs)
		if err != nil {
			return r, fmt.Errorf("example %q: field turn_outputs: %w", ex.ID, err)
		}
		r.TurnOutputs = string(b)
	}
	if len(ex.Metrics) > 0 {
		b, err := json.Marshal(ex.Metrics) // keys sorted: byte-identical reruns
		if err != nil {
			return r, fmt.Errorf("example %q: field metrics: %w", ex.ID, err)
		}
		r.Metrics = string(b)
	}
	return r, nil
}

// predictionsBatch rows are converted and written at a time, and a row group
// is cut every predictionsGroup rows: parquet-go holds a row group's pages in
// memory, and raw outputs may reach eval.DefaultMaxOutputBytes.
const (
	predictionsBatch = 256
	predictionsGroup = 8192
)

// writePredictions writes the job's examples to path atomically (a temp file
// in the same directory, fsynced and renamed), zstd-compressed.
func writePredictions(path string, j *Job) error {
	var examples []eval.ExampleResult
	if j.report != nil {
		examples = j.report.Examples
	}
	err := atomicfile.Write(path, 0o644, func(f *os.File) error {
		pw := parquet.NewGenericWriter[PredictionRow](f, parquet.Compression(&parquet.Zstd),
			parquet.CreatedBy("mlmforge", "eval/report", fmt.Sprint(FormatVersion)))
		rows := make([]PredictionRow, 0, predictionsBatch)
		for start := 0; start < len(examples); start += predictionsBatch {
			rows = rows[:0]
			for i := start; i < min(start+predictionsBatch, len(examples)); i++ {
				r, err := predictionRow(j, &examples[i])
				if err != nil {
					return err
				}
				rows = append(rows, r)
			}
			if err := safely(func() error { _, err := pw.Write(rows); return err }); err != nil {
				return fmt.Errorf("write rows %d-%d: %w", start, start+len(rows)-1, err)
			}
			if end := start + len(rows); end%predictionsGroup == 0 && end < len(examples) {
				if err := safely(pw.Flush); err != nil {
					return fmt.Errorf("flush row group at row %d: %w", end, err)
				}
			}
		}
		if err := safely(pw.Close); err != nil {
			return fmt.Errorf("close parquet writer: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write predictions %s: %w", path, err)
	}
	return nil
}

// ReadPredictions reads every row of a predictions file, in file order.
func ReadPredictions(path string) ([]PredictionRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read predictions: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read predictions: %w", err)
	}
	var out []PredictionRow
	err = safely(func() error {
		pf, err := parquet.OpenFile(f, st.Size())
		if err != nil {
			return err
		}
		r := parquet.NewGenericReader[PredictionRow](pf)
		defer r.Close()
		buf := make([]PredictionRow, predictionsBatch)
		for {
			n, err := r.Read(buf)
			out = append(out, buf[:n]...)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("row %d: %w", len(out), err)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read predictions %s: %w", path, err)
	}
	return out, nil
}

// safely turns a panic inside parquet-go (it panics on some corrupt inputs)
// into an error.
func safely(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet: %v", p)
		}
	}()
	return f()
}
