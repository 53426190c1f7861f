package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

func newQuickstartCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "quickstart",
		Short: "Run the main job on the embedded default setup and print what it did",
		Long: `quickstart needs no Ollama and no cluster. It starts the embedded Temporal
server (SQLite under the mlmforge home) with a worker on every queue, runs the
health workflow through all task queues, and loads and validates the SLM-Bench
catalogs.

Then it generates a small dataset for each task with the builtin offline
teacher through the Dataset workflow, with the review sample auto-approved.
Training and evaluation are not part of this build yet; quickstart runs what
exists and says so.`,
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
	fmt.Fprintln(a.out, "\n3/3 Datasets (builtin teacher, tiny sizes)")
	for _, in := range quickstartDatasets() {
		run, existing, err := startDataset(ctx, e.client, in)
		if err != nil {
			return err
		}
		if existing {
			fmt.Fprintf(a.out, "    %s: reusing workflow %s (same spec as an earlier run)\n", in.Spec.Task, run.GetID())
		}
		res, err := followDataset(ctx, a, e.client, run)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.out, "    %-16s train %4d  test %4d  rejected %3d  %s\n", res.Task+"@"+res.Version,
			res.Counts["train"], res.Counts["test"], sum(res.Stats.Rejects), res.Dir)
	}
	fmt.Fprintf(a.out, "\nDone in %.1fs.\n", time.Since(start).Seconds())
	fmt.Fprintln(a.out, "Used: the embedded Temporal server, the builtin (offline) teacher, tiny dataset sizes, and an")
	fmt.Fprintln(a.out, "auto-approved 10% review sample (recorded in each manifest).")
	fmt.Fprintln(a.out, "The real thing: mlmforge generate --teacher ollama:qwen2.5:7b --task edgeintent --classes 50 --train 21000 --test 1000 --review required")
	fmt.Fprintln(a.out, "(reviewers: mlmforge review add-reviewer NAME, then the UI at http://127.0.0.1:8234).")
	fmt.Fprintln(a.out, "Training and evaluation are not in this build yet. Inspect data: mlmforge datasets ls")
	return nil
}

// quickstartDatasets are the small datasets quickstart generates, one per task.
func quickstartDatasets() []workflows.DatasetInput {
	specs := []generator.Spec{
		{Task: schemas.EdgeJSON, Counts: map[string]int{"train": 360, "test": 180}},
		{Task: schemas.EdgeIntent, Variant: "50", Counts: map[string]int{"train": 1000, "test": 250}},
		{Task: schemas.EdgeFuncCall, Counts: map[string]int{"train": 600, "test": 200}},
	}
	out := make([]workflows.DatasetInput, len(specs))
	for i, s := range specs {
		s.Teacher, s.Seed = "builtin", 7
		out[i] = workflows.DatasetInput{Spec: s.WithDefaults(), Review: workflows.ReviewOptions{Policy: workflows.ReviewAuto}}
	}
	return out
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
