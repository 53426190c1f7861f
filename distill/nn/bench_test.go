package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

// BenchmarkDecoderStep measures ForwardBackward of the bench/trainstep_test.go decoder
// (d=256, 4 layers, ff 1024, vocab 8192, B=8, T=128), for profiling:
//
//	go test -run '^$' -bench DecoderStep -cpuprofile cpu.out ./distill/nn/
func BenchmarkDecoderStep(b *testing.B) {
	cfg := model.Config{Arch: model.ArchDecoder, Vocab: 8192, Hidden: 256, Layers: 4, Heads: 4, KVHeads: 4,
		Intermediate: 1024, MaxSeq: 128, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: true}
	n, err := New(cfg, model.Init(cfg, 1), Options{})
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

// BenchmarkReplyStep measures ForwardBackward of the tiny-funccall preset on a
// fine-tuning batch shaped like its data (B=16, T=320, a 40-token reply after
// a 280-token prompt), with the LM head on the reply rows only (the default)
// and on every row:
//
//	go test -run '^$' -bench ReplyStep ./distill/nn/
func BenchmarkReplyStep(b *testing.B) {
	p, err := model.LookupPreset("tiny-funccall")
	if err != nil {
		b.Fatal(err)
	}
	cfg := p.Config
	const B, T, reply = 16, 320, 40
	rng := rand.New(rand.NewPCG(1, 2))
	batch := model.Batch{B: B, T: T, Tokens: make([]int32, B*T), Targets: make([]int32, B*T)}
	for i := range batch.Tokens {
		batch.Tokens[i], batch.Targets[i] = int32(rng.IntN(cfg.Vocab)), -1
		if i%T >= T-reply-1 && i%T < T-1 {
			batch.Targets[i] = int32(rng.IntN(cfg.Vocab))
		}
	}
	for _, all := range []bool{false, true} {
		name := "fast"
		if all {
			name = "naive"
		}
		b.Run(name, func(b *testing.B) {
			n, err := New(cfg, model.Init(cfg, 1), Options{CopyLoss: 1})
			if err != nil {
				b.Fatal(err)
			}
			n.naive = all
			if _, err := n.ForwardBackward(batch); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := n.ForwardBackward(batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
