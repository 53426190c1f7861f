package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/worker"
	"github.com/cyclecore/mlmforge/worker/reviewgate"
	"github.com/cyclecore/mlmforge/workflows"
)

// devFlags are the flags of `mlmforge dev`.
type devFlags struct {
	ip        string
	port      int
	namespace string
	queues    string
	logLevel  string
	uiPort    int
	reviewUI  reviewListen
}

func newDevCmd(a *app) *cobra.Command {
	var f devFlags
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run an embedded Temporal server (SQLite under the home) with an mlmforge worker",
		Long: `dev starts a real Temporal server inside this process, persisted in a SQLite
file under the mlmforge home (so workflow histories survive restarts), creates
the namespace, and attaches a worker that serves every mlmforge task queue.
It listens on 127.0.0.1 only, and serves the Temporal Web UI (--ui-port) to
watch workflows. Stop it with Ctrl+C.

Other processes can attach more workers with
  mlmforge worker --address 127.0.0.1:7233
The Temporal CLI (temporal v1.5.1) works against it too:
  temporal workflow list --address 127.0.0.1:7233`,
		Example: `  mlmforge dev
  mlmforge dev --port 7300 --queues workflows,generate   # train/eval served elsewhere
  mlmforge dev --queues none                             # server only`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDev(cmd.Context(), a, f)
		},
	}
	cmd.Flags().StringVar(&f.ip, "ip", "127.0.0.1", "address the Temporal frontend listens on")
	cmd.Flags().IntVar(&f.port, "port", 7233, "Temporal frontend gRPC port (0 picks a free port)")
	cmd.Flags().StringVar(&f.namespace, "namespace", workflows.DefaultNamespace, "namespace to create and serve")
	cmd.Flags().StringVar(&f.queues, "queues", "all", "task queues the embedded worker serves: all, none, or a list of "+queueList())
	f.reviewUI.register(cmd.Flags(), "review-listen", "review-", "127.0.0.1:8234", "address of the reviewer web UI (empty disables it)")
	cmd.Flags().IntVar(&f.uiPort, "ui-port", 8233, "port of the embedded Temporal Web UI (0 picks a free port, -1 disables it)")
	cmd.Flags().StringVar(&f.logLevel, "log-level", "warn", "Temporal server log level (debug, info, warn, error); logs go to HOME/logs/temporal.log")
	return cmd
}

func runDev(ctx context.Context, a *app, f devFlags) error {
	if f.port < 0 || f.port > 65535 {
		return usageErrorf("--port %d: must be from 0 to 65535", f.port)
	}
	if f.uiPort < -1 || f.uiPort > 65535 {
		return usageErrorf("--ui-port %d: must be from -1 to 65535", f.uiPort)
	}
	if err := f.reviewUI.validate("review-"); err != nil {
		return err
	}
	queues, err := worker.ParseQueues(f.queues)
	if err != nil {
		return &usageError{err}
	}
	e, err := startEmbedded(ctx, a, embeddedOptions{ip: f.ip, port: f.port, namespace: f.namespace, logLevel: f.logLevel, queues: queues})
	if err != nil {
		return err
	}
	defer e.stop()
	fmt.Fprintf(a.out, "Temporal server listening on %s (namespace %q, database %s)\n", e.srv.Address(), f.namespace, e.dbPath)
	if f.uiPort >= 0 {
		ui, err := worker.StartUI(f.ip, f.uiPort, e.srv.Address())
		if err != nil {
			return err
		}
		defer ui.Stop()
		fmt.Fprintf(a.out, "Temporal Web UI at %s/namespaces/%s/workflows\n", ui.URL(), f.namespace)
	}
	if f.reviewUI.addr != "" {
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- serveReview(rctx, a, reviewgate.New(e.client), f.reviewUI) }()
		select {
		case err := <-errc: // failed to start (address in use ...)
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
	if len(queues) > 0 {
		fmt.Fprintf(a.out, "Worker serving queues: %s\n", joinQueues(queues))
	} else {
		fmt.Fprintln(a.out, "No embedded worker (--queues none): attach workers with mlmforge worker --address "+e.srv.Address())
	}
	fmt.Fprintf(a.out, "mlmforge home: %s\nReady. Press Ctrl+C to stop.\n", a.home)
	<-ctx.Done()
	fmt.Fprintln(a.out, "Shutting down...")
	return nil
}
