// Package worker wires mlmforge's workflows and activities into Temporal
// workers, dials clusters, and embeds a single-process Temporal server for the
// default setup. It is the only package besides cmd that imports the server.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cyclecore/mlmforge/activities"
	"github.com/cyclecore/mlmforge/workflows"
)

// DialConfig says how to reach a Temporal frontend.
type DialConfig struct {
	// Address is host:port of the frontend.
	Address string
	// Namespace is the Temporal namespace to use.
	Namespace string
	// Identity names this process to the server; empty means pid@host.
	Identity string
	// Timeout bounds the initial connection check; 0 means 10 seconds.
	Timeout time.Duration
	// Logger receives SDK logs; nil keeps only warnings and errors on stderr.
	Logger *slog.Logger
	// TLS configures TLS or mutual TLS to the frontend; the zero value dials
	// in plaintext (the embedded dev server).
	TLS TLSOptions
}

// Dial connects to a Temporal frontend and checks that it answers, so a wrong
// address fails now with a one-line error instead of hanging later.
func Dial(ctx context.Context, cfg DialConfig) (client.Client, error) {
	if err := ValidateAddress(cfg.Address); err != nil {
		return nil, err
	}
	if cfg.Namespace == "" {
		cfg.Namespace = workflows.DefaultNamespace
	}
	if cfg.Identity == "" {
		cfg.Identity = activities.DefaultIdentity()
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	tlsCfg, err := cfg.TLS.Config()
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	c, err := client.DialContext(dctx, client.Options{
		HostPort:          cfg.Address,
		Namespace:         cfg.Namespace,
		Identity:          cfg.Identity,
		Logger:            sdklog.NewStructuredLogger(logger),
		ConnectionOptions: client.ConnectionOptions{TLS: tlsCfg},
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.Address, firstLine(err))
	}
	if _, err := c.WorkflowService().DescribeNamespace(dctx, describeNamespace(cfg.Namespace)); err != nil {
		c.Close()
		return nil, fmt.Errorf("temporal at %s: namespace %q: %w", cfg.Address, cfg.Namespace, firstLine(err))
	}
	return c, nil
}

// ValidateAddress checks a host:port flag value before any network traffic.
func ValidateAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--address %q: want HOST:PORT, e.g. 127.0.0.1:7233", addr)
	}
	if host == "" {
		return fmt.Errorf("--address %q: missing host", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("--address %q: port must be a number from 1 to 65535", addr)
	}
	return nil
}

// firstLine keeps gRPC's multi-line errors to one line for the CLI.
func firstLine(err error) error {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return errors.New(s[:i])
	}
	return err
}

// Config selects what a worker process runs.
type Config struct {
	// Queues are the task queues to poll; empty means all of workflows.TaskQueues.
	Queues []string
	// Activities is the shared activity configuration (home, identity ...).
	Activities *activities.Activities
	// MaxConcurrentActivities caps concurrent activities per queue (0 = SDK default).
	MaxConcurrentActivities map[string]int
}

// isGenerateQueue reports whether a queue serves generation: "generate" or a
// per-teacher queue "generate-<name>" (e.g. one per Ollama host, each with its
// own concurrency limit).
func isGenerateQueue(q string) bool {
	return q == workflows.TaskQueueGenerate || strings.HasPrefix(q, workflows.TaskQueueGenerate+"-") && len(q) > len("generate-")
}

// ParseQueues turns a comma-separated --queues value into queue names,
// rejecting unknown ones with the list of valid queues.
func ParseQueues(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" || s == "all" {
		return slices.Clone(workflows.TaskQueues), nil
	}
	if s == "none" {
		return nil, nil
	}
	var out []string
	for _, q := range strings.Split(s, ",") {
		q = strings.TrimSpace(q)
		if !slices.Contains(workflows.TaskQueues, q) && !isGenerateQueue(q) {
			return nil, fmt.Errorf("--queues: unknown queue %q (valid: %s, generate-<teacher>, all, none)", q, strings.Join(workflows.TaskQueues, ", "))
		}
		if !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	return out, nil
}

// Start starts one Temporal worker per queue and returns a function that stops
// them all.
func Start(c client.Client, cfg Config) (stop func(), err error) {
	queues := cfg.Queues
	if queues == nil {
		queues = workflows.TaskQueues
	}
	if cfg.Activities == nil {
		return nil, errors.New("worker: no activities configured")
	}
	var started []sdkworker.Worker
	stopAll := func() {
		for _, w := range started {
			w.Stop()
		}
	}
	for _, q := range queues {
		w := sdkworker.New(c, q, sdkworker.Options{
			MaxConcurrentActivityExecutionSize: cfg.MaxConcurrentActivities[q],
			// Heartbeats carry the progress that train and status show; the SDK's
			// default throttle (80% of the heartbeat timeout, up to a minute)
			// would freeze those bars. One heartbeat per activity every 2 s is
			// still nothing for the server.
			MaxHeartbeatThrottleInterval:     2 * time.Second,
			DefaultHeartbeatThrottleInterval: 2 * time.Second,
			Interceptors:                     []interceptor.WorkerInterceptor{&corruptionInterceptor{}},
		})
		register(w, q, cfg.Activities)
		if err := w.Start(); err != nil {
			stopAll()
			return nil, fmt.Errorf("start worker on queue %s: %w", q, err)
		}
		started = append(started, w)
	}
	return stopAll, nil
}

