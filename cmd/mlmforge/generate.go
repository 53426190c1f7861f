package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/ollama"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/worker/reviewgate"
	"github.com/cyclecore/mlmforge/workflows"
)

// generateFlags are the flags of `mlmforge generate`.
type generateFlags struct {
	cluster      clusterFlags
	task         string
	classes      int
	complexity   string
	functions    int
	train, test  int
	teacher      string
	seed         int64
	mode         string
	temperature  float64
	nearDup      float64
	roundTrip    bool
	holdout      float64
	version      string
	batchSize    int
	parallel     int
	teacherQueue string
	detach       bool
	review       workflows.ReviewOptions
	// reviewDeadline is --review-deadline, converted into review.DeadlineSeconds.
	reviewDeadline time.Duration
}

func newGenerateCmd(a *app) *cobra.Command {
	var f generateFlags
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate, validate and commit a dataset version with a teacher (Temporal workflow)",
		Long: `generate runs the Dataset workflow: it samples gold targets from the task
catalog (label first), has the teacher write the text, validates every example
(schema, grounding, mock execution, length, exact and near duplicates), keeps
generating until every cell meets its quota, and commits a dataset version.

Without --address it starts the embedded Temporal server and a worker in this
process (on the home's database); with --address it starts the workflow on a
running server or cluster, whose workers do the work. The same spec gives the
same workflow id and the same examples.

Teachers: builtin (offline, deterministic) or ollama:<model> (Ollama at
$OLLAMA_HOST, default 127.0.0.1:11434; the model must be pulled).`,
		Example: `  mlmforge generate --task edgeintent --classes 50 --train 2000 --test 1000 --teacher builtin --seed 7
  mlmforge generate --task edgejson --test 1000 --teacher ollama:qwen2.5:7b --address 127.0.0.1:7233 --detach
  mlmforge generate --task edgefunccall --functions 100 --test 500 --mode teacher-labels --teacher ollama:qwen2.5:7b
  mlmforge generate --task edgeintent --classes 50 --train 2000 --test 1000 --holdout-templates 0.25`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := f.input()
			if err != nil {
				return &usageError{err}
			}
			return runGenerate(cmd.Context(), a, cmd, f, in)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cluster.address, "address", "", "Temporal frontend HOST:PORT; empty runs an embedded server and worker in this process")
	fl.StringVar(&f.cluster.namespace, "namespace", workflows.DefaultNamespace, "Temporal namespace")
	f.cluster.tls.register(fl)
	fl.StringVar(&f.task, "task", "", "task to generate: edgejson, edgeintent or edgefunccall (required)")
	fl.IntVar(&f.classes, "classes", 50, "EdgeIntent: taxonomy size (50, 100 or 200)")
	fl.StringVar(&f.complexity, "complexity", "all", "EdgeJSON: schema complexity level: simple, medium, complex or all")
	fl.IntVar(&f.functions, "functions", 0, "EdgeFuncCall: number of catalog functions to use (0 = all)")
	fl.IntVar(&f.train, "train", 0, "examples in the train split")
	fl.IntVar(&f.test, "test", 0, "examples in the test split")
	fl.StringVar(&f.teacher, "teacher", "builtin", "teacher: builtin or ollama:<model>")
	fl.Int64Var(&f.seed, "seed", 7, "seed for every random choice")
	fl.StringVar(&f.mode, "mode", string(generator.LabelFirst), "label-first (targets from the catalog) or teacher-labels (the teacher writes both)")
	fl.Float64Var(&f.temperature, "temperature", 0.7, "teacher sampling temperature (model teachers)")
	fl.Float64Var(&f.nearDup, "near-dup", 0.8, "Jaccard similarity of word 3-grams at which inputs count as near duplicates")
	fl.BoolVar(&f.roundTrip, "round-trip", false, "also have the teacher re-extract each target from its own text and require agreement")
	fl.Float64Var(&f.holdout, "holdout-templates", 0,
		"share of the phrasing templates and value lists reserved for the test split, e.g. 0.25: test uses only those, train none (docs/holdout.md)")
	fl.StringVar(&f.version, "version", "", "dataset version name (default: the next vN)")
	fl.IntVar(&f.batchSize, "batch-size", 250, "examples per generation activity")
	fl.IntVar(&f.parallel, "parallel", 4, "concurrent generation activities")
	fl.StringVar(&f.teacherQueue, "teacher-queue", "", "task queue for generation batches (default generate)")
	fl.BoolVar(&f.detach, "detach", false, "start the workflow and print its id instead of waiting (needs --address)")
	fl.StringVar(&f.review.Policy, "review", workflows.ReviewRequired,
		"review gate before release: required (waits for reviewers' decisions on the 10% sample, in the reviewer UI or with mlmforge review) or auto (the sample is marked auto-approved: quickstart, CI)")
	fl.Float64Var(&f.review.Fraction, "review-fraction", 0.10, "fraction of each split x cell sampled for review")
	fl.Float64Var(&f.review.Threshold, "review-threshold", 0.9, "approval rate the sample needs for release (--review required)")
	fl.BoolVar(&f.review.TwoReviewers, "two-reviewers", false, "each sampled record needs two independent decisions")
	fl.DurationVar(&f.reviewDeadline, "review-deadline", 0, "how long to wait for reviewers (0 = no deadline)")
	fl.StringVar(&f.review.OnDeadline, "on-deadline", "fail", "at the review deadline: fail, or release with the decisions made so far")
	fl.BoolVar(&f.review.RegenerateRejected, "regenerate-rejected", false,
		"when the approval rate is below the threshold, regenerate every cell with a rejected record and review a new sample instead of failing")
	fl.IntVar(&f.review.MaxRegenerations, "max-regenerations", 2, "how many times --regenerate-rejected may regenerate before the run fails")
	return cmd
}

