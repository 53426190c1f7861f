package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/cyclecore/mlmforge/workflows"
)

func newHealthCmd(a *app) *cobra.Command {
	var cf clusterFlags
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Run the health workflow: prove a server and workers on every queue answer",
		Long: `health starts the Health workflow on the workflows queue; it pings the
generate, train and eval queues and reports which worker answered each. A queue
with no worker is reported after --wait.`,
		Example: `  mlmforge health
  mlmforge health --address temporal.internal:7233 --wait 30s`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cf.validate(); err != nil {
				return err
			}
			if wait < time.Second {
				return usageErrorf("--wait %s: must be at least 1s", wait)
			}
			return runHealth(cmd.Context(), a, cf, wait)
		},
	}
	cf.register(cmd)
	cmd.Flags().DurationVar(&wait, "wait", 10*time.Second, "how long each ping waits for a worker on its queue")
	return cmd
}

func runHealth(ctx context.Context, a *app, cf clusterFlags, wait time.Duration) error {
	c, err := dialCluster(ctx, cf)
	if err != nil {
		return err
	}
	defer c.Close()
	return checkHealth(ctx, a.out, c, wait)
}

// checkHealth runs the Health workflow and prints one line per queue; it fails
// when any queue has no worker.
func checkHealth(ctx context.Context, out io.Writer, c client.Client, wait time.Duration) error {
	id := workflows.HealthWorkflowID(strconv.FormatInt(time.Now().UnixNano(), 36))
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                workflows.TaskQueueWorkflows,
		WorkflowExecutionTimeout: wait*3 + 30*time.Second,
	}, workflows.HealthWorkflowName, workflows.HealthInput{ScheduleToStartSeconds: int(wait / time.Second)})
	if err != nil {
		return fmt.Errorf("start health workflow: %w", err)
	}
	var res workflows.HealthResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("health workflow %s (is a worker serving the %q queue?): %w", id, workflows.TaskQueueWorkflows, err)
	}
	fmt.Fprintf(out, "workflow %s ran on %s\n", id, res.WorkflowWorker)
	failed := 0
	for _, q := range res.Queues {
		if q.Error != "" {
			failed++
			fmt.Fprintf(out, "  %-9s NO WORKER (%s)\n", q.Queue, q.Error)
			continue
		}
		fmt.Fprintf(out, "  %-9s ok  %s\n", q.Queue, q.Worker)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d queues have no worker", failed, len(res.Queues))
	}
	return nil
}
