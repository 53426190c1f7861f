package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/eval/runner"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

type evalFlags struct {
	cluster  clusterFlags
	in       workflows.EvalInput
	tasks    []string
	detach   bool
	timeout  time.Duration
	datasets []string
}

func newEvalCmd(a *app) *cobra.Command {
	var f evalFlags
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Evaluate students and Ollama baselines on SLM-Bench tasks (Temporal workflow on the eval queue)",
		Long: `eval runs the Evaluate workflow: every model answers every record of the
datasets' test split, shard by shard (an interrupted evaluation resumes without
redoing finished shards), and one report is written to HOME/reports/<workflow id>/:
report.md (tables like the SLM-Bench paper's), results.json, per-example
predictions in Parquet, and PNG plots (accuracy vs size, latency, confusion).

Models: ollama:<tag> (the model must be pulled; Ollama at $OLLAMA_HOST) and
student:<checkpoint dir> (evaluated with the Go inference). Without --dataset,
the newest version of each task in --tasks is used.`,
		Example: `  mlmforge eval --models ollama:qwen2.5:0.5b,student:runs/train-ab12/checkpoints/step-00000400 --tasks edgeintent
  mlmforge eval --models ollama:qwen2.5:0.5b --dataset edgejson@v2 --dataset edgefunccall@v1 --limit 200
  mlmforge eval --models ollama:llama3.2:1b --tasks edgeintent --shots 0,1,5`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.resolve(a); err != nil {
				return &usageError{err}
			}
			return runEval(cmd.Context(), a, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cluster.address, "address", "", "Temporal frontend HOST:PORT; empty runs an embedded server and worker in this process")
	fl.StringVar(&f.cluster.namespace, "namespace", workflows.DefaultNamespace, "Temporal namespace")
	f.cluster.tls.register(fl)
	fl.StringSliceVar(&f.in.Models, "models", nil, "models to evaluate: ollama:<tag>, student:<checkpoint dir> (required)")
	fl.StringSliceVar(&f.tasks, "tasks", []string{"edgejson", "edgeintent", "edgefunccall"}, "tasks whose newest dataset is evaluated (when no --dataset)")
	fl.StringArrayVar(&f.datasets, "dataset", nil, "dataset reference TASK@VERSION (repeatable); overrides --tasks")
	fl.StringVar(&f.in.Split, "split", "test", "split to evaluate")
	fl.IntVar(&f.in.Limit, "limit", 0, "records per dataset (0 = all)")
	fl.IntSliceVar(&f.in.Shots, "shots", []int{0}, "few-shot variants of EdgeIntent baselines, e.g. 0,1,5")
	fl.BoolVar(&f.in.Constrained, "constrained", false, "also run decoder students with JSON-Schema constrained decoding")
	fl.IntVar(&f.in.ShardSize, "shard-size", 100, "records per shard activity")
	fl.IntVar(&f.in.MaxParallel, "parallel", 2, "shards evaluated at once")
	fl.BoolVar(&f.detach, "detach", false, "start the workflow and print its id instead of waiting (needs --address)")
	return cmd
}

// Upper bounds of eval's sizes: a shard is one activity's work, and parallel
// shards each hold a model in memory.
const (
	maxEvalShardSize = 10_000
	maxEvalParallel  = 64
)

// resolve checks every flag before a workflow starts, naming the flag, and
// fills the dataset list. With the embedded server the datasets and student
// checkpoints are on this machine, so they must exist; with --address they
// are on the workers'.
func (f *evalFlags) resolve(a *app) error {
	if len(f.in.Models) == 0 {
		return fmt.Errorf("--models is required (e.g. ollama:qwen2.5:0.5b,student:runs/x/checkpoints/step-00000400)")
	}
	local := f.cluster.address == ""
	for _, m := range f.in.Models {
		kind, name, err := runner.ParseRef(m)
		if err != nil {
			return fmt.Errorf("--models %q: want ollama:<tag> or student:<checkpoint dir>", m)
		}
		if kind == "student" && local {
			if _, err := os.Stat(filepath.Join(name, "config.json")); err != nil {
				return fmt.Errorf("--models %s: not a student checkpoint: %w", m, err)
			}
		}
	}
	if f.detach && f.cluster.address == "" {
		return fmt.Errorf("--detach needs --address (the embedded server stops with this process)")
	}
	if err := datasets.ValidateSplit(f.in.Split); err != nil {
		return fmt.Errorf("--split: %w", err)
	}
	switch {
	case f.in.Limit < 0 || f.in.Limit > workflows.MaxExamples:
		return fmt.Errorf("--limit %d: want 0 (all) to %d", f.in.Limit, workflows.MaxExamples)
	case f.in.ShardSize < 1 || f.in.ShardSize > maxEvalShardSize:
		return fmt.Errorf("--shard-size %d: want 1 to %d", f.in.ShardSize, maxEvalShardSize)
	case f.in.MaxParallel < 1 || f.in.MaxParallel > maxEvalParallel:
		return fmt.Errorf("--parallel %d: want 1 to %d", f.in.MaxParallel, maxEvalParallel)
	}
	for i, s := range f.in.Shots {
		if s < 0 || s > 20 {
			return fmt.Errorf("--shots[%d] = %d: want 0..20", i, s)
		}
	}
	f.in.Datasets = slices.Clone(f.datasets)
	if len(f.in.Datasets) == 0 {
		for _, t := range f.tasks {
			task, err := schemas.ParseTask(t)
			if err != nil {
				return fmt.Errorf("--tasks: %w", err)
			}
			f.in.Datasets = append(f.in.Datasets, string(task)+"@latest")
		}
		return nil
	}
	return checkDatasetRefs(a, "--dataset", f.in.Datasets, local)
}

