package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/workflows"
)

type trainFlags struct {
	weightsFlag map[string]string
	cluster     clusterFlags
	in          workflows.TrainInput
	detach      bool
}

func newTrainCmd(a *app) *cobra.Command {
	var f trainFlags
	var presets []string
	for _, p := range model.Presets() {
		presets = append(presets, p.Name)
	}
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a student on a dataset version (Temporal workflow on the train queue)",
		Long: `train runs the Train workflow: it trains a byte-level BPE tokenizer on the
dataset (or reuses the run's), builds the preset's student, and trains it with
AdamW (warmup + cosine, clipping) on the train split, holding 5% out for the
evaluation loss. Checkpoints, metrics.json and loss.png go to
HOME/runs/<workflow id>/. The training activity heartbeats its step and newest
checkpoint: if the worker dies, another worker of the train queue resumes from
that checkpoint.

Presets: ` + strings.Join(presets, ", ") + `.`,
		Example: `  mlmforge train --preset tiny-intent --dataset edgeintent@latest
  mlmforge train --preset tiny-json --dataset edgejson@v2 --steps 800
  mlmforge train --preset nlm-5m-intent --dataset edgeintent@v3 --address 127.0.0.1:7233 --detach`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(a); err != nil {
				return &usageError{err}
			}
			return runTrain(cmd.Context(), a, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cluster.address, "address", "", "Temporal frontend HOST:PORT; empty runs an embedded server and worker in this process")
	fl.StringVar(&f.cluster.namespace, "namespace", workflows.DefaultNamespace, "Temporal namespace")
	f.cluster.tls.register(fl)
	fl.StringVar(&f.in.Preset, "preset", "", "student preset (required)")
	fl.StringVar(&f.in.Dataset, "dataset", "", "dataset reference TASK@VERSION or TASK@latest (required)")
	fl.StringSliceVar(&f.in.Datasets, "datasets", nil, "multi-task: one dataset per task, e.g. edgejson@v2,edgeintent@v3,edgefunccall@v1")
	fl.StringToStringVar(&f.weightsFlag, "weights", nil, "multi-task sampling weights by task, e.g. edgejson=2,edgeintent=1 (default equal)")
	fl.StringVar(&f.in.Method, "method", "", "ce or kd (encoders), seqkd, lora, full or multitask (decoders); default by architecture")
	fl.StringVar(&f.in.Base, "base", "", "lora and full: the pretrained base, an mlmforge checkpoint, a Hugging Face Llama/SmolLM2 directory or a GGUF file")
	fl.IntVar(&f.in.Steps, "steps", 0, "optimizer steps (0 = the preset's default)")
	fl.IntVar(&f.in.BatchSize, "batch-size", 0, "sequences per micro-batch (0 = default)")
	fl.IntVar(&f.in.GradAccum, "grad-accum", 0, "micro-batches per optimizer step, gradients averaged: a step of batch-size x grad-accum sequences in the memory of one micro-batch (0 = 1)")
	fl.IntVar(&f.in.SeqLen, "seq-len", 0, "tokens per sequence (0 = default)")
	fl.Float64Var(&f.in.LR, "lr", 0, "peak learning rate (0 = default)")
	fl.Int64Var(&f.in.Seed, "seed", 1337, "seed of initialization and data order")
	fl.IntVar(&f.in.CheckpointEvery, "checkpoint-every", 0, "steps between checkpoints (0 = default)")
	fl.IntVar(&f.in.ValidateEvery, "validate-every", 0, "steps between task-metric validations on held-out training records, which pick the checkpoint (0 = default, -1 = off: the eval loss picks)")
	fl.IntVar(&f.in.Patience, "patience", 0, "stop after this many validations without a new best (0 = default, -1 = never)")
	fl.IntVar(&f.in.ScrambleCopies, "scramble-copies", 0, "decoders: value-scrambled copies of each training record (0 = default, -1 = none)")
	fl.Float64Var(&f.in.KDAlpha, "kd-alpha", 0, "kd: weight of the distillation term (default 0.5)")
	fl.Float64Var(&f.in.KDTemperature, "kd-temperature", 0, "kd: softmax temperature (default 2)")
	fl.IntVar(&f.in.HeartbeatSeconds, "heartbeat-timeout", 0, "seconds without a heartbeat before a training worker counts as dead and another resumes (0 = 120)")
	fl.BoolVar(&f.detach, "detach", false, "start the workflow and print its id instead of waiting (needs --address)")
	return cmd
}

// TrainWorkflowID derives the workflow id from the request, so the same command
// attaches to a running run instead of starting a second one.
func trainWorkflowID(in workflows.TrainInput) string {
	b, _ := json.Marshal(in)
	h := sha256.Sum256(b)
	return "train-" + hex.EncodeToString(h[:])[:16]
}

