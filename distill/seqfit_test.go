package distill

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/internal/testutil"
	"github.com/cyclecore/mlmforge/schemas"
)

// TestTrainStudentFitsMaxSeq: a decoder trained from scratch on examples
// longer than its preset's max_seq (tiny-json's 512 against EdgeJSON-complex,
// every example of which is longer) grows max_seq to hold them, trains at the
// 98th percentile of their lengths, cuts almost none and writes the grown
// max_seq into its checkpoint, so that inference can finish the answers too.
// Left to the preset's 512, every example would be cut.
func TestTrainStudentFitsMaxSeq(t *testing.T) {
	cat := testutil.Catalog(t)
	store, err := datasets.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v := genVersion(t, cat, store, schemas.EdgeJSON, "complex", 40)
	preset, err := model.LookupPreset("tiny-json")
	if err != nil {
		t.Fatal(err)
	}
	spec := TrainSpec{Preset: preset.Name, Version: v, Catalog: cat, OutDir: filepath.Join(t.TempDir(), "run"),
		Train: train.Config{TotalSteps: 1, WarmupSteps: 1, BatchSize: 2, EvalEvery: 1, EvalBatches: 1,
			CheckpointEvery: 1, ValidateEvery: -1}}
	res, err := TrainStudent(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if res.Config.MaxSeq <= preset.Config.MaxSeq || res.Train.SeqLen <= preset.Config.MaxSeq || res.Train.SeqLen > res.Config.MaxSeq {
		t.Fatalf("seq_len %d, max_seq %d: want both above the preset's %d", res.Train.SeqLen, res.Config.MaxSeq, preset.Config.MaxSeq)
	}
	if res.Truncated > res.TrainExamples*5/100+1 {
		t.Errorf("%d of %d examples cut at seq_len %d", res.Truncated, res.TrainExamples, res.Train.SeqLen)
	}
	var cf struct {
		MaxSeq int `json:"max_position_embeddings"`
	}
	data, err := os.ReadFile(filepath.Join(res.Checkpoint, "config.json"))
	if err != nil || json.Unmarshal(data, &cf) != nil || cf.MaxSeq != res.Config.MaxSeq {
		t.Fatalf("checkpoint max_position_embeddings %d, want %d (%v)", cf.MaxSeq, res.Config.MaxSeq, err)
	}

	// An explicit seq_len past max_seq grows max_seq to it, and what is
	// longer is cut (and counted).
	spec.OutDir, spec.Train.SeqLen = filepath.Join(t.TempDir(), "run"), 1024
	if res, err = TrainStudent(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	if res.Train.SeqLen != 1024 || res.Config.MaxSeq != 1024 || res.Truncated == 0 || res.Truncated == res.TrainExamples {
		t.Errorf("--seq 1024: seq_len %d, max_seq %d, %d of %d cut; want 1024, 1024, some", res.Train.SeqLen, res.Config.MaxSeq,
			res.Truncated, res.TrainExamples)
	}
}

// TestFitMaxSeq: only decoders trained from scratch grow max_seq (up to
// scratchMaxSeq); a pretrained base (lora, full) and an encoder cut the
// sequence length to theirs.
func TestFitMaxSeq(t *testing.T) {
	dec := model.Config{Arch: model.ArchDecoder, MaxSeq: 512}
	enc := model.Config{Arch: model.ArchEncoder, MaxSeq: 128}
	for _, tc := range []struct {
		cfg          model.Config
		method       string
		seq          int
		want, maxSeq int
	}{
		{dec, MethodSeqKD, 300, 300, 512},
		{dec, MethodSeqKD, 700, 700, 700},
		{dec, MethodMultitask, 1000, 1000, 1000},
		{dec, MethodSeqKD, 100000, scratchMaxSeq, scratchMaxSeq},
		{dec, MethodLoRA, 700, 512, 512},
		{dec, MethodFull, 700, 512, 512},
		{enc, MethodCE, 200, 128, 128},
	} {
		cfg := tc.cfg
		if got := fitMaxSeq(&cfg, tc.method, tc.seq); got != tc.want || cfg.MaxSeq != tc.maxSeq {
			t.Errorf("%s %s seq %d: got seq %d max_seq %d, want %d %d", tc.cfg.Arch, tc.method, tc.seq, got, cfg.MaxSeq, tc.want, tc.maxSeq)
		}
	}
}
