package nn

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"

	"github.com/cyclecore/mlmforge/distill/model"
)

// TestPointerGradient checks the pointer-generator loss in float64 against
// central differences: the attention's packed q/k/v (through the pointer mass),
// the head outputs (logits and gate column, computed from the attention output so
// that the attention backward runs after the loss backward, as in a Net), the
// gate bias and the induction bonus, with padding, ignored rows, sequence weights, rows whose target
// occurs earlier in the sequence (once or twice) and rows whose target does not.
func TestPointerGradient(t *testing.T) {
	checkPointerGrad(t, "pointer", 1, &feed{batch: 2, seq: 5,
		tokens:  []int32{1, 3, 1, 2, 0, 4, 2, 4, 3, 3},
		targets: []int32{3, 1, 2, 4, -1, 2, 4, 3, 0, -1},
		valid:   []float32{1, 1, 1, 1, 0, 1, 1, 1, 1, 1},
		weights: []float32{1, 0.5}})
}

// TestPointerGradientNgram: the induction bonus's gradient when it counts
// matches up to 3 tokens back (model.Config.InductionNgram), on sequences
// whose bigrams and trigrams repeat, so keys get 1, 2 and 3 bonuses.
func TestPointerGradientNgram(t *testing.T) {
	checkPointerGrad(t, "pointer-ngram", 3, &feed{batch: 2, seq: 8,
		tokens:  []int32{1, 2, 3, 1, 2, 3, 1, 2, 4, 2, 4, 2, 0, 4, 2, 4},
		targets: []int32{2, 3, 1, 2, 3, 1, 2, -1, 2, 4, 2, 0, 4, 2, 4, 1}})
}

// checkPointerGrad checks the gradients of the pointer-generator loss of f
// (2 query heads, 1 KV head of 2 dims, vocabulary 5) with an induction bonus
// matching up to ngram tokens.
func checkPointerGrad(t *testing.T, name string, ngram int, f *feed) {
	t.Helper()
	const H, K, hd, V = 2, 1, 2, 5
	checkGrad(t, gradCase{name, [][]int{{f.batch * f.seq, (H + 2*K) * hd}, {V + 1, H * hd}, {1}, {1}},
		func(g *gorgonia.ExprGraph, in gorgonia.Nodes) (*gorgonia.Node, error) {
			ptr := &pointerState{}
			a, op, err := supervisedAttention(in[0], f.seq, H, K, hd, true, f, nil, in[3])
			if err != nil {
				return nil, err
			}
			op.ptr, op.ngram = ptr, ngram
			z, err := linear(a, in[1])
			if err != nil {
				return nil, err
			}
			loss, _, err := pointerCrossEntropy(z, in[2], f, ptr)
			return loss, err
		}})
}

// TestInductionMatch: after "under the", the key that continues the copied
// span (mat) gets more bonuses than the one after the prompt's other "the"
// (keys), which a 1-gram bonus ranks the same.
func TestInductionMatch(t *testing.T) {
	// Left the keys under the mat . " ... under the
	const left, the, keys, under, mat, dot, quote = 1, 2, 3, 4, 5, 6, 7
	toks := []int32{left, the, keys, under, the, mat, dot, quote, left, the, keys, under, the}
	i := len(toks) - 1
	for _, c := range []struct{ ngram, keys, mat int }{{1, 1, 1}, {2, 1, 2}, {3, 1, 3}, {8, 1, 5}} {
		if got := model.InductionMatch(toks, i, 2, c.ngram); got != c.keys {
			t.Errorf("ngram %d: key after the first \"the\" (keys) matches %d, want %d", c.ngram, got, c.keys)
		}
		if got := model.InductionMatch(toks, i, 5, c.ngram); got != c.mat {
			t.Errorf("ngram %d: key after \"under the\" (mat) matches %d, want %d", c.ngram, got, c.mat)
		}
	}
	row := make([]float64, len(toks))
	addInduction(&feed{batch: 1, seq: len(toks), tokens: toks}, 0, i, row, 1.5, 2)
	want := map[int]float64{2: 1.5, 5: 3, 10: 1.5}
	for j, v := range row {
		if v != want[j] {
			t.Errorf("ngram 2: key %d bonus %g, want %g", j, v, want[j])
		}
	}
}

// TestPointerRow: the mixture's probability and responsibilities.
func TestPointerRow(t *testing.T) {
	for _, c := range []struct{ pv, u, m float64 }{{0.2, 0, 0.5}, {1e-30, 3, 0.9}, {0.7, -40, 0}, {0.4, 40, 0.3}} {
		g := 1 / (1 + math.Exp(-c.u))
		want := g*c.pv + (1-g)*c.m
		nll, alpha, beta := pointerRow(math.Log(c.pv), c.u, c.m)
		if math.Abs(math.Exp(-nll)-want) > 1e-12*max(1, want) || math.IsNaN(nll) {
			t.Errorf("%+v: P = %g, want %g", c, math.Exp(-nll), want)
		}
		if math.Abs(alpha-g*c.pv/want) > 1e-9 || math.Abs(alpha+beta-1) > 1e-12 {
			t.Errorf("%+v: alpha %g beta %g, want %g", c, alpha, beta, g*c.pv/want)
		}
	}
}

// TestPointerConfig: the gate's tensors are part of a pointer decoder only, and
// an encoder cannot have one.
func TestPointerConfig(t *testing.T) {
	c := pointerDecoder()
	names := map[string][]int{}
	for _, p := range c.Params() {
		names[p.Name] = p.Shape
	}
	if s := names[model.PointerGateWeight]; len(s) != 2 || s[0] != 1 || s[1] != c.Hidden {
		t.Errorf("%s shape %v, want [1 %d]", model.PointerGateWeight, s, c.Hidden)
	}
	if _, ok := names[model.PointerGateBias]; !ok {
		t.Errorf("no %s", model.PointerGateBias)
	}
	enc := tinyEncoder()
	enc.Pointer = true
	if err := enc.Validate(); err == nil {
		t.Error("an encoder with a pointer validated")
	}
	for _, n := range []int{-1, 9} {
		c.InductionNgram = n
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "pointer_induction_ngram") {
			t.Errorf("induction ngram %d: %v, want an error naming pointer_induction_ngram", n, err)
		}
	}
	plain := tinyDecoder()
	plain.InductionNgram = 2
	if err := plain.Validate(); err == nil {
		t.Error("a decoder without a pointer validated with an induction ngram")
	}
}
