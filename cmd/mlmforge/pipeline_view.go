package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"golang.org/x/term"

	"github.com/cyclecore/mlmforge/workflows"
)

// pipelineWorkflowID derives the id from the spec: running the same spec again
// attaches to a run in progress, or starts a new run whose unchanged steps are
// reused.
func pipelineWorkflowID(spec workflows.PipelineSpec) string {
	b, _ := json.Marshal(spec)
	h := sha256.Sum256(b)
	return "pipeline-" + spec.Name + "-" + hex.EncodeToString(h[:])[:12]
}

// startPipeline starts the Pipeline run of spec, or attaches to the one
// already running under its id.
func startPipeline(ctx context.Context, c client.Client, spec workflows.PipelineSpec) (client.WorkflowRun, error) {
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: pipelineWorkflowID(spec), TaskQueue: workflows.TaskQueueWorkflows,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.PipelineWorkflowName, spec)
	if err != nil {
		return nil, fmt.Errorf("start pipeline %s: %w", spec.Name, err)
	}
	return run, nil
}

// runPipeline starts (or attaches to) a Pipeline run and follows it.
func runPipeline(ctx context.Context, a *app, c client.Client, spec workflows.PipelineSpec) (workflows.PipelineResult, error) {
	run, err := startPipeline(ctx, c, spec)
	if err != nil {
		return workflows.PipelineResult{}, err
	}
	fmt.Fprintf(a.out, "    workflow %s (follow it elsewhere with mlmforge status %s)\n", run.GetID(), run.GetID())
	done := make(chan error, 1)
	var res workflows.PipelineResult
	go func() { done <- getResult(ctx, run, &res) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	tree := &treeView{w: a.err, tty: isTerminal(a.err)}
	for {
		select {
		case err := <-done:
			if err != nil {
				return res, fmt.Errorf("pipeline workflow %s: %w", run.GetID(), err)
			}
			return res, nil
		case <-tick.C:
			p, err := queryPipeline(ctx, c, run.GetID())
			if err != nil {
				continue
			}
			var b strings.Builder
			printPipelineTree(ctx, &b, c, p)
			tree.show(b.String(), stepStates(p))
		case <-ctx.Done():
			return res, fmt.Errorf("stopped waiting; the pipeline %s goes on where a worker runs it: %w", run.GetID(), ctx.Err())
		}
	}
}

// treeView redraws the step tree in place on a terminal; elsewhere it prints
// the tree when a step changes state, and at most every 30 s otherwise.
type treeView struct {
	w         io.Writer
	tty       bool
	lines     int
	states    string
	lastPrint time.Time
}

func (v *treeView) show(tree, states string) {
	if v.tty {
		if v.lines > 0 {
			fmt.Fprintf(v.w, "\x1b[%dA", v.lines)
		}
		fmt.Fprint(v.w, strings.ReplaceAll(tree, "\n", "\x1b[K\n"))
		v.lines = strings.Count(tree, "\n")
		return
	}
	if states != v.states || time.Since(v.lastPrint) > 30*time.Second {
		fmt.Fprint(v.w, tree)
		fmt.Fprintln(v.w)
		v.states, v.lastPrint = states, time.Now()
	}
}

func stepStates(p workflows.PipelineProgress) string {
	var b strings.Builder
	for _, s := range p.Steps {
		b.WriteString(s.State + ",")
	}
	return b.String()
}

func queryPipeline(ctx context.Context, c client.Client, id string) (workflows.PipelineProgress, error) {
	var p workflows.PipelineProgress
	v, err := c.QueryWorkflow(ctx, id, "", workflows.PipelineProgressQuery)
	if err != nil {
		return p, err
	}
	return p, v.Get(&p)
}

// printPipelineTree prints one line per step, with the running child's own
// progress: generation or review counts, training step and loss, shards.
func printPipelineTree(ctx context.Context, w io.Writer, c client.Client, p workflows.PipelineProgress) {
	for _, s := range p.Steps {
		line := fmt.Sprintf("    %-22s %-9s", s.Name, s.State)
		if s.State == "running" && s.WorkflowID != "" {
			line += " " + childProgress(ctx, c, s)
		} else if s.Detail != "" {
			line += " " + s.Detail
		}
		fmt.Fprintln(w, line)
	}
}

func childProgress(ctx context.Context, c client.Client, s workflows.PipelineStep) string {
	switch {
	case strings.HasPrefix(s.Name, "dataset"):
		p, err := queryProgress(ctx, c, s.WorkflowID)
		if err != nil {
			return s.WorkflowID
		}
		if p.Phase == "review" {
			var rs workflows.ReviewStatus
			if v, err := c.QueryWorkflow(ctx, s.WorkflowID, "", workflows.ReviewQuery); err == nil && v.Get(&rs) == nil {
				return fmt.Sprintf("waiting for review: %d/%d decided (mlmforge review ls)", rs.Progress.Decided, rs.Progress.Sampled)
			}
		}
		return fmt.Sprintf("%s %d/%d examples", p.Phase, sum(p.Done), sum(p.Target))
	case strings.HasPrefix(s.Name, "train"):
		if hb, ok := trainHeartbeat(ctx, c, s.WorkflowID); ok {
			return trainLine(hb)
		}
	case s.Name == "evaluate":
		var ep workflows.EvalProgress
		if v, err := c.QueryWorkflow(ctx, s.WorkflowID, "", workflows.EvalProgressQuery); err == nil && v.Get(&ep) == nil {
			return evalLine(ep, 0)
		}
	}
	return s.WorkflowID
}

func printPipelineResult(a *app, r workflows.PipelineResult) {
	fmt.Fprintln(a.out)
	for _, d := range r.Datasets {
		fmt.Fprintf(a.out, "    dataset    %s@%s  %s\n", d.Task, d.Version, d.Dir)
	}
	for _, s := range r.Trained {
		fmt.Fprintf(a.out, "    checkpoint %-14s %s\n", s.Name, s.Checkpoint)
	}
	fmt.Fprintf(a.out, "\n%s\n", r.Eval.Table)
	fmt.Fprintf(a.out, "Report: %s/report.md (results.json, predictions/, *.png)\n", r.Eval.ReportDir)
	for _, p := range r.Promotions {
		fmt.Fprintf(a.out, "Promotion %s: %s\n", p.Name, p.Reason)
	}
	if len(r.Reused) > 0 {
		fmt.Fprintf(a.out, "Reused (inputs unchanged): %s\n", strings.Join(r.Reused, ", "))
	}
	fmt.Fprintf(a.out, "Lineage: %s\n", r.Lineage)
}

// isTerminal reports whether w is a terminal (progress is then redrawn in place).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
