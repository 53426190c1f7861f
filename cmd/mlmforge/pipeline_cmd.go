package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/pipelinespec"
	"github.com/cyclecore/mlmforge/workflows"
)

func newPipelineCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Run the regenerate -> review -> train -> evaluate -> promote pipeline from a spec file",
	}
	cmd.AddCommand(newPipelineRunCmd(a))
	return cmd
}

func newPipelineRunCmd(a *app) *cobra.Command {
	var cf clusterFlags
	var specPath string
	var detach bool
	cmd := &cobra.Command{
		Use:   "run --spec FILE",
		Short: "Run one pass of a pipeline spec (steps whose inputs did not change are reused)",
		Long: `pipeline run starts the Pipeline workflow for a spec file (YAML or JSON; every
field is documented in docs/pipeline.md): datasets are regenerated behind
their review gate (or reused when a version with the same spec exists), the
students are trained in parallel child workflows (reused when the same
training already finished), students and baselines are evaluated into one
report, and each student is promoted only if it clears the thresholds and
does not fall below the promoted model by more than the tolerance.`,
		Example: `  mlmforge pipeline run --spec examples/pipeline.yaml
  mlmforge pipeline run --spec weekly.yaml --address 127.0.0.1:7233 --detach`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if specPath == "" {
				return usageErrorf("--spec is required (see examples/pipeline.yaml)")
			}
			if detach && cf.address == "" {
				return usageErrorf("--detach needs --address (the embedded server stops with this process)")
			}
			spec, err := pipelinespec.Load(specPath)
			if err != nil {
				return err
			}
			return runPipelineCmd(cmd.Context(), a, cf, spec, detach)
		},
	}
	cmd.Flags().StringVar(&cf.address, "address", "", "Temporal frontend HOST:PORT; empty runs an embedded server and worker in this process")
	cmd.Flags().StringVar(&cf.namespace, "namespace", workflows.DefaultNamespace, "Temporal namespace")
	cf.tls.register(cmd.Flags())
	cmd.Flags().StringVar(&specPath, "spec", "", "pipeline spec file (required)")
	cmd.Flags().BoolVar(&detach, "detach", false, "start the workflow and print its id instead of waiting (needs --address)")
	return cmd
}

func runPipelineCmd(ctx context.Context, a *app, cf clusterFlags, spec workflows.PipelineSpec, detach bool) error {
	c, cleanup, err := connect(ctx, a, cf)
	if err != nil {
		return err
	}
	defer cleanup()
	if detach {
		run, err := startPipeline(ctx, c, spec)
		if err != nil {
			return err
		}
		fmt.Fprintln(a.out, run.GetID())
		fmt.Fprintf(a.err, "started; follow it with: mlmforge status %s --address %s\n", run.GetID(), cf.address)
		return nil
	}
	fmt.Fprintf(a.out, "Pipeline %s\n", spec.Name)
	res, err := runPipeline(ctx, a, c, spec)
	if err != nil {
		return err
	}
	printPipelineResult(a, res)
	return nil
}