// input validates the flags and builds the workflow input.
func (f *generateFlags) input() (workflows.DatasetInput, error) {
	task, err := schemas.ParseTask(f.task)
	if f.task == "" {
		return workflows.DatasetInput{}, errors.New("--task is required: edgejson, edgeintent or edgefunccall")
	}
	if err != nil {
		return workflows.DatasetInput{}, fmt.Errorf("--task: %w", err)
	}
	if f.train < 0 || f.test < 0 || f.train+f.test == 0 {
		return workflows.DatasetInput{}, errors.New("--train and --test: give at least one positive count")
	}
	if max(f.train, f.test) > workflows.MaxExamples || f.train+f.test > workflows.MaxExamples {
		return workflows.DatasetInput{}, fmt.Errorf("--train %d and --test %d: at most %d examples per dataset, both splits together",
			f.train, f.test, workflows.MaxExamples)
	}
	if f.detach && f.cluster.address == "" {
		return workflows.DatasetInput{}, errors.New("--detach needs --address: with the embedded server the work stops when this process exits")
	}
	if f.cluster.address != "" {
		if err := f.cluster.validate(); err != nil {
			return workflows.DatasetInput{}, err
		}
	}
	variant := ""
	switch task {
	case schemas.EdgeJSON:
		if f.complexity != "" && f.complexity != "all" && !slices.Contains(schemas.Complexities, schemas.Complexity(f.complexity)) {
			return workflows.DatasetInput{}, fmt.Errorf("--complexity %q: want simple, medium, complex or all", f.complexity)
		}
		if f.complexity != "all" {
			variant = f.complexity
		}
	case schemas.EdgeIntent:
		if !slices.Contains([]int{50, 100, 200}, f.classes) {
			return workflows.DatasetInput{}, fmt.Errorf("--classes %d: want 50, 100 or 200", f.classes)
		}
		variant = strconv.Itoa(f.classes)
	case schemas.EdgeFuncCall:
		if f.functions < 0 {
			return workflows.DatasetInput{}, fmt.Errorf("--functions %d: must be >= 0", f.functions)
		}
		if f.functions > 0 {
			variant = strconv.Itoa(f.functions)
		}
	}
	if f.teacher != "builtin" && !strings.HasPrefix(f.teacher, "ollama:") {
		return workflows.DatasetInput{}, fmt.Errorf("--teacher %q: want builtin or ollama:<model>", f.teacher)
	}
	// These would otherwise fail only inside the workflow: a bad version name
	// after the whole generation, at commit.
	if f.version != "" {
		if err := datasets.ValidateVersion(f.version); err != nil {
			return workflows.DatasetInput{}, fmt.Errorf("--version: %w", err)
		}
	}
	if f.batchSize < 1 || f.batchSize > workflows.MaxBatchSize {
		return workflows.DatasetInput{}, fmt.Errorf("--batch-size %d: want 1 to %d", f.batchSize, workflows.MaxBatchSize)
	}
	if f.parallel < 1 || f.parallel > workflows.MaxParallelBatches {
		return workflows.DatasetInput{}, fmt.Errorf("--parallel %d: want 1 to %d", f.parallel, workflows.MaxParallelBatches)
	}
	spec := generator.Spec{Task: task, Variant: variant, Counts: map[string]int{}, Teacher: f.teacher, Seed: f.seed,
		Mode: generator.Mode(f.mode), Temperature: f.temperature, NearDupThreshold: f.nearDup, RoundTrip: f.roundTrip,
		HoldoutTemplates: f.holdout}
	if f.train > 0 {
		spec.Counts["train"] = f.train
	}
	if f.test > 0 {
		spec.Counts["test"] = f.test
	}
	spec = spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return workflows.DatasetInput{}, err
	}
	cat, err := schemas.Load()
	if err != nil {
		return workflows.DatasetInput{}, err
	}
	if _, err := generator.NewPlan(cat, spec); err != nil {
		flag := map[schemas.Task]string{schemas.EdgeIntent: "--classes", schemas.EdgeFuncCall: "--functions"}[task]
		return workflows.DatasetInput{}, fmt.Errorf("%s: %w", cmp.Or(flag, "--task"), err)
	}
	if f.review.Policy != workflows.ReviewAuto && f.review.Policy != workflows.ReviewRequired {
		return workflows.DatasetInput{}, fmt.Errorf("--review %q: want auto or required", f.review.Policy)
	}
	if f.review.Fraction <= 0 || f.review.Fraction > 1 || f.review.Threshold <= 0 || f.review.Threshold > 1 {
		return workflows.DatasetInput{}, errors.New("--review-fraction and --review-threshold must be in (0, 1]")
	}
	if f.review.OnDeadline != "fail" && f.review.OnDeadline != "release" {
		return workflows.DatasetInput{}, fmt.Errorf("--on-deadline %q: want fail or release", f.review.OnDeadline)
	}
	f.review.DeadlineSeconds = int(f.reviewDeadline / time.Second)
	return workflows.DatasetInput{Spec: spec, Version: f.version, BatchSize: f.batchSize, MaxParallel: f.parallel,
		TeacherQueue: f.teacherQueue, Review: f.review}, nil
}

