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
server (SQLite under the mlmforge home) with a worker on every queue, checks
the task queues and the SLM-Bench catalogs, then runs the whole pipeline:
small datasets for the three tasks from the builtin offline teacher (review
sample auto-approved), three tiny students trained in parallel, an evaluation
report with plots, and promotion. Run it again and the unchanged steps are
reused.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runQuickstart(cmd.Context(), a, quickstartSpec())
		},
	}
}

func runQuickstart(ctx context.Context, a *app, spec workflows.PipelineSpec) error {
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
	fmt.Fprintln(a.out, "\n3/3 Pipeline: datasets -> review (auto) -> train 3 tiny students -> evaluate -> promote")
	res, err := runPipeline(ctx, a, e.client, spec)
	if err != nil {
		return err
	}
	printPipelineResult(a, res)
	fmt.Fprintf(a.out, "\nDone in %s.\n", time.Since(start).Round(time.Second))
	fmt.Fprintln(a.out, "Used: the embedded Temporal server, the builtin (offline) teacher, tiny dataset sizes, an")
	fmt.Fprintln(a.out, "auto-approved 10% review sample (recorded in each manifest) and the tiny-* student presets.")
	fmt.Fprintln(a.out, "The real thing: Ollama teachers, required review and the full presets, e.g.")
	fmt.Fprintln(a.out, "  mlmforge dev   # then, in another terminal:")
	fmt.Fprintln(a.out, "  mlmforge pipeline run --spec examples/pipeline.yaml --address 127.0.0.1:7233")
	fmt.Fprintln(a.out, "  (set teacher: ollama:qwen2.5:7b, review.policy: required, presets mlm-135m-json / mlm-60m-intent /")
	fmt.Fprintln(a.out, "  mlm-120m-balanced; reviewers: mlmforge review add-reviewer NAME, UI at http://127.0.0.1:8234)")
	return nil
}

// quickstartSpec is the pipeline quickstart runs: small enough to finish in a
// few minutes on a 2-core laptop, large enough that the students clearly beat
// chance.
func quickstartSpec() workflows.PipelineSpec {
	ds := func(task schemas.Task, variant string, train, test int) workflows.PipelineDataset {
		return workflows.PipelineDataset{Spec: generator.Spec{Task: task, Variant: variant, Teacher: "builtin", Seed: 7,
			Counts: map[string]int{"train": train, "test": test}}}
	}
	model := func(name, task, preset string, steps, batch, seq int) workflows.PipelineModel {
		return workflows.PipelineModel{Name: name, Task: task, Train: workflows.TrainInput{Preset: preset, Steps: steps,
			BatchSize: batch, SeqLen: seq, Seed: 1}}
	}
	return workflows.PipelineSpec{
		Name: "quickstart",
		// 500 test records for the decoders: 100 gave readings up to 17
		// points from the same student's score on 500 (BENCHMARKS.md).
		Datasets: []workflows.PipelineDataset{
			ds(schemas.EdgeJSON, "simple", 2000, 500),
			ds(schemas.EdgeIntent, "50", 1500, 250),
			// 16,000 function-calling records: generating them takes seconds,
			// and at the same steps the student generalizes better than on
			// 2,000 (function exact 39.7% -> 46-57% on 500 test records,
			// BENCHMARKS.md).
			ds(schemas.EdgeFuncCall, "20", 16000, 500),
		},
		Review: workflows.ReviewOptions{Policy: workflows.ReviewAuto},
		// The presets' own recipe (copy supervision, batch 16 or tiny-funccall's
		// 8, validation by the task metric on held-out train records) with
		// fewer steps for tiny-json and tiny-intent.
		Models: []workflows.PipelineModel{
			model("tiny-json", "edgejson", "tiny-json", 1650, 0, 0),
			model("tiny-intent", "edgeintent", "tiny-intent", 300, 0, 0),
			model("tiny-funccall", "edgefunccall", "tiny-funccall", 3000, 8, 0),
		},
		// Constrained decoding shows what a JSON-Schema token mask adds to a
		// tiny decoder, next to its unconstrained answers.
		// Every test record is scored: a limit takes records in stored order,
		// cell by cell, so 100 of EdgeIntent's 250 would cover 20 of its 50
		// classes.
		Eval: workflows.PipelineEval{Constrained: true},
		// Each student is promoted on its headline metric (JSON exact, top-1,
		// example accuracy); these are the bars a useful tiny student clears.
		Promotion: workflows.PromotionPolicy{Tolerance: 0.02, Thresholds: map[string]float64{
			"edgejson.json_exact": 0.5, "edgeintent.top1": 0.9,
			"edgefunccall.example_accuracy": 0.25, "edgefunccall.function_exact": 0.5}},
	}
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
