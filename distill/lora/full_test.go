package lora_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cyclecore/mlmforge/distill"
	"github.com/cyclecore/mlmforge/distill/export"
	"github.com/cyclecore/mlmforge/distill/infer"
	"github.com/cyclecore/mlmforge/distill/lora"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/nn"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/schemas"
)

// TestTrainStudentFull fine-tunes every weight of a random look-alike base given as
// a Hugging Face directory and as a GGUF file (method full, the SLM-Bench recipe):
// the base loads to the same function (same logits as the original weights), the run
// keeps the base's tokenizer and shape, the loss falls, the checkpoint is a whole
// model with the base in its lineage, metrics.json and loss.png are written, and a
// longer run resumes.
func TestTrainStudentFull(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	version := jsonVersion(t, cat, 40)
	ckDir, cfg := baseCheckpoint(t, cat, version)
	orig, err := model.LoadModel(ckDir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(orig.TokenizerPath())
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	hfDir, ggufPath := filepath.Join(root, "hf"), filepath.Join(root, "base.gguf")
	m := &export.Model{Config: cfg, Weights: orig.Weights, Tokenizer: tok}
	if err := export.WriteHF(hfDir, m); err != nil {
		t.Fatal(err)
	}
	lora.StripFormatVersion(t, filepath.Join(hfDir, model.ConfigFile)) // a plain transformers directory
	if err := export.WriteGGUF(ggufPath, m, export.GGUFOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ kind, path string }{{lora.KindHF, hfDir}, {lora.KindGGUF, ggufPath}} {
		t.Run(tc.kind, func(t *testing.T) {
			base, err := lora.LoadBase(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if base.Kind != tc.kind || len(base.Config.Diff(cfg)) > 0 || base.Tokenizer.VocabSize() != tok.VocabSize() {
				t.Fatalf("base kind %q config diff %v vocab %d", base.Kind, base.Config.Diff(cfg), base.Tokenizer.VocabSize())
			}
			checkSameFunction(t, cfg, orig.Weights, base.Weights)

			spec := distill.TrainSpec{Preset: "tiny-json", Method: distill.MethodFull, Base: tc.path, Version: version,
				Catalog: cat, OutDir: filepath.Join(t.TempDir(), "run"),
				Train: train.Config{LR: 3e-3, TotalSteps: 10, BatchSize: 2, SeqLen: 160, EvalEvery: 5, EvalBatches: 1, CheckpointEvery: 5}}
			res, err := distill.TrainStudent(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			ck, err := model.LoadCheckpoint(res.Checkpoint, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(ck.Config.Diff(cfg)) > 0 || ck.Lineage["method"] != distill.MethodFull || ck.Lineage["base"] != base.Dir ||
				ck.Lineage["base_sha256"] != base.Digest {
				t.Fatalf("checkpoint config diff %v lineage %v", ck.Config.Diff(cfg), ck.Lineage)
			}
			ckTok, err := tokenizer.Load(ck.TokenizerPath())
			if err != nil {
				t.Fatal(err)
			}
			text := "Extract the order: ships to Oslo"
			if !slices.Equal(ckTok.Encode(text), tok.Encode(text)) {
				t.Fatal("the checkpoint's tokenizer is not the base's")
			}
			var metrics train.Metrics
			data, err := os.ReadFile(filepath.Join(spec.OutDir, "metrics.json"))
			if err != nil || json.Unmarshal(data, &metrics) != nil || len(metrics.Steps) != 10 {
				t.Fatalf("metrics.json: %v, %d steps", err, len(metrics.Steps))
			}
			first, last := metrics.Steps[0].Loss, metrics.Steps[9].Loss
			t.Logf("full fine-tuning loss %.3f -> %.3f", first, last)
			if last > first-0.3 {
				t.Fatalf("training loss %.3f -> %.3f, want a drop of more than 0.3", first, last)
			}
			if _, err := os.Stat(filepath.Join(spec.OutDir, "loss.png")); err != nil {
				t.Fatal(err)
			}
			spec.Train.TotalSteps = 12
			again, err := distill.TrainStudent(context.Background(), spec)
			if err != nil || !again.Resumed || again.Result.Step != 12 {
				t.Fatalf("second run: %+v, %v; want a resume to step 12", again, err)
			}
		})
	}
}

// checkSameFunction checks that got computes what want does: the training graph
// built from got gives the logits of the inference decoder of want.
func checkSameFunction(t *testing.T, cfg model.Config, want, got model.Weights) {
	t.Helper()
	dec, err := infer.NewDecoder(cfg, want)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int{5, 17, 3, 42, 9, 11}
	ref := dec.Forward(ids)
	net, err := nn.New(cfg, got, nn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := model.Batch{B: 1, T: len(ids), Tokens: make([]int32, len(ids))}
	for i, id := range ids {
		b.Tokens[i] = int32(id)
	}
	logits, err := net.Logits(b)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for pos := range ids {
		for v, x := range ref[pos] {
			worst = max(worst, math.Abs(float64(x-logits[pos*cfg.Vocab+v])))
		}
	}
	if worst > 1e-4 {
		t.Fatalf("logits of the loaded base differ from the original's by %g", worst)
	}
}
