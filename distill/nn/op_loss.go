package nn

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// biasOp is x + b broadcast over the rows of x [B, C], b [C].
type biasOp struct{ baseOp }

// addBias adds b [C] to every row of x [B, C].
func addBias(x, b *gorgonia.Node) (*gorgonia.Node, error) {
	return gorgonia.ApplyOp(&biasOp{newBase("bias", 2, sameShape, 2, 1)}, x, b)
}

// Do adds the bias.
func (op *biasOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	out := op.output(x.Dtype(), x.Shape()...)
	c := x.Shape()[1]
	err := byDtype(op.name, x.Dtype(), func() error {
		biasKernel(data[float32](vs[0]), data[float32](vs[1]), data[float32](out), c)
		return nil
	}, func() error {
		biasKernel(data[float64](vs[0]), data[float64](vs[1]), data[float64](out), c)
		return nil
	})
	return out, err
}

func biasKernel[T float](x, b, out []T, c int) {
	for i := range out {
		out[i] = x[i] + b[i%c]
	}
}

// DiffWRT: both.
func (op *biasOp) DiffWRT(int) []bool { return []bool{true, true} }

// SymDiff: dx = dy, db = column sums of dy.
func (op *biasOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g, err := gorgonia.ApplyOp(&colSumOp{newBase("bias_grad", 1, shapeOf(1), 2, 1)}, grad, in[1])
	if err != nil {
		return nil, fmt.Errorf("bias grad: %w", err)
	}
	return gorgonia.Nodes{grad, g}, nil
}

// colSumOp sums the rows of dy [B, C] into [C]; its second input gives the shape.
type colSumOp struct{ baseOp }

// Do sums.
func (op *colSumOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	dy := vs[0].(tensor.Tensor)
	c := dy.Shape()[1]
	out := op.output(dy.Dtype(), c)
	err := byDtype(op.name, dy.Dtype(), func() error {
		colSum(data[float32](vs[0]), data[float32](out))
		return nil
	}, func() error {
		colSum(data[float64](vs[0]), data[float64](out))
		return nil
	})
	return out, err
}

func colSum[T float](dy, out []T) {
	clear(out)
	for i, g := range dy {
		out[i%len(out)] += g
	}
}

// tokenCEOp is the decoder loss: token cross-entropy of logits [B*T, V] (or [K, V],
// the gathered rows of op_rows.go) against the feed's targets, ignoring targets of -1, each position scaled by its sequence's
// weight, summed and divided by the number of counted positions (0 when none count).
// With a pointer (pointer.go) the input has one more column, the gate logit, a
// second input is the gate's bias, and each row's loss is the pointer-generator
// mixture's -log P(y).
// In a training graph (once SymDiff ran) the forward keeps the unnormalised
// exponentials of every row, and the backward turns them into the logits gradient in
// place: one exponential per logit per step and no second vocabulary-sized buffer.
type tokenCEOp struct {
	baseOp
	feed  *feed
	lse   []float64 // one per logits row
	count int
	loss  float64
	keep  bool          // keep the exponentials for the backward
	exps  *tensor.Dense // the logits' shape: e^(z - max) of the last forward, when keep
	scale []float64     // 1 / sum of each row of exps
	// ptr is the pointer shared with the last attention layer, nil without one;
	// alpha, beta and gate are each row's responsibilities and gate probability.
	ptr               *pointerState
	alpha, beta, gate []float64
}

// tokenCrossEntropy is the mean next-token cross-entropy over the feed's targets.
func tokenCrossEntropy(logits *gorgonia.Node, f *feed) (*gorgonia.Node, *tokenCEOp, error) {
	op := &tokenCEOp{baseOp: newBase("token_ce", 0, scalarShape, 2), feed: f}
	n, err := gorgonia.ApplyOp(op, logits)
	return n, op, err
}