func runGenerate(ctx context.Context, a *app, cmd *cobra.Command, f generateFlags, in workflows.DatasetInput) error {
	if err := checkTeacher(ctx, in.Spec.Teacher, f.cluster.address != ""); err != nil {
		return err
	}
	c, cleanup, err := connect(ctx, a, f.cluster)
	if err != nil {
		return err
	}
	defer cleanup()
	if f.cluster.address == "" && in.Review.Policy == workflows.ReviewRequired {
		// The gate waits in this process: serve the reviewer UI from it too.
		go func() {
			if err := serveReview(ctx, a, reviewgate.New(c), reviewListen{addr: "127.0.0.1:8234"}); err != nil {
				fmt.Fprintf(a.err, "reviewer UI not started: %v\n", err)
			}
		}()
	}
	run, existing, err := startDataset(ctx, c, in)
	if err != nil {
		return err
	}
	id := run.GetID()
	if existing {
		fmt.Fprintf(a.out, "This spec was already generated by workflow %s; showing its result.\n", id)
	}
	if f.detach {
		fmt.Fprintf(a.out, "%s\n", id)
		fmt.Fprintf(a.err, "started; follow it with: mlmforge status %s --address %s\n", id, f.cluster.address)
		return nil
	}
	fmt.Fprintf(a.out, "Dataset workflow %s (%s, teacher %s, seed %d)\n", id, in.Spec.Task, in.Spec.Teacher, in.Spec.Seed)
	res, err := followDataset(ctx, a, c, run)
	if err != nil {
		return err
	}
	printDatasetResult(a, res)
	return nil
}

