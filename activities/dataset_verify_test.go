package activities

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// TestDatasetVerifiedBeforeReading (issue 14 item 6): a version whose file
// no longer matches its manifest's sha256 fails training and evaluation at
// once, with an error that names the file and wraps datasets.ErrCorrupt
// (which the worker makes non-retryable).
func TestDatasetVerifiedBeforeReading(t *testing.T) {
	home := t.TempDir()
	a := &Activities{Home: home, Identity: "test"}
	spec := generator.Spec{Task: schemas.EdgeIntent, Variant: "50", Counts: map[string]int{"test": 60, "train": 60}, Seed: 3}
	_, cr, err := runDataset(t, a, spec)
	if err != nil {
		t.Fatal(err)
	}
	ref := "edgeintent@" + cr.Version
	path := filepath.Join(cr.Dir, "train.parquet")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x20 // one bit: the file may still decode, its hash does not match
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	calls := map[string]func() error{
		"PrepareTrain": func() error {
			_, err := a.PrepareTrain(ctx, workflows.TrainInput{Preset: "tiny-intent", Dataset: ref})
			return err
		},
		"TrainModel": func() error {
			_, err := a.TrainModel(ctx, workflows.TrainPlan{Input: workflows.TrainInput{Preset: "tiny-intent", Dataset: ref}})
			return err
		},
		"PrepareEval": func() error {
			_, err := a.PrepareEval(ctx, workflows.EvalInput{Datasets: []string{ref}, Models: []string{"ollama:x"}})
			return err
		},
		"EvalShard": func() error {
			_, err := a.EvalShard(ctx, workflows.EvalShardInput{Job: workflows.EvalJob{Dataset: ref, Split: "test", N: 10}})
			return err
		},
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, datasets.ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "sha256") {
			t.Errorf("%s on a tampered version: %v; want ErrCorrupt naming %s and its sha256", name, err, path)
		}
	}
}
