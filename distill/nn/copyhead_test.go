package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

// TestCopyLossGradient checks the pointer head's loss and gradient in float64:
// with L = sum(out * R) + copy loss, the fused backward's dqkv must match central
// differences of L, for grouped-query heads, causal masking, padding and rows
// with one or several sources (and rows without).
func TestCopyLossGradient(t *testing.T) {
	const B, T, H, K, hd = 2, 6, 4, 2, 3
	f := &feed{batch: B, seq: T, valid: []float32{1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1},
		copyOff: []int32{0, 0, 0, 1, 3, 3, 3, 3, 4, 4, 4, 6, 7, 7},
		copySrc: []int32{1, 0, 2, 0, 1, 2, 3}}
	op := &attnOp{seq: T, heads: H, kvHeads: K, headDim: hd, causal: true, feed: f,
		copy: &copySupervision{weight: 0.7, head: 1}}
	rng := rand.New(rand.NewPCG(3, 4))
	n := B * T * (H + 2*K) * hd
	qkv, r := randn(rng, n, 1), randn(rng, B*T*H*hd, 1)
	op.lse = make([]float64, B*T*H)
	loss := func() float64 {
		out := make([]float64, B*T*H*hd)
		attnFwd(op, qkv, out)
		l := op.copy.loss
		for i, v := range out {
			l += v * r[i]
		}
		return l
	}
	base := loss()
	if op.copy.rows != 5 || !(op.copy.loss > 0) {
		t.Fatalf("copy loss %g over %d rows, want a positive loss over the 5 supervised rows", op.copy.loss, op.copy.rows)
	}
	grad := make([]float64, n)
	attnBwd(op, qkv, r, grad)
	const h = 1e-6
	worst := 0.0
	for i := range qkv {
		orig := qkv[i]
		qkv[i] = orig + h
		up := loss()
		qkv[i] = orig - h
		down := loss()
		qkv[i] = orig
		fd := (up - down) / (2 * h)
		worst = math.Max(worst, math.Abs(fd-grad[i])/math.Max(1, math.Abs(fd)))
	}
	if worst > 1e-6 {
		t.Errorf("worst relative gradient error %.3g (loss %g)", worst, base)
	}

	// Without supervision the same input gives the plain attention gradient.
	op.copy = nil
	plain := make([]float64, n)
	attnBwd(op, qkv, r, plain)
	same := true
	for i := range plain {
		same = same && plain[i] == grad[i]
	}
	if same {
		t.Error("the copy loss changed no gradient")
	}
}

// TestPreviousTokenGradient checks the previous-token supervision the same way.
func TestPreviousTokenGradient(t *testing.T) {
	const B, T, H, K, hd = 2, 5, 2, 1, 3
	f := &feed{batch: B, seq: T, valid: []float32{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, copyOff: make([]int32, B*T+1)}
	op := &attnOp{seq: T, heads: H, kvHeads: K, headDim: hd, causal: true, feed: f,
		copy: &copySupervision{weight: 0.3, previous: true}}
	rng := rand.New(rand.NewPCG(5, 6))
	n := B * T * (H + 2*K) * hd
	qkv, r := randn(rng, n, 1), randn(rng, B*T*H*hd, 1)
	op.lse = make([]float64, B*T*H)
	loss := func() float64 {
		out := make([]float64, B*T*H*hd)
		attnFwd(op, qkv, out)
		l := op.copy.loss
		for i, v := range out {
			l += v * r[i]
		}
		return l
	}
	loss()
	if op.copy.rows != 6 { // rows 1-2 of sequence 0 (3, 4 are padding), 1-4 of sequence 1
		t.Fatalf("%d supervised rows, want 6", op.copy.rows)
	}
	grad := make([]float64, n)
	attnBwd(op, qkv, r, grad)
	worst := 0.0
	for i := range qkv {
		orig := qkv[i]
		qkv[i] = orig + 1e-6
		up := loss()
		qkv[i] = orig - 1e-6
		down := loss()
		qkv[i] = orig
		fd := (up - down) / 2e-6
		worst = math.Max(worst, math.Abs(fd-grad[i])/math.Max(1, math.Abs(fd)))
	}
	if worst > 1e-6 {
		t.Errorf("worst relative gradient error %.3g", worst)
	}
}

// TestGraphCacheBounded checks that a Net keeps its cached graphs within the memory
// budget, dropping the least recently used shape, and that a dropped shape is
// rebuilt and gives the same loss.
func TestGraphCacheBounded(t *testing.T) {
	cfg := tinyDecoder()
	net := newNet(t, cfg, Options{})
	one := net.graphBytes(graphKey{b: 2, t: 8, mode: modeTrain})
	net.opts.GraphMemory = 2*one + one/2 // room for two B=2, T=8 training graphs
	batch := func(T int) model.Batch { return lmBatch(cfg, 2, T, 5) }
	first, err := net.ForwardBackward(batch(8))
	if err != nil {
		t.Fatal(err)
	}
	for _, T := range []int{9, 10} {
		if _, err := net.ForwardBackward(batch(T)); err != nil {
			t.Fatal(err)
		}
		var total int64
		for k := range net.graphs {
			total += net.graphBytes(k)
		}
		if total > net.opts.GraphMemory || len(net.graphs) > 2 {
			t.Fatalf("after T=%d: %d graphs, %d bytes over a budget of %d", T, len(net.graphs), total, net.opts.GraphMemory)
		}
	}
	if _, ok := net.graphs[graphKey{b: 2, t: 8, mode: modeTrain}]; ok {
		t.Fatal("the least recently used shape T=8 is still cached")
	}
	again, err := net.ForwardBackward(batch(8))
	if err != nil || again != first {
		t.Fatalf("rebuilt T=8 graph: loss %v (%v), first %v", again, err, first)
	}
}
