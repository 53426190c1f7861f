package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"golang.org/x/term"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/worker/reviewgate"
	"github.com/cyclecore/mlmforge/workflows"
)

// followDataset polls the progress query and draws a bar until the workflow ends.
func followDataset(ctx context.Context, a *app, c client.Client, run client.WorkflowRun) (workflows.DatasetResult, error) {
	done := make(chan error, 1)
	var res workflows.DatasetResult
	go func() { done <- getResult(ctx, run, &res) }()
	bar := newBar(a.err)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err == nil {
				bar.draw(workflows.DatasetProgress{Phase: "done", Done: res.Counts, Target: res.Counts, Stats: res.Stats})
			}
			bar.finish()
			if err != nil {
				return res, fmt.Errorf("dataset workflow %s: %w", run.GetID(), err)
			}
			return res, nil
		case <-tick.C:
			if p, err := queryProgress(ctx, c, run.GetID()); err == nil {
				bar.draw(p)
			}
		case <-ctx.Done():
			bar.finish()
			return res, fmt.Errorf("stopped waiting; the workflow %s goes on where a worker runs it: %w", run.GetID(), ctx.Err())
		}
	}
}

func queryProgress(ctx context.Context, c client.Client, id string) (workflows.DatasetProgress, error) {
	var p workflows.DatasetProgress
	v, err := c.QueryWorkflow(ctx, id, "", workflows.DatasetProgressQuery)
	if err != nil {
		return p, err
	}
	return p, v.Get(&p)
}

// bar draws progress on a terminal in place, or as a line every few seconds
// when the output is a file or pipe.
type bar struct {
	w       io.Writer
	tty     bool
	start   time.Time
	last    time.Time
	drawn   bool
	lastMsg string
}

func newBar(w io.Writer) *bar {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &bar{w: w, tty: tty, start: time.Now()}
}

func (b *bar) draw(p workflows.DatasetProgress) {
	done, target := sum(p.Done), sum(p.Target)
	frac := 0.0
	if target > 0 {
		frac = float64(done) / float64(target)
	}
	const width = 30
	filled := min(width, int(frac*width))
	eta := "-"
	if el := time.Since(b.start); frac > 0.02 && frac < 1 {
		eta = (time.Duration(float64(el)/frac) - el).Round(time.Second).String()
	}
	msg := fmt.Sprintf("[%s%s] %d/%d examples %3.0f%%  %-10s", strings.Repeat("#", filled), strings.Repeat("-", width-filled),
		done, target, 100*frac, p.Phase)
	if p.Phase != "done" {
		msg += fmt.Sprintf(" round %d  batches %d/%d", p.Round+1, p.BatchesDone, p.BatchesTotal)
	}
	msg += fmt.Sprintf("  rejected %d  eta %s", sum(rejectCounts(p.Stats)), eta)
	b.line(msg, p.Phase == "done")
}

// line shows msg: in place on a terminal, else as a new line when it changed
// and a few seconds passed (or final is set).
func (b *bar) line(msg string, final bool) {
	if b.tty {
		fmt.Fprintf(b.w, "\r%s\x1b[K", msg)
		b.drawn = true
		return
	}
	if msg != b.lastMsg && time.Since(b.last) > 3*time.Second || final {
		fmt.Fprintln(b.w, msg)
		b.last, b.lastMsg = time.Now(), msg
	}
}

func (b *bar) finish() {
	if b.tty && b.drawn {
		fmt.Fprintln(b.w)
	}
}

func sum[K comparable](m map[K]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func rejectCounts(s generator.Stats) map[generator.RejectReason]int { return s.Rejects }

func printDatasetResult(a *app, res workflows.DatasetResult) {
	fmt.Fprintf(a.out, "\nDataset %s@%s committed in %s\n", res.Task, res.Version, res.Dir)
	splits := slices.Sorted(maps.Keys(res.Counts))
	for _, s := range splits {
		fmt.Fprintf(a.out, "  %-6s %d examples\n", s, res.Counts[s])
	}
	if res.TestSplit != "" {
		fmt.Fprintf(a.out, "Test split: %s\n", testSplitText(res.TestSplit))
	}
	fmt.Fprintf(a.out, "Teacher: %d calls, %d prompt + %d output tokens, %.1fs\n",
		res.Stats.Attempts, res.Stats.PromptTokens, res.Stats.OutputTokens, res.Stats.TeacherSeconds)
	if len(res.Stats.Rejects) == 0 {
		fmt.Fprintln(a.out, "Rejected: none")
	} else {
		fmt.Fprint(a.out, "Rejected:")
		for _, r := range slices.Sorted(maps.Keys(res.Stats.Rejects)) {
			fmt.Fprintf(a.out, " %s %d", r, res.Stats.Rejects[r])
		}
		fmt.Fprintln(a.out)
	}
	if len(res.Short) > 0 {
		fmt.Fprintf(a.out, "WARNING: %d cells could not be filled within their attempt cap:\n", len(res.Short))
		for _, c := range res.Short {
			fmt.Fprintf(a.out, "  %s/%s %d of %d\n", c.Cell, c.Split, c.Done, c.Target)
		}
	}
	fmt.Fprintf(a.out, "Inspect it with: mlmforge datasets show %s@%s\n", res.Task, res.Version)
}

func newStatusCmd(a *app) *cobra.Command {
	var cf clusterFlags
	cmd := &cobra.Command{
		Use:   "status WORKFLOW_ID",
		Short: "Show the progress or result of a pipeline, dataset, train or evaluate workflow",
		Example: `  mlmforge status pipeline-weekly-3f9a2c... --address 127.0.0.1:7233
  mlmforge status dataset-3f9a2c... --address 127.0.0.1:7233`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cf.validate(); err != nil {
				return err
			}
			return runStatus(cmd.Context(), a, cf, args[0])
		},
	}
	cf.register(cmd)
	return cmd
}