// checkTeacher fails fast when an Ollama teacher cannot be reached or lacks the
// model, before any workflow starts: one GET /api/version, then the model's
// /api/tags and /api/show, within 5 seconds in all. The error names the
// OLLAMA_HOST it tried. With --address the workers may reach another Ollama
// than this machine, so the check passes there.
func checkTeacher(ctx context.Context, ref string, remote bool) error {
	model, ok := strings.CutPrefix(ref, "ollama:")
	if !ok || remote {
		return nil
	}
	host := envOllamaHost()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := probeOllama(cctx, host); err != nil {
		return fmt.Errorf("teacher %s: no Ollama at OLLAMA_HOST=%s: %w (start it with 'ollama serve', or set OLLAMA_HOST to where it runs)", ref, host, err)
	}
	t, err := ollama.New(ollama.Config{Host: host, Model: model, MaxRetries: -1})
	if err != nil {
		return fmt.Errorf("teacher %s: %w", ref, err)
	}
	if _, err := t.Info(cctx); err != nil {
		var oe *ollama.Error
		if errors.As(err, &oe) && oe.Err != nil {
			err = oe.Err // its own message repeats the host and the cause
		}
		if errors.Is(err, ollama.ErrModelNotFound) {
			return fmt.Errorf("teacher %s: %w", ref, err)
		}
		return fmt.Errorf("teacher %s: Ollama at OLLAMA_HOST=%s: %w", ref, host, err)
	}
	return nil
}

// probeOllama checks that host answers GET /api/version as Ollama does.
func probeOllama(ctx context.Context, host string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(host, "/")+"/api/version", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already
		}
		return err
	}
	defer resp.Body.Close()
	var v struct {
		Version string `json:"version"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&v) != nil || v.Version == "" {
		return fmt.Errorf("GET /api/version answered %s, not an Ollama version", resp.Status)
	}
	return nil
}

// startDataset starts the Dataset workflow for a spec, or attaches to the one
// that already ran or runs for the same spec (the id derives from the spec hash).
func startDataset(ctx context.Context, c client.Client, in workflows.DatasetInput) (client.WorkflowRun, bool, error) {
	cat, err := schemas.Load()
	if err != nil {
		return nil, false, err
	}
	id := workflows.DatasetWorkflowID(in.Spec.Hash(cat.Hash))
	if desc, err := c.DescribeWorkflowExecution(ctx, id, ""); err == nil &&
		desc.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		return c.GetWorkflow(ctx, id, ""), true, nil
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    id,
		TaskQueue:             workflows.TaskQueueWorkflows,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		// The same spec still running: attach to it instead of failing.
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.DatasetWorkflowName, in)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return c.GetWorkflow(ctx, id, ""), true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("start dataset workflow: %w", err)
	}
	return run, false, nil
}

// connect dials --address, or starts the embedded server and worker.
func connect(ctx context.Context, a *app, cf clusterFlags) (client.Client, func(), error) {
	if cf.address != "" {
		c, err := dialCluster(ctx, cf)
		if err != nil {
			return nil, nil, err
		}
		return c, c.Close, nil
	}
	e, err := startEmbedded(ctx, a, embeddedOptions{ip: "127.0.0.1", namespace: workflows.DefaultNamespace, logLevel: "warn",
		queues: slices.Clone(workflows.TaskQueues)})
	if err != nil {
		return nil, nil, err // a home in use names the --address of its server (worker.HomeInUseError)
	}
	return e.client, e.stop, nil
}

// envOllamaHost turns $OLLAMA_HOST (host, host:port or URL) into a base URL.
func envOllamaHost() string {
	h := strings.TrimSpace(os.Getenv("OLLAMA_HOST"))
	if h == "" {
		return "http://127.0.0.1:11434"
	}
	if !strings.Contains(h, "://") {
		h = "http://" + h
	}
	if strings.Count(h, ":") < 2 {
		h += ":11434"
	}
	return h
}
