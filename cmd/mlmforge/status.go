package main

import (
	"context"
	"fmt"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/cyclecore/mlmforge/workflows"
)

// pipelineStatus prints a pipeline's step tree (with each running child's own
// progress) or, once it ended, its result.
func pipelineStatus(ctx context.Context, a *app, c client.Client, id string, running bool) error {
	if !running {
		var res workflows.PipelineResult
		if err := c.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
			p, qerr := queryPipeline(ctx, c, id)
			if qerr == nil {
				fmt.Fprintf(a.out, "%s: ended with an error: %v\n", id, err)
				printPipelineTree(ctx, a.out, c, p)
				return nil
			}
			return fmt.Errorf("pipeline %s: %w", id, err)
		}
		fmt.Fprintf(a.out, "%s: done\n", id)
		printPipelineResult(a, res)
		return nil
	}
	p, err := queryPipeline(ctx, c, id)
	if err != nil {
		return fmt.Errorf("query %s (is a worker serving the %s queue?): %w", id, workflows.TaskQueueWorkflows, err)
	}
	fmt.Fprintf(a.out, "%s: running\n", id)
	printPipelineTree(ctx, a.out, c, p)
	var reused []string
	for _, s := range p.Steps {
		if s.State == "reused" {
			reused = append(reused, s.Name)
		}
	}
	if len(reused) > 0 {
		fmt.Fprintf(a.out, "reused from earlier runs (inputs unchanged): %s\n", strings.Join(reused, ", "))
	}
	return nil
}

func trainStatus(ctx context.Context, a *app, c client.Client, id string, running bool) error {
	if running {
		hb, ok := trainHeartbeat(ctx, c, id)
		if !ok {
			fmt.Fprintf(a.out, "%s: running, no training heartbeat yet (preparing data or waiting for a train worker)\n", id)
			return nil
		}
		fmt.Fprintf(a.out, "%s: running on %s\n  %s\n  checkpoint %s\n", id, hb.Worker, trainLine(hb), hb.Checkpoint)
		return nil
	}
	var res workflows.TrainResult
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		return fmt.Errorf("train %s: %w", id, err)
	}
	printTrainResult(a, res)
	return nil
}

func evalStatus(ctx context.Context, a *app, c client.Client, id string, running bool) error {
	if running {
		var p workflows.EvalProgress
		v, err := c.QueryWorkflow(ctx, id, "", workflows.EvalProgressQuery)
		if err == nil {
			err = v.Get(&p)
		}
		if err != nil {
			return fmt.Errorf("query %s: %w", id, err)
		}
		fmt.Fprintf(a.out, "%s: %s\n", id, evalLine(p, 0))
		for _, j := range p.Jobs {
			fmt.Fprintf(a.out, "  %-60s %d/%d shards\n", j.Key, j.ShardsDone, j.Shards)
		}
		return nil
	}
	var res workflows.EvalResult
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		return fmt.Errorf("evaluate %s: %w", id, err)
	}
	printEvalResult(a, res)
	return nil
}
