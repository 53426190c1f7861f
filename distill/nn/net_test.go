package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

func tinyDecoder() model.Config {
	return model.Config{Arch: model.ArchDecoder, Vocab: 48, Hidden: 32, Layers: 2, Heads: 4, KVHeads: 2,
		Intermediate: 64, MaxSeq: 16, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: true}
}

func tinyEncoder() model.Config {
	return model.Config{Arch: model.ArchEncoder, Vocab: 40, Hidden: 32, Layers: 1, Heads: 4, KVHeads: 4,
		Intermediate: 48, MaxSeq: 16, RopeTheta: 10000, NormEps: 1e-5, NumClasses: 5, Pooling: model.PoolMean}
}

// lmBatch is a random decoder batch whose second sequence ends in padding.
func lmBatch(cfg model.Config, B, T int, seed uint64) model.Batch {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := model.Batch{B: B, T: T, Tokens: make([]int32, B*T), Targets: make([]int32, B*T)}
	for i := range b.Tokens {
		b.Tokens[i] = int32(rng.IntN(cfg.Vocab))
	}
	for i := range b.Targets {
		b.Targets[i] = -1
		if i%T < T-1 && !(i/T == 1 && i%T >= T-3) {
			b.Targets[i] = b.Tokens[i+1]
		}
	}
	return b
}

func newNet(t *testing.T, cfg model.Config, opts Options) *Net {
	t.Helper()
	n, err := New(cfg, model.Init(cfg, 42), opts)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDecoderLossAndAccumulation(t *testing.T) {
	cfg := tinyDecoder()
	n := newNet(t, cfg, Options{})
	b := lmBatch(cfg, 2, 8, 1)
	loss, err := n.ForwardBackward(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := math.Log(float64(cfg.Vocab)); math.Abs(loss-want) > 0.05 {
		t.Fatalf("initial loss %.4f, want about ln V = %.4f", loss, want)
	}
	first := make([][]float32, len(n.Params()))
	for i, p := range n.Params() {
		first[i] = append([]float32(nil), p.Grad...)
	}
	l2, err := n.Loss(b)
	if err != nil || math.Abs(l2-loss) > 1e-9 {
		t.Fatalf("Loss = %v, %v; ForwardBackward gave %v", l2, err, loss)
	}
	if _, err := n.ForwardBackward(b); err != nil {
		t.Fatal(err)
	}
	for i, p := range n.Params() {
		for j, g := range p.Grad {
			if math.Abs(float64(g-2*first[i][j])) > 1e-6*(1+math.Abs(float64(g))) {
				t.Fatalf("%s[%d]: second call gives %g, want twice %g (gradients must accumulate)", p.Name, j, g, first[i][j])
			}
		}
	}
	if len(n.graphs) != 2 {
		t.Fatalf("%d graphs cached, want 2 (train and loss for one shape)", len(n.graphs))
	}
}

// TestDecoderTrains runs plain SGD on one batch through Params: the loss must fall,
// which also shows that Data aliases the weights the graph computes with.
func TestDecoderTrains(t *testing.T) {
	cfg := tinyDecoder()
	cfg.TiedEmbeddings = false
	n := newNet(t, cfg, Options{})
	b := lmBatch(cfg, 2, 8, 2)
	first, err := n.Loss(b)
	if err != nil {
		t.Fatal(err)
	}
	for step := 0; step < 30; step++ {
		for _, p := range n.Params() {
			clear(p.Grad)
		}
		if _, err := n.ForwardBackward(b); err != nil {
			t.Fatal(err)
		}
		for _, p := range n.Params() {
			for i := range p.Data {
				p.Data[i] -= 0.5 * p.Grad[i]
			}
		}
	}
	last, err := n.Loss(b)
	if err != nil {
		t.Fatal(err)
	}
	if last > first-1 {
		t.Fatalf("loss %.3f -> %.3f after 30 SGD steps, want a drop of more than 1", first, last)
	}
}

func TestDecoderIsCausal(t *testing.T) {
	cfg := tinyDecoder()
	n := newNet(t, cfg, Options{})
	b := lmBatch(cfg, 1, 6, 3)
	a, err := n.Logits(b)
	if err != nil {
		t.Fatal(err)
	}
	b.Tokens[5] = (b.Tokens[5] + 1) % int32(cfg.Vocab)
	c, err := n.Logits(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5*cfg.Vocab; i++ {
		if a[i] != c[i] {
			t.Fatalf("logit %d of an earlier position changed with the last token", i)
		}
	}
	if a[5*cfg.Vocab] == c[5*cfg.Vocab] {
		t.Fatal("the last position's logits did not change with its token")
	}
}

func TestEncoderPaddingAndDistillation(t *testing.T) {
	cfg := tinyEncoder()
	b := model.Batch{B: 2, T: 5, Tokens: []int32{3, 7, 9, 0, 0, 4, 4, 8, 1, 2},
		Valid:  []float32{1, 1, 1, 0, 0, 1, 1, 1, 1, 1},
		Labels: []int32{2, 4}, Weights: []float32{1, 0.5}}
	n := newNet(t, cfg, Options{KDAlpha: 0.5, KDTemperature: 2})
	a, err := n.Logits(b)
	if err != nil {
		t.Fatal(err)
	}
	b.Tokens[3], b.Tokens[4] = 11, 12
	c, err := n.Logits(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i] != c[i] {
			t.Fatalf("logit %d changed when only padding tokens changed", i)
		}
	}
	ce, err := n.Loss(b)
	if err != nil {
		t.Fatal(err)
	}
	b.Soft = []float32{0, 0, 1, 0, 0, 0.2, 0.2, 0.2, 0.2, 0.2}
	kd, err := n.ForwardBackward(b)
	if err != nil {
		t.Fatal(err)
	}
	if kd == ce || math.IsNaN(kd) {
		t.Fatalf("distillation loss %v equals plain cross-entropy %v", kd, ce)
	}
	var norm float64
	for _, p := range n.Params() {
		for _, g := range p.Grad {
			norm += float64(g) * float64(g)
		}
	}
	if norm == 0 || math.IsNaN(norm) {
		t.Fatalf("gradient norm %v", norm)
	}
}

func TestBatchErrors(t *testing.T) {
	n := newNet(t, tinyDecoder(), Options{})
	good := lmBatch(tinyDecoder(), 1, 4, 4)
	cases := map[string]func(b *model.Batch){
		"Targets: 3 values":       func(b *model.Batch) { b.Targets = b.Targets[:3] },
		"exceeds max_position":    func(b *model.Batch) { b.T = 100 },
		"outside vocabulary":      func(b *model.Batch) { b.Tokens = []int32{1, 2, 3, 99} },
		"target 77 at position 0": func(b *model.Batch) { b.Targets = []int32{77, -1, -1, -1} },
	}
	for want, mutate := range cases {
		b := good
		b.Tokens, b.Targets = append([]int32(nil), good.Tokens...), append([]int32(nil), good.Targets...)
		mutate(&b)
		if _, err := n.ForwardBackward(b); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one containing %q", err, want)
		}
	}
	if _, err := New(tinyDecoder(), model.Init(tinyEncoder(), 1), Options{}); err == nil {
		t.Error("New accepted weights of another config")
	}
	if _, err := New(tinyDecoder(), model.Init(tinyDecoder(), 1), Options{KDAlpha: 2}); err == nil {
		t.Error("New accepted KDAlpha 2")
	}
}
