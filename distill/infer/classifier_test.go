package infer

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

// maxProbDiff is the largest |got - want| over two probability tables.
func maxProbDiff(got [][]float32, want [][]float64) float64 {
	var diff float64
	for i := range want {
		for j := range want[i] {
			diff = math.Max(diff, math.Abs(float64(got[i][j])-want[i][j]))
		}
	}
	return diff
}

// raggedBatch is n sequences of 1 to maxLen tokens.
func raggedBatch(rng *rand.Rand, n, maxLen, vocab int) [][]int {
	b := make([][]int, n)
	for i := range b {
		b[i] = randTokens(rng, 1+rng.IntN(maxLen), vocab)
	}
	return b
}

func TestClassifyMatchesReference(t *testing.T) {
	for _, pooling := range []string{model.PoolMean, model.PoolFirst} {
		t.Run(pooling, func(t *testing.T) {
			c := tinyEncoder(pooling)
			w := testWeights(c, 21, 6)
			cl, err := NewClassifier(c, w)
			if err != nil {
				t.Fatal(err)
			}
			batch := raggedBatch(rand.New(rand.NewPCG(2, 3)), 6, c.MaxSeq, c.Vocab)
			batch = append(batch, randTokens(rand.New(rand.NewPCG(4, 4)), c.MaxSeq, c.Vocab))
			got, err := cl.Classify(batch)
			if err != nil {
				t.Fatal(err)
			}
			want := make([][]float64, len(batch))
			spread := 0.0
			for i, seq := range batch {
				want[i] = refClassify(c, w, seq)
				spread = math.Max(spread, slices.Max(want[i]))
				var sum float64
				for _, p := range got[i] {
					sum += float64(p)
				}
				if math.Abs(sum-1) > 1e-5 {
					t.Errorf("sequence %d: probabilities sum to %g", i, sum)
				}
			}
			diff := maxProbDiff(got, want)
			t.Logf("max |prob - reference| = %.2e (largest probability %.2f)", diff, spread)
			if spread < 0.4 {
				t.Fatalf("largest probability %.2f: the test weights are too weak to catch errors", spread)
			}
			if diff > 1e-5 {
				t.Errorf("max error %.2e > 1e-5", diff)
			}
		})
	}
}

func TestClassifyIndependentOfBatch(t *testing.T) {
	c := tinyEncoder(model.PoolMean)
	cl, err := NewClassifier(c, testWeights(c, 22, 6))
	if err != nil {
		t.Fatal(err)
	}
	// 60 sequences of up to 48 tokens: more than groupTokens, so the batch is also cut
	// into several packed groups.
	batch := raggedBatch(rand.New(rand.NewPCG(5, 5)), 60, c.MaxSeq, c.Vocab)
	if totalTokens(batch) <= groupTokens {
		t.Fatalf("batch of %d tokens does not exercise grouping", totalTokens(batch))
	}
	all, err := cl.Classify(batch)
	if err != nil {
		t.Fatal(err)
	}
	reversed := slices.Clone(batch)
	slices.Reverse(reversed)
	rev, err := cl.Classify(reversed)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i, seq := range batch {
		alone, err := cl.Classify([][]int{seq})
		if err != nil {
			t.Fatal(err)
		}
		for j := range alone[0] {
			worst = math.Max(worst, math.Abs(float64(alone[0][j]-all[i][j])))
			worst = math.Max(worst, math.Abs(float64(rev[len(batch)-1-i][j]-all[i][j])))
		}
	}
	t.Logf("max difference between batch compositions: %.2e", worst)
	if worst > 1e-6 {
		t.Errorf("a sequence's probabilities move by %.2e with the rest of the batch", worst)
	}
}

func TestClassifyRejects(t *testing.T) {
	c := tinyEncoder(model.PoolMean)
	cl, err := NewClassifier(c, model.Init(c, 1))
	if err != nil {
		t.Fatal(err)
	}
	for name, batch := range map[string][][]int{
		"empty sequence": {{1, 2}, {}},
		"too long":       {make([]int, c.MaxSeq+1)},
		"bad token":      {{1, c.Vocab}},
	} {
		if _, err := cl.Classify(batch); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if out, err := cl.Classify(nil); err != nil || len(out) != 0 {
		t.Errorf("empty batch: %v, %v", out, err)
	}
	if _, err := NewClassifier(tinyDecoder(true), model.Init(tinyDecoder(true), 1)); err == nil {
		t.Error("decoder config: no error")
	}
}

func TestTopK(t *testing.T) {
	got := TopK([]float32{0.1, 0.4, 0.1, 0.3, 0.1}, 3)
	want := []Prediction{{1, 0.4}, {3, 0.3}, {0, 0.1}}
	if !slices.Equal(got, want) {
		t.Errorf("TopK = %v, want %v", got, want)
	}
	if n := len(TopK([]float32{0.5, 0.5}, 5)); n != 2 {
		t.Errorf("k past the classes: %d predictions", n)
	}
	if n := len(TopK([]float32{0.5, 0.5}, -1)); n != 0 {
		t.Errorf("negative k: %d predictions", n)
	}
}

// TestClassifyPaddedBatch checks the padding contract against the reference: a
// right-padded row with padding keys masked and pooled over valid positions gives what
// Classify gives for the row's tokens alone.
func TestClassifyPaddedBatch(t *testing.T) {
	c := tinyEncoder(model.PoolMean)
	w := testWeights(c, 23, 6)
	cl, err := NewClassifier(c, w)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	lens := []int{5, 17, 1, 12}
	b := model.Batch{B: len(lens), T: 17, Tokens: make([]int32, len(lens)*17), Valid: make([]float32, len(lens)*17)}
	want := make([][]float64, len(lens))
	for i, n := range lens {
		row := make([]int, b.T)
		valid := make([]bool, b.T)
		for j := range row {
			// Padding holds real token ids: only the mask may hide them.
			row[j] = rng.IntN(c.Vocab)
			b.Tokens[i*b.T+j] = int32(row[j])
			valid[j] = j < n
			if valid[j] {
				b.Valid[i*b.T+j] = 1
			}
		}
		want[i] = refClassifyPadded(c, w, row, valid)
	}
	seqs, err := Unpad(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cl.Classify(seqs)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxProbDiff(got, want); d > 1e-5 {
		t.Errorf("padded reference and Classify differ by %.2e", d)
	}
	b.Valid[7] = 1 // row 0 has 5 valid tokens: position 7 is padding
	if _, err := Unpad(b); err == nil {
		t.Error("a valid token after padding: no error")
	}
	if _, err := Unpad(model.Batch{B: 2, T: 3, Tokens: make([]int32, 5)}); err == nil {
		t.Error("wrong token count: no error")
	}
}
