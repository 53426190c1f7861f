package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/infer"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/quant"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
)

// int8MaxDrop is the accuracy the INT8 checkpoint may lose, in points: per-row
// weight-only INT8 keeps ~2 significant digits per weight, well under what training
// noise moves a classifier.
const int8MaxDrop = 2.0

// TestInt8Accuracy compares a trained encoder checkpoint in float32 with its INT8
// export (quant.SaveInt8, loaded back with quant.LoadClassifier, the eval runner's
// path) on a dataset version's test split: top-1 accuracy of both, the difference in
// points, how often they agree, and both weight files' sizes. Utterances are tokenized
// as eval/runner's student does. It fails when INT8 loses more than int8MaxDrop points
// or is not under a third of the float32 size.
//
//	MLMFORGE_INT8_CHECKPOINT=RUN/checkpoints/step-00001000 \
//	MLMFORGE_INT8_DATASET=HOME/datasets/edgeintent/v2 go test -run TestInt8Accuracy -v ./bench/
func TestInt8Accuracy(t *testing.T) {
	ckDir, dsDir := os.Getenv("MLMFORGE_INT8_CHECKPOINT"), os.Getenv("MLMFORGE_INT8_DATASET")
	if ckDir == "" || dsDir == "" {
		t.Skip("set MLMFORGE_INT8_CHECKPOINT (a trained encoder checkpoint directory) and " +
			"MLMFORGE_INT8_DATASET (a dataset version directory with test.parquet) to compare float32 and INT8")
	}
	ck, err := model.LoadModel(ckDir)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Config.Arch != model.ArchEncoder || len(ck.Labels) != ck.Config.NumClasses {
		t.Fatalf("%s: want an encoder checkpoint with labels (arch %s, %d labels)", ckDir, ck.Config.Arch, len(ck.Labels))
	}
	tok, err := tokenizer.Load(filepath.Join(ckDir, model.TokenizerFile))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := datasets.ReadShard(filepath.Join(dsDir, "test.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	recs = slices.DeleteFunc(recs, func(r datasets.Record) bool { return r.Intent == "" })
	if len(recs) == 0 {
		t.Fatalf("%s: no test record has an intent label", dsDir)
	}
	f32, err := infer.NewClassifier(ck.Config, ck.Weights)
	if err != nil {
		t.Fatal(err)
	}
	int8Dir := filepath.Join(t.TempDir(), "int8")
	if err := quant.SaveInt8(int8Dir, ck, ""); err != nil {
		t.Fatal(err)
	}
	q8, labels, err := quant.LoadClassifier(int8Dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(labels, ck.Labels) {
		t.Fatal("the INT8 checkpoint's labels differ from the checkpoint's")
	}
	batches := tokenizeForStudent(tok, recs, ck.Config.MaxSeq)
	predF, durF := classifyAll(t, f32, batches)
	predQ, durQ := classifyAll(t, q8, batches)
	var okF, okQ, agree int
	for i, r := range recs {
		okF += b2i(ck.Labels[predF[i]] == r.Intent)
		okQ += b2i(labels[predQ[i]] == r.Intent)
		agree += b2i(predF[i] == predQ[i])
	}
	n := float64(len(recs))
	accF, accQ := 100*float64(okF)/n, 100*float64(okQ)/n
	sizeF, sizeQ := fileSize(t, filepath.Join(ckDir, model.WeightsFile)), fileSize(t, filepath.Join(int8Dir, quant.Int8WeightsFile))
	fmt.Printf("INT8 vs float32: %s (%s, %d params) on %s/test.parquet (%d utterances)\n",
		ckDir, ck.Preset, ck.Config.NumParams(), dsDir, len(recs))
	fmt.Printf("  float32 top-1 %6.2f%%  %-22s %10d bytes  classify %.3f ms/utt\n", accF, model.WeightsFile, sizeF, ms(durF, n))
	fmt.Printf("  int8    top-1 %6.2f%%  %-22s %10d bytes  classify %.3f ms/utt\n", accQ, quant.Int8WeightsFile, sizeQ, ms(durQ, n))
	fmt.Printf("  difference %+.2f points; same top-1 on %.2f%% of utterances; size ratio %.2fx\n",
		accQ-accF, 100*float64(agree)/n, float64(sizeF)/float64(sizeQ))
	if accF-accQ > int8MaxDrop {
		t.Errorf("INT8 loses %.2f points (%.2f%% -> %.2f%%), more than %.1f", accF-accQ, accF, accQ, int8MaxDrop)
	}
	if 3*sizeQ >= sizeF {
		t.Errorf("INT8 file %d bytes is not under a third of the float32 file's %d", sizeQ, sizeF)
	}
}

// tokenizeForStudent encodes the inputs as eval/runner's student does (an empty
// encoding becomes one PAD token, sequences are cut at max_position_embeddings), in
// batches of 32 as it classifies them.
func tokenizeForStudent(tok *tokenizer.Tokenizer, recs []datasets.Record, maxSeq int) [][][]int {
	var batches [][][]int
	for lo := 0; lo < len(recs); lo += 32 {
		hi := min(len(recs), lo+32)
		batch := make([][]int, hi-lo)
		for i := range batch {
			ids := tok.Encode(recs[lo+i].Input)
			if len(ids) == 0 {
				ids = []int{tok.PAD()}
			}
			batch[i] = ids[:min(len(ids), maxSeq)]
		}
		batches = append(batches, batch)
	}
	return batches
}

// classifyAll returns the top-1 class of every sequence and the time Classify took.
func classifyAll(t *testing.T, c *infer.Classifier, batches [][][]int) ([]int, time.Duration) {
	t.Helper()
	var pred []int
	var took time.Duration
	for _, b := range batches {
		start := time.Now()
		probs, err := c.Classify(b)
		took += time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range probs {
			pred = append(pred, infer.TopK(p, 1)[0].Class)
		}
	}
	return pred, took
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ms is d per item in milliseconds.
func ms(d time.Duration, n float64) float64 { return float64(d.Microseconds()) / 1000 / n }
