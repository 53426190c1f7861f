package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/cyclecore/mlmforge/distill/lora"
	"github.com/cyclecore/mlmforge/distill/model"
)

// BenchmarkLoRAStep measures ForwardBackward of BenchmarkDecoderStep's decoder with
// r=8 adapters on q and v (dropout 0.05) and the base frozen, for comparison with the
// full step:
//
//	go test -run '^$' -bench 'DecoderStep|LoRAStep' ./distill/nn/
func BenchmarkLoRAStep(b *testing.B) {
	cfg := model.Config{Arch: model.ArchDecoder, Vocab: 8192, Hidden: 256, Layers: 4, Heads: 4, KVHeads: 4,
		Intermediate: 1024, MaxSeq: 128, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: true}
	lc := lora.DefaultConfig()
	n, err := New(cfg, model.Init(cfg, 1), Options{LoRA: &lc})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	batch := model.Batch{B: 8, T: 128, Tokens: make([]int32, 8*128), Targets: make([]int32, 8*128)}
	for i := range batch.Tokens {
		batch.Tokens[i], batch.Targets[i] = int32(rng.IntN(cfg.Vocab)), int32(rng.IntN(cfg.Vocab))
	}
	if _, err := n.ForwardBackward(batch); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := n.ForwardBackward(batch); err != nil {
			b.Fatal(err)
		}
	}
}
