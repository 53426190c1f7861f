package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

func newQuickstartCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "quickstart",
		Short: "Run the main job on the embedded default setup and print what it did",
		Long: `quickstart needs no Ollama and no cluster. It starts the embedded Temporal
server (SQLite under the mlmforge home) with a worker on every queue, runs the
health workflow through all task queues, loads and validates the SLM-Bench
catalogs, and lists the datasets in the home.

Dataset generation, review, training and evaluation are not part of this
build yet; quickstart runs what exists and says so.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runQuickstart(cmd.Context(), a)
		},
	}
}

func runQuickstart(ctx context.Context, a *app) error {
	start := time.Now()
	fmt.Fprintf(a.out, "mlmforge quickstart (home %s)\n\n", a.home)
	fmt.Fprintln(a.out, "1/3 Embedded Temporal server and worker")
	e, err := startEmbedded(ctx, a, embeddedOptions{ip: "127.0.0.1", namespace: workflows.DefaultNamespace, logLevel: "warn", queues: slices.Clone(workflows.TaskQueues)})
	if err != nil {
		return err
	}
	defer e.stop()
	fmt.Fprintf(a.out, "    server %s, database %s\n", e.srv.Address(), e.dbPath)
	if err := checkHealth(ctx, a.out, e.client, 10*time.Second); err != nil {
		return err
	}
	fmt.Fprintln(a.out, "\n2/3 SLM-Bench task catalogs")
	cat, err := schemas.Load()
	if err != nil {
		return err
	}
	printCatalogCounts(a, cat)
	fmt.Fprintln(a.out, "\n3/3 Datasets")
	store, err := datasetsStore(a)
	if err != nil {
		return err
	}
	all, err := store.ListAll()
	if err != nil {
		return err
	}
	if len(all) == 0 {
		fmt.Fprintf(a.out, "    no datasets yet under %s\n", store.Root())
	}
	for _, m := range all {
		fmt.Fprintf(a.out, "    %s  %d rows  %s\n", m.Ref(), m.Rows(), splitRows(m))
	}
	fmt.Fprintf(a.out, "\nDone in %.1fs. This build covers the foundation: the embedded server, workers on\n", time.Since(start).Seconds())
	fmt.Fprintln(a.out, "every queue, the catalogs and the dataset store. Dataset generation, review,")
	fmt.Fprintln(a.out, "training and evaluation come next. Try: mlmforge catalog ls, mlmforge dev.")
	return nil
}

// printCatalogCounts prints one line per task.
func printCatalogCounts(a *app, cat *schemas.Catalog) {
	sum := cat.Summary()
	fmt.Fprintf(a.out, "    EdgeJSON      %d schemas in %d domains (simple %d, medium %d, complex %d)\n",
		len(cat.Schemas), len(sum.SchemasByDomain), sum.SchemasByLevel[schemas.Simple],
		sum.SchemasByLevel[schemas.Medium], sum.SchemasByLevel[schemas.Complex])
	for _, t := range cat.Taxonomies {
		fmt.Fprintf(a.out, "    EdgeIntent    %s: %d classes\n", t.ID, len(t.Classes))
	}
	fmt.Fprintf(a.out, "    EdgeFuncCall  %d functions in %d domains, %d irrelevant requests\n",
		len(cat.Functions), len(cat.Domains), sum.Irrelevant)
}
