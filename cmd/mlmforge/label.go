package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator/ollama"
	"github.com/cyclecore/mlmforge/generator/softlabel"
	"github.com/cyclecore/mlmforge/schemas"
)

func newLabelCmd(a *app) *cobra.Command {
	var teacher, split string
	var concurrency int
	cmd := &cobra.Command{
		Use:   "label DATASET",
		Short: "Add teacher soft labels (Ollama logprobs) to an EdgeIntent dataset, as a new version",
		Long: `label asks an Ollama teacher for a distribution over the classes of every
record of a split: the classes are listed with short codes, the teacher
answers a code, and the log probabilities of its first answer token (top 20,
renormalized) become the record's soft_labels column. The result is a new
dataset version whose parent is the input, for mlmforge train --method kd.
Answers that are not usable distributions are left unlabelled and counted.`,
		Example: `  mlmforge label edgeintent@v3 --teacher ollama:qwen2.5:3b
  mlmforge train --preset mlm-60m-intent --dataset edgeintent@v4 --method kd`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			model, ok := strings.CutPrefix(teacher, "ollama:")
			if !ok || model == "" {
				return usageErrorf("--teacher %q: want ollama:<model> (the builtin teacher's labels are one-hot)", teacher)
			}
			return runLabel(cmd.Context(), a, args[0], model, split, concurrency)
		},
	}
	cmd.Flags().StringVar(&teacher, "teacher", "", "ollama:<model> to ask (required)")
	cmd.Flags().StringVar(&split, "split", "train", "split to label (the others are copied unchanged)")
	cmd.Flags().IntVar(&concurrency, "concurrency", 4, "records labelled at once")
	return cmd
}

func runLabel(ctx context.Context, a *app, ref, model, split string, concurrency int) error {
	task, version, err := datasets.ParseRef(ref)
	if err != nil {
		return err
	}
	if task != schemas.EdgeIntent {
		return fmt.Errorf("dataset %s: soft labels are for edgeintent datasets", ref)
	}
	store, err := datasets.Open(filepath.Join(a.home, "datasets"))
	if err != nil {
		return err
	}
	ver, err := store.Version(task, version)
	if err != nil {
		return err
	}
	cat, err := schemas.Load()
	if err != nil {
		return err
	}
	recs, err := ver.Read(split)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("dataset %s has no %s records", ref, split)
	}
	tax, err := cat.Taxonomy(recs[0].Variant)
	if err != nil {
		return fmt.Errorf("dataset %s: %w (soft labels need a catalog taxonomy)", ref, err)
	}
	t, err := ollama.New(ollama.Config{Host: envOllamaHost(), Model: model})
	if err != nil {
		return err
	}
	labeler, err := ollama.NewSoftLabeler(t, ollama.SoftLabelOptions{})
	if err != nil {
		return err
	}
	b := newBar(a.err)
	rep, err := softlabel.Annotate(ctx, labeler, tax, recs, softlabel.AnnotateOptions{Concurrency: concurrency,
		Progress: func(done int) { b.line(fmt.Sprintf("labelled %d/%d", done, len(recs)), done == len(recs)) }})
	b.finish()
	if err != nil {
		return err
	}
	w, err := store.Create(task, "")
	if err != nil {
		return err
	}
	defer w.Abort()
	for _, s := range ver.Manifest().SplitNames() {
		rs := recs
		if s != split {
			if rs, err = ver.Read(s); err != nil {
				return err
			}
		}
		if err := w.Write(rs...); err != nil {
			return err
		}
	}
	prov, _ := json.Marshal(map[string]any{"soft_labels": map[string]any{"teacher": "ollama:" + model, "split": split, "report": rep},
		"parent_provenance": ver.Manifest().Provenance})
	m, err := w.Commit(datasets.CommitInfo{Parent: ver.Manifest().Version, Provenance: prov, Review: ver.Manifest().Review,
		Notes: fmt.Sprintf("soft labels on %s from ollama:%s", split, model)})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Wrote %s@%s: %d records soft-labelled, %d kept, %d rejected; teacher agrees with the gold label on %d\n",
		task, m.Version, rep.Labeled, rep.Kept, len(recs)-rep.Labeled-rep.Kept, rep.Agree)
	return nil
}
