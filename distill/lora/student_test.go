package lora_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill"
	"github.com/cyclecore/mlmforge/distill/lora"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/schemas"
)

// jsonVersion writes a small EdgeJSON dataset version with n train records.
func jsonVersion(t *testing.T, cat *schemas.Catalog, n int) *datasets.Version {
	t.Helper()
	store, err := datasets.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := store.Create(schemas.EdgeJSON, "v1")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	s := cat.Schemas[0]
	recs := make([]datasets.Record, n)
	for i := range recs {
		recs[i] = datasets.Record{ID: fmt.Sprintf("j%03d", i), Task: string(schemas.EdgeJSON), Split: "train", Cell: s.ID,
			Input: fmt.Sprintf("order %d ships to Oslo", i%4), Target: fmt.Sprintf(`{"id": %d, "city": "Oslo"}`, i%4),
			Variant: "v", Provenance: "{}", Validation: "{}"}
	}
	if err := w.Write(recs...); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(datasets.CommitInfo{Notes: "lora test"}); err != nil {
		t.Fatal(err)
	}
	v, err := store.Version(schemas.EdgeJSON, "v1")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// baseCheckpoint saves a random tiny-json decoder with a ChatML tokenizer as an
// mlmforge checkpoint: the frozen base of the run.
func baseCheckpoint(t *testing.T, cat *schemas.Catalog, v *datasets.Version) (string, model.Config) {
	t.Helper()
	recs, err := v.Read("train")
	if err != nil {
		t.Fatal(err)
	}
	var corpus []string // the prompts, so that they tokenize short as a real base's would
	for i := range recs {
		system, user, err := train.Prompt(cat, &recs[i])
		if err != nil {
			t.Fatal(err)
		}
		corpus = append(corpus, system, user, recs[i].Target)
	}
	tok, err := tokenizer.Train(slices.Values(corpus),
		tokenizer.TrainConfig{VocabSize: 512, SpecialTokens: tokenizer.DefaultSpecialTokens(true)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := model.LookupPreset("tiny-json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.Config
	cfg.Vocab = tok.VocabSize()
	cfg.Pointer, cfg.InductionNgram = false, 0 // a pretrained base is a plain Llama
	dir := filepath.Join(t.TempDir(), "base")
	if err := model.SaveCheckpoint(dir, &model.Checkpoint{Config: cfg, Preset: p.Name, Weights: model.Init(cfg, 11)}, tok.Save); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

// TestTrainStudentLoRA runs method lora end to end: adapters only in the checkpoint,
// base and digest in the lineage, the loss falls, the base is untouched, the merged
// model differs from the base only in the targeted tensors, and a longer run resumes.
func TestTrainStudentLoRA(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	version := jsonVersion(t, cat, 40)
	baseDir, cfg := baseCheckpoint(t, cat, version)
	digest, err := lora.WeightsDigest(baseDir)
	if err != nil {
		t.Fatal(err)
	}
	spec := distill.TrainSpec{Preset: "tiny-json", Method: distill.MethodLoRA, Base: baseDir, Version: version,
		Catalog: cat, OutDir: filepath.Join(t.TempDir(), "run"),
		LoRA:  &lora.Config{R: 4, Alpha: 8, Dropout: 0.05, Targets: []string{lora.ModuleQ, lora.ModuleV}, Seed: 2},
		Train: train.Config{LR: 2e-2, TotalSteps: 10, BatchSize: 2, SeqLen: 160, EvalEvery: 5, EvalBatches: 1, CheckpointEvery: 5}}
	res, err := distill.TrainStudent(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if !lora.IsCheckpoint(res.Checkpoint) {
		t.Fatalf("checkpoint %s is not an adapter checkpoint", res.Checkpoint)
	}
	if _, err := os.Stat(filepath.Join(res.Checkpoint, model.WeightsFile)); err == nil {
		t.Fatal("the adapter checkpoint holds full model weights")
	}
	ck, err := lora.Load(res.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Lineage["base_sha256"] != digest || ck.Base.Digest != digest || ck.Lineage["method"] != "lora" || ck.Lineage["base"] == "" {
		t.Fatalf("lineage %v, base %+v; want the base digest %s", ck.Lineage, ck.Base, digest)
	}
	var metrics train.Metrics
	data, err := os.ReadFile(filepath.Join(spec.OutDir, "metrics.json"))
	if err != nil || json.Unmarshal(data, &metrics) != nil || len(metrics.Steps) != 10 {
		t.Fatalf("metrics.json: %v, %d steps", err, len(metrics.Steps))
	}
	first, last := metrics.Steps[0].Loss, metrics.Steps[len(metrics.Steps)-1].Loss
	t.Logf("lora training loss %.3f -> %.3f over %d steps", first, last, len(metrics.Steps))
	if last > first-0.3 {
		t.Fatalf("training loss %.3f -> %.3f, want a drop of more than 0.3", first, last)
	}
	if d, err := lora.WeightsDigest(baseDir); err != nil || d != digest {
		t.Fatalf("base weights changed: %v", err)
	}
	checkMerged(t, res.Checkpoint, baseDir, cfg)

	spec.Train.TotalSteps = 12
	again, err := distill.TrainStudent(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Resumed || again.Result.Step != 12 {
		t.Fatalf("second run: resumed %v at step %d, want a resume to step 12", again.Resumed, again.Result.Step)
	}
}

// checkMerged loads the adapter checkpoint as eval does and compares it with the base.
func checkMerged(t *testing.T, adapterDir, baseDir string, cfg model.Config) {
	t.Helper()
	merged, err := lora.LoadModel(adapterDir)
	if err != nil {
		t.Fatal(err)
	}
	base, err := model.LoadModel(baseDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Config.Diff(cfg)) > 0 || merged.TokenizerPath() == "" {
		t.Fatalf("merged config %+v, tokenizer %q", merged.Config, merged.TokenizerPath())
	}
	for _, p := range cfg.Params() {
		same := slices.Equal(merged.Weights[p.Name].Data, base.Weights[p.Name].Data)
		adapted := strings.Contains(p.Name, "q_proj") || strings.Contains(p.Name, "v_proj")
		if same == adapted {
			t.Errorf("%s: merged equals base %v, adapted %v", p.Name, same, adapted)
		}
	}
}

func TestPickMethodLoRA(t *testing.T) {
	if m, err := distill.PickMethod(model.ArchDecoder, distill.MethodLoRA); err != nil || m != distill.MethodLoRA {
		t.Fatalf("PickMethod(decoder, lora) = %q, %v", m, err)
	}
	if _, err := distill.PickMethod(model.ArchEncoder, distill.MethodLoRA); err == nil {
		t.Fatal("PickMethod accepted lora for an encoder")
	}
}