func runStatus(ctx context.Context, a *app, cf clusterFlags, id string) error {
	c, err := dialCluster(ctx, cf)
	if err != nil {
		return err
	}
	defer c.Close()
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return fmt.Errorf("workflow %s: %w", id, err)
	}
	st := desc.WorkflowExecutionInfo.Status
	running := st == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	switch desc.WorkflowExecutionInfo.Type.GetName() {
	case workflows.PipelineWorkflowName:
		return pipelineStatus(ctx, a, c, id, running)
	case workflows.TrainWorkflowName:
		return trainStatus(ctx, a, c, id, running)
	case workflows.EvaluateWorkflowName:
		return evalStatus(ctx, a, c, id, running)
	}
	if running {
		p, err := queryProgress(ctx, c, id)
		if err != nil {
			return fmt.Errorf("query %s (is a worker serving the %s queue?): %w", id, workflows.TaskQueueWorkflows, err)
		}
		printProgress(a.out, id, p)
		if p.Phase == "review" {
			v, err := c.QueryWorkflow(ctx, id, "", workflows.ReviewQuery)
			var rs workflows.ReviewStatus
			if err == nil {
				err = v.Get(&rs)
			}
			if err != nil {
				return fmt.Errorf("query %s review: %w", id, err)
			}
			printReview(a.out, rs, time.Now())
		}
		return nil
	}
	var res workflows.DatasetResult
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		return fmt.Errorf("workflow %s ended %s: %w", id, st, err)
	}
	printDatasetResult(a, res)
	return nil
}

func printProgress(w io.Writer, id string, p workflows.DatasetProgress) {
	fmt.Fprintf(w, "%s: %s, round %d, batches %d/%d\n", id, p.Phase, p.Round+1, p.BatchesDone, p.BatchesTotal)
	for _, s := range slices.Sorted(maps.Keys(p.Target)) {
		fmt.Fprintf(w, "  %-6s %d/%d\n", s, p.Done[s], p.Target[s])
	}
	short := 0
	for _, c := range p.Cells {
		if c.Done < c.Target {
			short++
		}
	}
	fmt.Fprintf(w, "  cells still short: %d of %d\n", short, len(p.Cells))
	for _, r := range slices.Sorted(maps.Keys(p.Stats.Rejects)) {
		fmt.Fprintf(w, "  rejected %s: %d\n", r, p.Stats.Rejects[r])
	}
}

// printReview shows the review gate while it waits, with a reminder once the
// deadline is near (the last quarter of a day, or already past).
func printReview(w io.Writer, rs workflows.ReviewStatus, now time.Time) {
	p := rs.Progress
	fmt.Fprintf(w, "  waiting for review: %d/%d decided, %d leased", p.Decided, p.Sampled, p.Leased)
	if p.NeedsAdjudication > 0 {
		fmt.Fprintf(w, ", %d need adjudication", p.NeedsAdjudication)
	}
	fmt.Fprintf(w, " (%s)\n", reviewgate.PolicyText(rs))
	if rs.ReviewRound > 0 {
		fmt.Fprintf(w, "  review round %d: earlier reviews fell below the threshold and their rejected cells were regenerated\n", rs.ReviewRound+1)
	}
	if rs.DeadlineAt == nil {
		return
	}
	left := rs.DeadlineAt.Sub(now).Round(time.Minute)
	if left > 6*time.Hour {
		return
	}
	then := "the run fails"
	if rs.OnDeadline == "release" {
		then = "the dataset is released with the decisions made so far"
	}
	fmt.Fprintf(w, "  reminder: the review deadline is in %s (%s); then %s. Review at the reviewer UI or with mlmforge review next.\n",
		left, rs.DeadlineAt.UTC().Format("2006-01-02 15:04Z"), then)
}