// register adds what a queue serves. Names come from the workflows contract so
// that histories never depend on Go function names.
func register(w sdkworker.Worker, queue string, a *activities.Activities) {
	switch queue {
	case workflows.TaskQueueWorkflows:
		w.RegisterWorkflowWithOptions(workflows.HealthWorkflow, workflow.RegisterOptions{Name: workflows.HealthWorkflowName})
		w.RegisterWorkflowWithOptions(workflows.DatasetWorkflow, workflow.RegisterOptions{Name: workflows.DatasetWorkflowName})
		w.RegisterWorkflowWithOptions(workflows.TrainWorkflow, workflow.RegisterOptions{Name: workflows.TrainWorkflowName})
		w.RegisterWorkflowWithOptions(workflows.EvaluateWorkflow, workflow.RegisterOptions{Name: workflows.EvaluateWorkflowName})
		w.RegisterWorkflowWithOptions(workflows.PipelineWorkflow, workflow.RegisterOptions{Name: workflows.PipelineWorkflowName})
		w.RegisterActivityWithOptions(a.WorkerIdentity, activity.RegisterOptions{Name: workflows.WorkerIdentityActivityName})
		// CheckEdit runs as a local activity of the review gate, on the worker holding the workflow.
		w.RegisterActivityWithOptions(a.CheckEdit, activity.RegisterOptions{Name: workflows.CheckEditActivityName})
		return
	case workflows.TaskQueueTrain:
		w.RegisterActivityWithOptions(a.Ping, activity.RegisterOptions{Name: workflows.PingActivityName})
		w.RegisterActivityWithOptions(a.PrepareTrain, activity.RegisterOptions{Name: workflows.PrepareTrainActivityName})
		w.RegisterActivityWithOptions(a.TrainModel, activity.RegisterOptions{Name: workflows.TrainActivityName})
		w.RegisterActivityWithOptions(a.FindTrained, activity.RegisterOptions{Name: workflows.FindTrainedActivityName})
		return
	case workflows.TaskQueueEval:
		w.RegisterActivityWithOptions(a.Ping, activity.RegisterOptions{Name: workflows.PingActivityName})
		w.RegisterActivityWithOptions(a.PrepareEval, activity.RegisterOptions{Name: workflows.PrepareEvalActivityName})
		w.RegisterActivityWithOptions(a.EvalShard, activity.RegisterOptions{Name: workflows.EvalShardActivityName})
		w.RegisterActivityWithOptions(a.EvalReport, activity.RegisterOptions{Name: workflows.EvalReportActivityName})
		w.RegisterActivityWithOptions(a.Promote, activity.RegisterOptions{Name: workflows.PromoteActivityName})
		return
	}
	if isGenerateQueue(queue) {
		w.RegisterActivityWithOptions(a.Ping, activity.RegisterOptions{Name: workflows.PingActivityName})
		w.RegisterActivityWithOptions(a.PlanDataset, activity.RegisterOptions{Name: workflows.PlanDatasetActivityName})
		w.RegisterActivityWithOptions(a.GenerateBatch, activity.RegisterOptions{Name: workflows.GenerateBatchActivityName})
		w.RegisterActivityWithOptions(a.MergeShards, activity.RegisterOptions{Name: workflows.MergeShardsActivityName})
		w.RegisterActivityWithOptions(a.CommitDataset, activity.RegisterOptions{Name: workflows.CommitDatasetActivityName})
		w.RegisterActivityWithOptions(a.StageReview, activity.RegisterOptions{Name: workflows.StageReviewActivityName})
		w.RegisterActivityWithOptions(a.LoadSample, activity.RegisterOptions{Name: workflows.LoadSampleActivityName})
		w.RegisterActivityWithOptions(a.LoadReviewers, activity.RegisterOptions{Name: workflows.LoadReviewersActivityName})
		w.RegisterActivityWithOptions(a.SaveReviewOps, activity.RegisterOptions{Name: workflows.SaveReviewOpsActivityName})
		w.RegisterActivityWithOptions(a.LoadReviewOps, activity.RegisterOptions{Name: workflows.LoadReviewOpsActivityName})
		w.RegisterActivityWithOptions(a.FindDataset, activity.RegisterOptions{Name: workflows.FindDatasetActivityName})
	}
}

func describeNamespace(ns string) *workflowservice.DescribeNamespaceRequest {
	return &workflowservice.DescribeNamespaceRequest{Namespace: ns}
}