// pointerCrossEntropy is the pointer-generator loss of head outputs [rows, V+1]
// (the last column is the gate logit before its bias).
func pointerCrossEntropy(out, bias *gorgonia.Node, f *feed, ptr *pointerState) (*gorgonia.Node, *tokenCEOp, error) {
	op := &tokenCEOp{baseOp: newBase("pointer_ce", 0, scalarShape, 2, 1), feed: f, ptr: ptr}
	n, err := gorgonia.ApplyOp(op, out, bias)
	return n, op, err
}

// vocab is the number of logit columns of a head output with cols columns.
func (op *tokenCEOp) vocab(cols int) int {
	if op.ptr != nil {
		return cols - 1
	}
	return cols
}

// Do computes the loss.
func (op *tokenCEOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	z := vs[0].(tensor.Tensor)
	n, cols := z.Shape()[0], z.Shape()[1]
	v := op.vocab(cols)
	targets := op.feed.headTargets()
	if len(targets) != n {
		return nil, fmt.Errorf("%s: %d targets, want %d", op.name, len(targets), n)
	}
	op.count = 0
	for i, t := range targets {
		switch {
		case t == -1:
		case t < 0 || int(t) >= v:
			return nil, fmt.Errorf("%s: target %d at position %d outside vocabulary [0, %d)", op.name, t, i, v)
		default:
			op.count++
		}
	}
	if len(op.lse) != n {
		op.lse, op.scale = make([]float64, n), make([]float64, n)
		if op.ptr != nil {
			op.alpha, op.beta, op.gate = make([]float64, n), make([]float64, n), make([]float64, n)
		}
	}
	var bias float64
	if op.ptr != nil {
		var err error
		if bias, err = firstValue(vs[1]); err != nil {
			return nil, fmt.Errorf("%s: gate bias: %w", op.name, err)
		}
	}
	if op.keep && (op.exps == nil || op.exps.Dtype() != z.Dtype() || !op.exps.Shape().Eq(z.Shape())) {
		op.exps = tensor.New(tensor.Of(z.Dtype()), tensor.WithShape(n, cols))
	}
	var err error
	if z.Dtype() == tensor.Float64 {
		err = byDtype(op.name, z.Dtype(), nil, func() error { tokenCEFwd(op, data[float64](vs[0]), v, cols, bias); return nil })
		return gorgonia.NewF64(op.loss), err
	}
	err = byDtype(op.name, z.Dtype(), func() error { tokenCEFwd(op, data[float32](vs[0]), v, cols, bias); return nil }, nil)
	return gorgonia.NewF32(float32(op.loss)), err
}

// firstValue is element 0 of a tensor value.
func firstValue(v gorgonia.Value) (float64, error) {
	switch d := v.Data().(type) {
	case []float32:
		if len(d) > 0 {
			return float64(d[0]), nil
		}
	case []float64:
		if len(d) > 0 {
			return d[0], nil
		}
	}
	return 0, fmt.Errorf("want a non-empty float tensor, have %v", v.Shape())
}

// tokenCEFwd computes the rows' losses; rows are cols wide, the first v the logits.
func tokenCEFwd[T float](op *tokenCEOp, z []T, v, cols int, bias float64) {
	n := len(z) / cols
	rowLoss := make([]float64, n)
	targets := op.feed.headTargets()
	var exps []T
	if op.keep {
		exps = data[T](op.exps)
	}
	parallelRows(n, func(lo, hi int) {
		var scratch []T
		if !op.keep {
			scratch = make([]T, v)
		}
		for r := lo; r < hi; r++ {
			t := targets[r]
			if t < 0 {
				continue
			}
			if op.keep {
				scratch = exps[r*cols : r*cols+v]
			}
			row := z[r*cols : r*cols+v]
			m := row[0]
			for _, x := range row {
				m = max(m, x)
			}
			sum := expSub(scratch, row, m)
			op.lse[r], op.scale[r] = float64(m)+math.Log(sum), 1/sum
			nll := op.lse[r] - float64(row[t])
			if op.ptr != nil {
				u := float64(z[r*cols+v]) + bias
				nll, op.alpha[r], op.beta[r] = pointerRow(-nll, u, op.ptr.mass[op.feed.headPos(r)])
				op.gate[r] = 1 / (1 + math.Exp(-u))
			}
			rowLoss[r] = op.feed.weight(op.feed.headSeq(r)) * nll
		}
	})
	op.loss = 0
	for _, l := range rowLoss {
		op.loss += l
	}
	if op.count > 0 {
		op.loss /= float64(op.count)
	}
}

