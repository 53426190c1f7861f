package infer

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

// TestConcurrentUse runs generations and classifications from several goroutines at
// once (the race detector watches) and checks each against a lone run.
func TestConcurrentUse(t *testing.T) {
	dc := tinyDecoder(true)
	d, err := NewDecoder(dc, testWeights(dc, 41, 8))
	if err != nil {
		t.Fatal(err)
	}
	ec := tinyEncoder(model.PoolMean)
	cl, err := NewClassifier(ec, testWeights(ec, 42, 6))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(10, 10))
	prompts := make([][]int, 4)
	batches := make([][][]int, 4)
	wantGen := make([][]int, 4)
	wantCls := make([][][]float32, 4)
	for i := range prompts {
		prompts[i] = randTokens(rng, 3+i, dc.Vocab)
		batches[i] = raggedBatch(rng, 5, ec.MaxSeq, ec.Vocab)
		if wantGen[i], _, err = d.Generate(context.Background(), prompts[i], GenerateOptions{MaxNewTokens: 10}); err != nil {
			t.Fatal(err)
		}
		if wantCls[i], err = cl.Classify(batches[i]); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range prompts {
		wg.Go(func() {
			got, _, err := d.Generate(context.Background(), prompts[i], GenerateOptions{MaxNewTokens: 10})
			if err != nil || !slices.Equal(got, wantGen[i]) {
				t.Errorf("concurrent Generate %d: %v, %v; alone %v", i, got, err, wantGen[i])
			}
		})
		wg.Go(func() {
			got, err := cl.Classify(batches[i])
			if err != nil {
				t.Errorf("concurrent Classify %d: %v", i, err)
				return
			}
			for j := range got {
				if !slices.Equal(got[j], wantCls[i][j]) {
					t.Errorf("concurrent Classify %d, sequence %d differs from a lone run", i, j)
				}
			}
		})
	}
	wg.Wait()
}
