package nn

import (
	"math"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

// paddedReplyBatch is a fine-tuning batch as train's loader makes it:
// sequences of different lengths padded on the right (Valid), targets on each
// sequence's last reply tokens only, per-sequence weights, and copy sources
// (for each reply position, earlier positions holding its target token).
func paddedReplyBatch(cfg model.Config, B, T, reply int) model.Batch {
	b := lmBatch(cfg, B, T, 11)
	b.Valid = make([]float32, B*T)
	b.Weights = make([]float32, B)
	b.CopyOffsets = make([]int32, 1, B*T+1)
	for s := range B {
		n := T - 3*s // real tokens; the last sequence may be all padding
		b.Weights[s] = 0.5 + float32(s)/4
		for t := range T {
			p := s*T + t
			if t < n {
				b.Valid[p] = 1
			}
			if t < n-reply-1 || t >= n-1 {
				b.Targets[p] = -1
			} else {
				b.Targets[p] = b.Tokens[p+1]
				for j := 0; j < t; j += 3 {
					b.Tokens[s*T+j] = b.Tokens[p+1] // a copy source
					b.CopySources = append(b.CopySources, int32(j))
				}
			}
			b.CopyOffsets = append(b.CopyOffsets, int32(len(b.CopySources)))
		}
	}
	for i := range b.Targets { // targets read the tokens after the copies
		if b.Targets[i] >= 0 {
			b.Targets[i] = b.Tokens[i+1]
		}
	}
	return b
}

// pointerDecoder is tinyDecoder with a pointer-generator output.
func pointerDecoder() model.Config {
	c := tinyDecoder()
	c.Pointer = true
	return c
}

// TestFastPathMatchesNaive: training and loss graphs that run the LM head on
// the counted rows only, skip each sequence's trailing padding in attention
// and take causal attention in blocks of queries give the loss and gradients
// of the plain graph, with copy supervision, weights and padding, for a
// decoder (blocks of 5 rows over T=16) and an encoder.
func TestFastPathMatchesNaive(t *testing.T) {
	dec := tinyDecoder()
	enc := tinyEncoder()
	encBatch := lmBatch(enc, 4, 16, 3)
	encBatch.Targets, encBatch.Labels = nil, []int32{0, 3, 1, 4}
	encBatch.Valid = make([]float32, 4*16)
	for i := range encBatch.Valid {
		if i%16 < 16-4*(i/16) {
			encBatch.Valid[i] = 1
		}
	}
	for _, tc := range []struct {
		name  string
		cfg   model.Config
		batch model.Batch
		opts  Options
	}{
		{"decoder", dec, paddedReplyBatch(dec, 6, 16, 5), Options{CopyLoss: 1}},
		{"pointer decoder", pointerDecoder(), paddedReplyBatch(pointerDecoder(), 6, 16, 5), Options{CopyLoss: 1}},
		{"encoder", enc, encBatch, Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(naive bool) (loss, eval float64, grads [][]float32, k int) {
				n := newNet(t, tc.cfg, tc.opts)
				n.naive, n.attnBlock = naive, 5
				loss, err := n.ForwardBackward(tc.batch)
				if err != nil {
					t.Fatal(err)
				}
				if eval, err = n.Loss(tc.batch); err != nil {
					t.Fatal(err)
				}
				for key := range n.graphs {
					k = max(k, key.k)
				}
				for _, p := range n.Params() {
					grads = append(grads, p.Grad)
				}
				return loss, eval, grads, k
			}
			loss, eval, grads, k := run(false)
			wantLoss, wantEval, wantGrads, wantK := run(true)
			if tc.cfg.Arch == model.ArchDecoder && (k == 0 || wantK != 0) {
				t.Fatalf("gathered graph k=%d (want > 0), naive k=%d (want 0)", k, wantK)
			}
			if math.Abs(loss-wantLoss) > 1e-5 || math.Abs(eval-wantEval) > 1e-5 {
				t.Errorf("loss %.8f eval %.8f, naive %.8f %.8f", loss, eval, wantLoss, wantEval)
			}
			params := newNet(t, tc.cfg, tc.opts).Params()
			for i, g := range grads {
				var worst float64
				for j := range g {
					worst = max(worst, math.Abs(float64(g[j]-wantGrads[i][j])))
				}
				if worst > 1e-5 {
					t.Errorf("%s: gradient differs by %.3g", params[i].Name, worst)
				}
			}
		})
	}
}
