package infer

import (
	"math"

	"github.com/cyclecore/mlmforge/distill/model"
)

// pointer is the pointer-generator output of a decoder (model.Config.Pointer):
// the next-token distribution mixes the LM head's softmax with the attention of
// head model.PointerHead of the last layer, summed per token id over the
// positions it attends to, by the gate sigmoid(gate . h + bias); that head's
// scores get the induction bonus on keys whose previous token is the query's
// (attendRowInduction). Decoding then
// works on log-probabilities of the mixture in place of logits: argmax,
// JSON-Schema masks and a softmax of them all mean what they meant for logits.
type pointer struct {
	gate            *linear
	bias, induction float32
	// ngram is how many tokens the bonus matches (model.Config.Induction).
	ngram int
}

func newPointer(cfg model.Config, src source) *pointer {
	if !cfg.Pointer {
		return nil
	}
	return &pointer{gate: src.linear(model.PointerGateWeight), bias: src.vector(model.PointerGateBias)[0],
		induction: src.vector(model.PointerInduction)[0], ngram: cfg.Induction()}
}

// logSigmoid is log(1/(1+e^-x)), stable for large |x|.
func logSigmoid(x float64) float64 {
	if x >= 0 {
		return -math.Log1p(math.Exp(-x))
	}
	return x - math.Log1p(math.Exp(x))
}

// mix replaces logits [V] by the log-probabilities of the mixture for gate logit
// u (before the bias), pointer probabilities a over the positions holding toks
// (same length), using copies [V] (all zero, left zero) as scratch.
func (p *pointer) mix(logits []float32, u float32, a []float32, toks []int, copies []float32) {
	u += p.bias
	m := logits[0]
	for _, z := range logits {
		m = max(m, z)
	}
	var sum float64
	for _, z := range logits {
		sum += math.Exp(float64(z - m))
	}
	lg := logSigmoid(float64(u)) - float64(m) - math.Log(sum)
	for y, z := range logits {
		logits[y] = float32(lg + float64(z))
	}
	for j, pj := range a {
		copies[toks[j]] += pj
	}
	lc := logSigmoid(-float64(u))
	for _, y := range toks[:len(a)] {
		c := copies[y]
		if c <= 0 {
			continue
		}
		copies[y] = 0
		v, w := float64(logits[y]), lc+math.Log(float64(c))
		hi, lo := max(v, w), min(v, w)
		logits[y] = float32(hi + math.Log1p(math.Exp(lo-hi)))
	}
}
