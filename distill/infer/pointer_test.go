package infer

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/nn"
	"github.com/cyclecore/mlmforge/internal/kernels"
)

// pointerCase is a pointer-generator decoder with random weights and a
// sequence whose tokens repeat (a 12-token alphabet), so the pointer has mass.
func pointerCase(t *testing.T) (model.Config, model.Weights, []int) {
	t.Helper()
	c := tinyDecoder(true)
	c.Pointer = true
	w := testWeights(c, 21, 8)
	tokens := randTokens(rand.New(rand.NewPCG(7, 8)), 90, 12)
	return c, w, tokens
}

// TestPointerMatchesTraining: the decoder's mixture is the distribution the
// training loss scores. The mean of -log P(next token) over Forward's rows
// equals nn's loss of the same sequence, every row is a distribution (its
// log-sum-exp is 0), and the pointer changes the scores of the tokens it
// copies.
func TestPointerMatchesTraining(t *testing.T) {
	c, w, tokens := pointerCase(t)
	one := pointerNLL(t, c, w, tokens)
	c.InductionNgram = 3 // bonuses for matches up to 3 tokens back, in training and here
	if three := pointerNLL(t, c, w, tokens); math.Abs(three-one) < 1e-4 {
		t.Errorf("the 3-gram induction bonus changed nothing: %.6f, 1-gram %.6f", three, one)
	}
}

// pointerNLL checks pointerCase's decoder against nn's loss of the same
// sequence (TestPointerMatchesTraining) and returns the decoder's mean -log P.
func pointerNLL(t *testing.T, c model.Config, w model.Weights, tokens []int) float64 {
	t.Helper()
	d, err := NewDecoder(c, w)
	if err != nil {
		t.Fatal(err)
	}
	rows := d.Forward(tokens)
	var nll float64
	for i, row := range rows {
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v))
		}
		if math.Abs(sum-1) > 1e-4 {
			t.Fatalf("row %d: the mixture sums to %g", i, sum)
		}
		if i+1 < len(tokens) {
			nll -= float64(row[tokens[i+1]])
		}
	}
	nll /= float64(len(tokens) - 1)

	net, err := nn.New(c, w, nn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := model.Batch{B: 1, T: len(tokens), Tokens: make([]int32, len(tokens)), Targets: make([]int32, len(tokens))}
	for i, tok := range tokens {
		b.Tokens[i], b.Targets[i] = int32(tok), -1
		if i+1 < len(tokens) {
			b.Targets[i] = int32(tokens[i+1])
		}
	}
	loss, err := net.Loss(b)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(loss-nll) > 1e-4*max(1, nll) {
		t.Errorf("induction ngram %d: decoder's mean -log P %.6f, training loss %.6f", c.Induction(), nll, loss)
	}

	plain := c
	plain.Pointer, plain.InductionNgram = false, 0
	pw := model.Weights{}
	for _, p := range plain.Params() {
		pw[p.Name] = w[p.Name]
	}
	pd, err := NewDecoder(plain, pw)
	if err != nil {
		t.Fatal(err)
	}
	var plainNLL float64
	for i, row := range pd.Forward(tokens)[:len(tokens)-1] {
		m := row[0]
		for _, v := range row {
			m = max(m, v)
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v - m))
		}
		plainNLL += float64(m) + math.Log(sum) - float64(row[tokens[i+1]])
	}
	plainNLL /= float64(len(tokens) - 1)
	if math.Abs(plainNLL-nll) < 1e-3 {
		t.Errorf("the pointer changed nothing: %.6f with, %.6f without", nll, plainNLL)
	}
	return nll
}

// TestPointerSessionMatchesForward: cached decoding in pieces (one token, a
// few, two prefill chunks) gives Forward's mixture, float32 and INT8.
func TestPointerSessionMatchesForward(t *testing.T) {
	c, w, tokens := pointerCase(t)
	c.InductionNgram = 3 // the cache holds the tokens the n-gram bonus reads back
	f32, err := NewDecoder(c, w)
	if err != nil {
		t.Fatal(err)
	}
	q, err := NewDecoderQuantized(c, Quantize(w))
	if err != nil {
		t.Fatal(err)
	}
	// INT8's tolerance is wider: on a CPU whose integer kernel is AVX2's, a
	// piece of 2-32 tokens runs it (activations quantized to 8 bits) while one
	// token, and Forward's 90, take the float path on dequantized weights
	// (kernels.Int8Fast), so the two differ by the activations' quantization
	// error. With VNNI or the pure-Go loop every piece runs one path.
	tol := map[string]float64{"float32": 1e-4, "int8": 1e-4}
	if kernels.Int8Implementation() == "avx2" {
		tol["int8"] = 2e-3
	}
	for name, d := range map[string]*Decoder{"float32": f32, "int8": q} {
		want := d.Forward(tokens)
		s := d.NewSession()
		for _, cut := range [][2]int{{0, 1}, {1, 4}, {4, 74}, {74, 75}, {75, 90}} {
			got, err := s.Append(tokens[cut[0]:cut[1]])
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range want[cut[1]-1] {
				if math.Abs(float64(v-got[i])) > tol[name] {
					t.Fatalf("%s: after %d tokens: token %d cached %g, full %g", name, cut[1], i, got[i], v)
				}
			}
		}
		s.Close()
	}
}