func runTrain(ctx context.Context, a *app, f trainFlags) error {
	c, cleanup, err := connect(ctx, a, f.cluster)
	if err != nil {
		return err
	}
	defer cleanup()
	id := trainWorkflowID(f.in)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueueWorkflows,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.TrainWorkflowName, f.in)
	if err != nil {
		return fmt.Errorf("start train workflow: %w", err)
	}
	if f.detach {
		fmt.Fprintln(a.out, run.GetID())
		fmt.Fprintf(a.err, "started; follow it with: mlmforge status %s --address %s\n", run.GetID(), f.cluster.address)
		return nil
	}
	fmt.Fprintf(a.out, "Train workflow %s (%s on %s)\n", run.GetID(), f.in.Preset, f.in.Dataset)
	res, err := followTrain(ctx, a, c, run, f.cluster.address == "")
	if err != nil {
		return err
	}
	printTrainResult(a, res)
	return nil
}

// followTrain draws the training activity's heartbeats until the run ends.
func followTrain(ctx context.Context, a *app, c client.Client, run client.WorkflowRun, embedded bool) (workflows.TrainResult, error) {
	var res workflows.TrainResult
	err := followRun(ctx, a, run, &res, "train", embedded, "it from its last checkpoint", func() (string, bool) {
		hb, ok := trainHeartbeat(ctx, c, run.GetID())
		if !ok {
			return "", false
		}
		return trainLine(hb), true
	})
	return res, err
}

// trainHeartbeat reads the newest heartbeat of the running training activity.
func trainHeartbeat(ctx context.Context, c client.Client, id string) (workflows.TrainHeartbeat, bool) {
	var hb workflows.TrainHeartbeat
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return hb, false
	}
	for _, pa := range desc.PendingActivities {
		if pa.ActivityType.GetName() != workflows.TrainActivityName || pa.HeartbeatDetails == nil {
			continue
		}
		if err := converter.GetDefaultDataConverter().FromPayloads(pa.HeartbeatDetails, &hb); err == nil {
			return hb, true
		}
	}
	return hb, false
}

func trainLine(hb workflows.TrainHeartbeat) string {
	const width = 30
	frac := 0.0
	if hb.TotalSteps > 0 {
		frac = float64(hb.Step) / float64(hb.TotalSteps)
	}
	filled := min(width, int(frac*width))
	s := fmt.Sprintf("[%s%s] step %d/%d  loss %.4f", strings.Repeat("#", filled), strings.Repeat("-", width-filled), hb.Step, hb.TotalSteps, hb.Loss)
	if hb.EvalLoss > 0 {
		s += fmt.Sprintf("  eval %.4f", hb.EvalLoss)
	}
	if hb.Metric != "" {
		s += fmt.Sprintf("  %s %.1f%% (best %.1f%%)", hb.Metric, 100*hb.MetricValue, 100*hb.BestMetric)
	}
	return s + fmt.Sprintf("  %.0f tok/s  eta %s", hb.TokensPerS, (time.Duration(hb.ETASeconds)*time.Second).String())
}

func printTrainResult(a *app, r workflows.TrainResult) {
	fmt.Fprintf(a.out, "Trained %s (%s, %d parameters) on %s@%s: %d steps, final loss %.4f, best eval loss %.4f, %.0f tokens/s\n",
		r.Preset, r.Method, r.Params, r.Task, r.DatasetVersion, r.Steps, r.FinalLoss, r.EvalLoss, r.TokensPerS)
	if r.Resumes > 0 {
		fmt.Fprintf(a.out, "Resumed from a checkpoint %d time(s); workers: %s\n", r.Resumes, strings.Join(r.Workers, ", "))
	}
	if r.Metric != "" {
		fmt.Fprintf(a.out, "Checkpoint: %s (the best by %s on held-out training examples: %.1f%% at step %d; stopped: %s)\n",
			r.Checkpoint, r.Metric, 100*r.BestMetric, r.CheckpointStep, r.Stopped)
	} else {
		fmt.Fprintf(a.out, "Checkpoint: %s (the best by eval loss, step %d)\n", r.Checkpoint, r.CheckpointStep)
	}
	if r.Truncated > 0 {
		fmt.Fprintf(a.out, "Cut:        %d of %d training examples are longer than seq_len %d (max_seq %d): their ends were not learned\n",
			r.Truncated, r.TrainExamples, r.SeqLen, r.MaxSeq)
	}
	fmt.Fprintf(a.out, "Metrics:    %s\nLoss curve: %s\n", r.Metrics, r.LossPlot)
}