// checkDatasetRefs parses TASK@VERSION references given with flag and, when
// local, opens each in the home's store.
func checkDatasetRefs(a *app, flag string, refs []string, local bool) error {
	var store *datasets.Store
	if local {
		s, err := datasets.Open(filepath.Join(a.home, "datasets"))
		if err != nil {
			return err
		}
		store = s
	}
	for _, ref := range refs {
		task, version, err := datasets.ParseRef(ref)
		if err != nil {
			return fmt.Errorf("%s: %w", flag, err)
		}
		if store != nil {
			if _, err := store.Version(task, version); err != nil {
				return fmt.Errorf("%s: %w", flag, err)
			}
		}
	}
	return nil
}

func evalWorkflowID(in workflows.EvalInput) string {
	b, _ := json.Marshal(in)
	h := sha256.Sum256(b)
	return "eval-" + hex.EncodeToString(h[:])[:16]
}

func runEval(ctx context.Context, a *app, f evalFlags) error {
	for _, m := range f.in.Models {
		if err := checkTeacher(ctx, m, f.cluster.address != ""); err != nil {
			return err
		}
	}
	c, cleanup, err := connect(ctx, a, f.cluster)
	if err != nil {
		return err
	}
	defer cleanup()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: evalWorkflowID(f.in), TaskQueue: workflows.TaskQueueWorkflows,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.EvaluateWorkflowName, f.in)
	if err != nil {
		return fmt.Errorf("start evaluate workflow: %w", err)
	}
	if f.detach {
		fmt.Fprintln(a.out, run.GetID())
		return nil
	}
	fmt.Fprintf(a.out, "Evaluate workflow %s: %s on %s\n", run.GetID(), strings.Join(f.in.Models, ", "), strings.Join(f.in.Datasets, ", "))
	res, err := followEval(ctx, a, c, run, f.cluster.address == "")
	if err != nil {
		return err
	}
	printEvalResult(a, res)
	return nil
}

func followEval(ctx context.Context, a *app, c client.Client, run client.WorkflowRun, embedded bool) (workflows.EvalResult, error) {
	var res workflows.EvalResult
	start := time.Now()
	err := followRun(ctx, a, run, &res, "evaluate", embedded, "it without redoing the finished shards", func() (string, bool) {
		var p workflows.EvalProgress
		v, err := c.QueryWorkflow(ctx, run.GetID(), "", workflows.EvalProgressQuery)
		if err != nil || v.Get(&p) != nil {
			return "", false
		}
		return evalLine(p, time.Since(start)), true
	})
	return res, err
}

// followRun waits for run's result in res, drawing poll's progress line every
// half second until the run ends or ctx does (see interrupted). embedded says
// whether this process's own server and worker run it; resume says what a
// rerun of the same command picks up.
func followRun(ctx context.Context, a *app, run client.WorkflowRun, res any, what string, embedded bool, resume string,
	poll func() (string, bool)) error {
	done := make(chan error, 1)
	go func() { done <- getResult(ctx, run, res) }()
	b := newBar(a.err)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			b.finish()
			if err != nil {
				return fmt.Errorf("%s workflow %s: %w", what, run.GetID(), err)
			}
			return nil
		case <-tick.C:
			if line, ok := poll(); ok {
				b.line(line, false)
			}
		case <-ctx.Done():
			b.finish()
			return interrupted(what, run.GetID(), embedded, resume, ctx.Err())
		}
	}
}

// interruptedError is a wait ended by Ctrl+C: its message is for the user,
// and it still unwraps to the context's error.
type interruptedError struct {
	msg string
	err error
}

func (e *interruptedError) Error() string { return e.msg }
func (e *interruptedError) Unwrap() error { return e.err }

// interrupted says what became of a workflow whose wait ended by Ctrl+C.
// With --address the cluster's workers go on with it. On the embedded
// server nothing runs it once this process exits, but its state stays in
// the home's database and its id derives from the request: the same command
// attaches to it again and goes on (a training from its last checkpoint).
func interrupted(what, id string, embedded bool, resume string, err error) error {
	if !embedded {
		return &interruptedError{fmt.Sprintf("stopped waiting; the %s workflow %s goes on where a worker runs it", what, id), err}
	}
	return &interruptedError{fmt.Sprintf("interrupted: the %s workflow %s stops with this process (its embedded server and worker ran here); "+
		"run the same command again to resume %s", what, id, resume), err}
}

func evalLine(p workflows.EvalProgress, elapsed time.Duration) string {
	const width = 30
	frac := 0.0
	if p.ShardsTotal > 0 {
		frac = float64(p.ShardsDone) / float64(p.ShardsTotal)
	}
	filled := min(width, int(frac*width))
	eta := "-"
	if frac > 0 && frac < 1 {
		eta = (time.Duration(float64(elapsed)/frac) - elapsed).Round(time.Second).String()
	}
	return fmt.Sprintf("[%s%s] shards %d/%d  %s  eta %s", strings.Repeat("#", filled), strings.Repeat("-", width-filled),
		p.ShardsDone, p.ShardsTotal, p.Phase, eta)
}

func printEvalResult(a *app, r workflows.EvalResult) {
	fmt.Fprintln(a.out, r.Table)
	for _, s := range r.Skipped {
		fmt.Fprintf(a.out, "skipped: %s\n", s)
	}
	if r.ReusedShards > 0 {
		fmt.Fprintf(a.out, "%d of %d shards reused from an earlier run\n", r.ReusedShards, r.Shards)
	}
	fmt.Fprintf(a.out, "Report: %s/report.md (results.json, predictions/, plots)\n", r.ReportDir)
}
