package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/eval/report"
	"github.com/cyclecore/mlmforge/eval/runner"
	"github.com/cyclecore/mlmforge/schemas"
)

// scoreFlags are the flags of `mlmforge score`.
type scoreFlags struct {
	dataset, predictions, split, model, out string
	params, sizeBytes                       int64
}

func newScoreCmd(a *app) *cobra.Command {
	var f scoreFlags
	cmd := &cobra.Command{
		Use:   "score --dataset REF --predictions FILE.jsonl",
		Short: "Score another system's outputs on a dataset split by the evaluation's rules",
		Long: `score reads a predictions file, one JSON object per line with the record's "id"
and the model's raw output ("raw", or "output"), scores it against a dataset
split exactly as mlmforge eval scores its models, and writes the same report
(report.md, results.json, predictions/, plots) to --out, by default
HOME/reports/score-<hash>/. It prints the results table.

A line may also carry the other fields eval keeps per prediction:
"turn_outputs" (one output per user turn of a multi-turn dialogue), "ranked"
or "scores" (EdgeIntent rankings for top-5), "truncated", and "cost"
({"latency_ms", "prompt_tokens", "output_tokens"}). A record without a line
scores as a failure (missing_predictions); a line for no record, a repeated
id or an unknown field is an error naming the line.`,
		Example: `  mlmforge score --dataset edgefunccall@v3 --predictions gpt4o.jsonl --model openai:gpt-4o
  mlmforge score --dataset edgejson@v2 --predictions outputs.jsonl --params 360000000 --out reports/mine`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.dataset == "" || f.predictions == "" {
				return usageErrorf("%s: --dataset and --predictions are required", cmd.CommandPath())
			}
			return runScore(a, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dataset, "dataset", "", "dataset reference TASK@VERSION (required)")
	fl.StringVar(&f.predictions, "predictions", "", "JSON Lines file of {\"id\", \"raw\"} (required)")
	fl.StringVar(&f.split, "split", "test", "split the predictions answer")
	fl.StringVar(&f.model, "model", "", "the model's name in the report (default the predictions file's name)")
	fl.Int64Var(&f.params, "params", 0, "the model's parameter count, to place it on the size plot (0 = unknown)")
	fl.Int64Var(&f.sizeBytes, "size-bytes", 0, "the model's size on disk in bytes, for its category (0 = unknown)")
	fl.StringVar(&f.out, "out", "", "report directory (default HOME/reports/score-<hash of the inputs>)")
	return cmd
}

// runScore scores the predictions and writes the report.
func runScore(a *app, f scoreFlags) error {
	v, err := datasetsVersion(a, f.dataset)
	if err != nil {
		return err
	}
	recs, err := v.Read(f.split)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(f.predictions)
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	preds, err := readPredictions(bytes.NewReader(data), filepath.Base(f.predictions))
	if err != nil {
		return err
	}
	cat, err := schemas.Load()
	if err != nil {
		return err
	}
	scorer, err := eval.NewScorer(cat)
	if err != nil {
		return err
	}
	rep, err := scorer.Score(recs, preds)
	if err != nil {
		return fmt.Errorf("score %s on %s: %w", f.predictions, v.Manifest().Ref(), err)
	}
	m := v.Manifest()
	name := f.model
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(f.predictions), filepath.Ext(f.predictions))
	}
	sum := sha256.Sum256(append([]byte(m.Ref()+"\x00"+f.split+"\x00"+name+"\x00"), data...))
	dir := f.out
	if dir == "" {
		dir = filepath.Join(a.home, "reports", "score-"+hex.EncodeToString(sum[:])[:16])
	}
	res := report.Result{Report: rep, Model: runner.ModelInfo{Ref: name, Kind: "external", Params: f.params, SizeBytes: f.sizeBytes,
		Digest: "sha256:" + hex.EncodeToString(sum[:])}, Dataset: report.Dataset{Task: m.Task, Name: m.Task, Version: m.Version,
		Split: f.split, N: len(recs)}}
	machine, _ := report.DetectMachine()
	file, err := report.Write(dir, []report.Result{res}, report.Lineage{GeneratedAt: time.Now().UTC(),
		GitCommit: report.DetectGitCommit(), Machine: machine})
	if err != nil {
		return err
	}
	fmt.Fprint(a.out, file.Table())
	if rep.MissingPredictions > 0 {
		fmt.Fprintf(a.err, "%d of %d records had no prediction: scored as failures\n", rep.MissingPredictions, rep.N)
	}
	fmt.Fprintf(a.out, "Report: %s/report.md (results.json, predictions/, plots)\n", dir)
	return nil
}

// readPredictions reads one prediction per line: eval.Prediction's fields,
// with "output" accepted for "raw". Unknown fields are an error, so that a
// misspelt key does not score every example as empty output.
func readPredictions(r io.Reader, name string) ([]eval.Prediction, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), eval.DefaultMaxOutputBytes*4)
	var out []eval.Prediction
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var p struct {
			eval.Prediction
			Output *string `json:"output"`
		}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("score: %s:%d: %w (want {\"id\": ..., \"raw\": ...})", name, line, err)
		}
		if p.Output != nil {
			if p.Raw != "" {
				return nil, fmt.Errorf("score: %s:%d: both \"raw\" and \"output\": give one", name, line)
			}
			p.Raw = *p.Output
		}
		if p.ID == "" {
			return nil, fmt.Errorf("score: %s:%d: no \"id\"", name, line)
		}
		p.Parsed, p.ParseError = nil, "" // the scorer's to fill
		out = append(out, p.Prediction)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("score: %s: a line longer than %d bytes", name, eval.DefaultMaxOutputBytes*4)
		}
		return nil, fmt.Errorf("score: %s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("score: %s: no predictions", name)
	}
	return out, nil
}