// DiffWRT: the logits (and the gate bias).
func (op *tokenCEOp) DiffWRT(n int) []bool {
	if n == 2 {
		return []bool{true, true}
	}
	return []bool{true}
}

// SymDiff builds the backward from (logits, loss, dLoss) and makes the forward keep
// its exponentials for it.
func (op *tokenCEOp) SymDiff(in gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	op.keep = true
	g, err := gorgonia.ApplyOp(&tokenCEGrad{newBase(op.name+"_grad", 2, shapeOf(0), 2, 0, 0), op}, in[0], output, grad)
	if err != nil {
		return nil, fmt.Errorf("%s grad: %w", op.name, err)
	}
	if op.ptr == nil {
		return gorgonia.Nodes{g}, nil
	}
	gb, err := gorgonia.ApplyOp(&pointerBiasGrad{newBase("pointer_bias_grad", 1, shapeOf(0), 1, 0, 0), op}, in[1], output, grad)
	if err != nil {
		return nil, fmt.Errorf("%s bias grad: %w", op.name, err)
	}
	return gorgonia.Nodes{g, gb}, nil
}

// tokenCEGrad is dlogits = dLoss * w_b / count * (softmax - onehot) on counted rows,
// computed in place in the forward op's buffer of exponentials (which it returns).
// With a pointer the row is scaled by its vocabulary responsibility alpha, the
// gate column gets dLoss/du, and dLoss/dmass goes to the pointer state.
type tokenCEGrad struct {
	baseOp
	fwd *tokenCEOp
}

// Do computes the logits gradient.
func (op *tokenCEGrad) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	z := vs[0].(tensor.Tensor)
	g, err := scalar(vs[2])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.name, err)
	}
	out := op.fwd.exps
	if out == nil || !out.Shape().Eq(z.Shape()) {
		return nil, fmt.Errorf("%s: forward has not run", op.name)
	}
	cols := z.Shape()[1]
	v := op.fwd.vocab(cols)
	if op.fwd.ptr != nil {
		clear(op.fwd.ptr.coef)
	}
	err = byDtype(op.name, z.Dtype(), func() error {
		tokenCEBwd(op.fwd, data[float32](out), v, cols, g)
		return nil
	}, func() error {
		tokenCEBwd(op.fwd, data[float64](out), v, cols, g)
		return nil
	})
	return out, err
}

// tokenCEBwd turns the rows of exps into gradients in place.
func tokenCEBwd[T float](op *tokenCEOp, dz []T, v, cols int, g float64) {
	targets := op.feed.headTargets()
	parallelRows(len(dz)/cols, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			drow := dz[r*cols : (r+1)*cols]
			t := targets[r]
			if t < 0 || op.count == 0 {
				clear(drow)
				continue
			}
			c := g * op.feed.weight(op.feed.headSeq(r)) / float64(op.count)
			cv := c
			if op.ptr != nil {
				cv = c * op.alpha[r]
				drow[v] = T(op.gateGrad(r, g))
				p := op.feed.headPos(r)
				if m := op.ptr.mass[p]; m > 0 {
					op.ptr.coef[p] = -c * op.beta[r] / m
				}
			}
			s := T(cv * op.scale[r])
			for j := range drow[:v] {
				drow[j] *= s
			}
			drow[t] -= T(cv)
		}
	})
}
