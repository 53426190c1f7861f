package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cyclecore/mlmforge/activities"
	"github.com/cyclecore/mlmforge/generator/ollama"
	"github.com/cyclecore/mlmforge/worker"
	"github.com/cyclecore/mlmforge/workflows"
)

// clusterFlags are the flags that point a command at a Temporal frontend.
type clusterFlags struct {
	address   string
	namespace string
	tls       tlsFlags
}

func (f *clusterFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.address, "address", "127.0.0.1:7233", "Temporal frontend HOST:PORT (an mlmforge dev server or a cluster)")
	cmd.Flags().StringVar(&f.namespace, "namespace", workflows.DefaultNamespace, "Temporal namespace")
	f.tls.register(cmd.Flags())
}

func (f *clusterFlags) validate() error {
	if err := worker.ValidateAddress(f.address); err != nil {
		return &usageError{err}
	}
	if strings.TrimSpace(f.namespace) == "" {
		return usageErrorf("--namespace: must not be empty")
	}
	if _, err := f.tls.Config(); err != nil {
		return &usageError{err}
	}
	return nil
}

// tlsFlags are the client TLS options for a Temporal frontend that requires
// TLS or mutual TLS (a cluster reached beyond localhost).
type tlsFlags struct {
	worker.TLSOptions
}

func (f *tlsFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.Enabled, "tls", false, "connect to Temporal over TLS (implied by the other --tls-* flags)")
	fs.StringVar(&f.CAFile, "tls-ca", "", "PEM CA bundle that signs the Temporal server's certificate (default: system roots)")
	fs.StringVar(&f.CertFile, "tls-cert", "", "PEM client certificate for mutual TLS to Temporal")
	fs.StringVar(&f.KeyFile, "tls-key", "", "PEM key of --tls-cert")
	fs.StringVar(&f.ServerName, "tls-server-name", "", "name to check in the Temporal server's certificate (default: the --address host)")
}

func newWorkerCmd(a *app) *cobra.Command {
	var cf clusterFlags
	var queues string
	var maxActivities int
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Attach an mlmforge worker to a running Temporal server or cluster",
		Long: `worker connects to an existing Temporal frontend (an mlmforge dev server on
another machine, or a Temporal cluster) and serves mlmforge task queues. Run
several, each with its own --queues, to put generation, training and evaluation
on different machines. The namespace must already exist on a cluster.`,
		Example: `  mlmforge worker --address 127.0.0.1:7233
  mlmforge worker --address temporal.internal:7233 --namespace research --queues train --max-activities 1`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cf.validate(); err != nil {
				return err
			}
			qs, err := worker.ParseQueues(queues)
			if err != nil {
				return &usageError{err}
			}
			if len(qs) == 0 {
				return usageErrorf("--queues none: a worker must serve at least one queue")
			}
			if maxActivities < 0 {
				return usageErrorf("--max-activities %d: must be >= 0", maxActivities)
			}
			return runWorker(cmd.Context(), a, cf, qs, maxActivities)
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&queues, "queues", "all", "task queues to serve: all or a list of "+queueList())
	cmd.Flags().IntVar(&maxActivities, "max-activities", 0, "concurrent activities per queue (0 = SDK default)")
	return cmd
}

func runWorker(ctx context.Context, a *app, cf clusterFlags, queues []string, maxActivities int) error {
	c, err := dialCluster(ctx, cf)
	if err != nil {
		return err
	}
	defer c.Close()
	limits := map[string]int{}
	for _, q := range queues {
		limits[q] = maxActivities
	}
	act := &activities.Activities{Home: a.home, Identity: activities.DefaultIdentity(), Ollama: ollama.Config{Host: envOllamaHost()}}
	stop, err := worker.Start(c, worker.Config{Queues: queues, Activities: act, MaxConcurrentActivities: limits})
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(a.out, "Worker %s attached to %s (namespace %q), serving queues: %s\nPress Ctrl+C to stop.\n",
		act.Identity, cf.address, cf.namespace, joinQueues(queues))
	<-ctx.Done()
	fmt.Fprintln(a.out, "Stopping worker...")
	return nil
}

func queueList() string { return strings.Join(workflows.TaskQueues, ", ") }

func joinQueues(qs []string) string { return strings.Join(qs, ", ") }
