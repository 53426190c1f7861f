package nn

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/cyclecore/mlmforge/distill/model"
)

// The pointer-generator output of a decoder (model.Config.Pointer). For a row with
// final hidden state h and target y, the model's probability is
//
//	P(y) = g * softmax(z)[y] + (1 - g) * m,   g = sigmoid(u),
//
// where z are the LM head's logits, u = pointer_gate . h + bias the gate logit
// (one more column of the head's linear), and m the probability that head 0 of
// the last attention layer puts on the positions holding token y: the pointer.
// The loss is the mean of -log P(y). The attention forward fills m for every
// counted row; the loss backward leaves dLoss/dm there for the attention
// backward, which runs after it (the attention output feeds the logits).
//
// Inference (distill/infer) mixes the same two distributions over the whole
// vocabulary, so an extraction student can write a name it has never seen by
// pointing at it in its prompt.

// The induction bonus: the pointer head's score of key j from query i gets
// pointer_gate.induction when token j-1 equals token i. After writing token x of a
// span, the row's input is x, and the key after x's occurrence in the prompt is
// the next token of the span: the pointer follows a span it has started by token
// identity, which a 2-layer model otherwise learns only for the spans it was
// trained on (TestPointerGradient; distill/infer applies the same bonus). The
// query's own position never gets it: after a doubled token (x x) it would point
// at itself and write x forever.

// addInduction adds the bonus to the scores row (keys 0..len(row)-1) of query i
// of sequence b.
// of sequence b, once per matching token up to ngram (model.Config.InductionNgram).
func addInduction[T float](f *feed, b, i int, row []T, bonus T, ngram int) {
	toks := f.tokens[b*f.seq:][:f.seq]
	q := toks[i]
	for j := 1; j < min(len(row), i); j++ {
		if toks[j-1] == q {
			row[j] += bonus * T(model.InductionMatch(toks, i, j, ngram))
		}
	}
}

// inductionGrad1 is the sum of ds over the keys of query i that get the bonus,
// each times the number of bonuses it gets.
func inductionGrad1[T float](f *feed, b, i int, ds []T, ngram int) float64 {
	toks := f.tokens[b*f.seq:][:f.seq]
	q := toks[i]
	var g float64
	for j := 1; j < min(len(ds), i); j++ {
		if toks[j-1] == q {
			g += float64(ds[j]) * float64(model.InductionMatch(toks, i, j, ngram))
		}
	}
	return g
}

// inductionGrad is d(loss)/d(induction bonus), summed by the attention backward;
// its second input is that backward's output, so it runs after it.
type inductionGrad struct {
	baseOp
	fwd *attnOp
}

// Do sums the workers' partial gradients.
func (op *inductionGrad) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	var sum float64
	for _, g := range op.fwd.dInd {
		sum += g
	}
	return op.one(vs[0], sum)
}

// one is the op's output [1] holding v, in the dtype of like.
func (o *baseOp) one(like gorgonia.Value, v float64) (gorgonia.Value, error) {
	dt := like.(tensor.Tensor).Dtype()
	out := o.output(dt, 1)
	err := byDtype(o.name, dt, func() error {
		data[float32](out)[0] = float32(v)
		return nil
	}, func() error {
		data[float64](out)[0] = v
		return nil
	})
	return out, err
}

// pointerState is what the last layer's attention op and the loss op share.
type pointerState struct {
	mass []float64 // [B*T] the pointer head's probability on the row's target token
	coef []float64 // [B*T] dLoss/dmass, set by the loss backward
}

// begin sizes the state for n positions and clears the masses.
func (p *pointerState) begin(n int) {
	if len(p.mass) != n {
		p.mass, p.coef = make([]float64, n), make([]float64, n)
	}
	clear(p.mass)
}

// pointerMass is the probability a pointer row of sequence b, query i (keys
// 0..len(row)-1) puts on the positions whose token is the row's target; 0 for a
// row without target.
func pointerMass[T float](f *feed, b, i int, row []T) float64 {
	t := f.targets[b*f.seq+i]
	if t < 0 {
		return 0
	}
	toks := f.tokens[b*f.seq:][:len(row)]
	var m float64
	for j, tok := range toks {
		if tok == t {
			m += float64(row[j])
		}
	}
	return m
}

// addPointerGrad adds coef * dmass/ds (times the score scale) to the score
// gradient ds of pointer row i of sequence b, with probabilities p:
// dmass/ds_j = p_j (1[token j is the target] - mass).
func addPointerGrad[T float](ptr *pointerState, f *feed, b, i int, p, ds []T, scale T) {
	k := ptr.coef[b*f.seq+i]
	if k == 0 {
		return
	}
	m := pointerMass(f, b, i, p)
	t := f.targets[b*f.seq+i]
	toks := f.tokens[b*f.seq:][:len(p)]
	for j, pv := range p {
		in := -m
		if toks[j] == t {
			in++
		}
		ds[j] += T(k*float64(pv)*in) * scale
	}
}

// logSigmoid is log(1/(1+e^-x)), stable for large |x|.
func logSigmoid(x float64) float64 {
	if x >= 0 {
		return -math.Log1p(math.Exp(-x))
	}
	return x - math.Log1p(math.Exp(x))
}

// pointerRow is the mixture of one counted row: logpv = log softmax(z)[y], u the
// gate logit, m the pointer mass. It returns -log P and the responsibilities
// alpha = g pv / P of the vocabulary and beta = (1-g) m / P of the pointer.
func pointerRow(logpv, u, m float64) (nll, alpha, beta float64) {
	lg := logSigmoid(u) + logpv
	if m <= 0 {
		return -lg, 1, 0
	}
	lc := logSigmoid(-u) + math.Log(m)
	hi, lo := max(lg, lc), min(lg, lc)
	logP := hi + math.Log1p(math.Exp(lo-hi))
	alpha = math.Exp(lg - logP)
	return -logP, alpha, 1 - alpha
}

// pointerBiasGrad is d(loss)/d(pointer_gate.bias): the sum of the rows' gate
// logit gradients, computed from the loss op's saved rows.
type pointerBiasGrad struct {
	baseOp
	fwd *tokenCEOp
}

// Do sums the gate gradients.
func (op *pointerBiasGrad) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	g, err := scalar(vs[2])
	if err != nil {
		return nil, fmt.Errorf("pointer bias grad: %w", err)
	}
	var sum float64
	for r := range op.fwd.alpha {
		sum += op.fwd.gateGrad(r, g)
	}
	return op.one(vs[0], sum)
}

// gateGrad is dLoss/du of head row r for the loss gradient g: with gate
// probability s, c (s beta - (1-s) alpha), c the row's share of the loss.
func (op *tokenCEOp) gateGrad(r int, g float64) float64 {
	t := op.feed.headTargets()[r]
	if t < 0 || op.count == 0 {
		return 0
	}
	c := g * op.feed.weight(op.feed.headSeq(r)) / float64(op.count)
	s := op.gate[r]
	return c * (s*op.beta[r] - (1-s)*op.alpha[r])
}
