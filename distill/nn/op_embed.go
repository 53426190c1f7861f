package nn

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// feed holds the non-differentiable inputs of one run: token ids, targets, masks,
// labels, teacher distributions and sequence weights. The ops that need them read
// this struct instead of graph inputs: they carry no gradient, most are integers, and
// binding them as gorgonia values would copy them every step. The Net fills it right
// before each run; a graph's ops all share one feed.
type feed struct {
	batch, seq int
	tokens     []int32   // [B*T]
	targets    []int32   // [B*T] decoder next tokens, -1 = ignored
	valid      []float32 // [B*T] 1 real, 0 padding; nil = all real
	labels     []int32   // [B] encoder classes
	soft       []float32 // [B*C] teacher distribution, optional
	weights    []float32 // [B] per-sequence loss weights, nil = 1
	copyOff    []int32   // [B*T+1] CSR offsets of the copy sources, nil = none
	copySrc    []int32   // copy source key positions (model.Batch.CopySources)
	// The LM head's rows when the graph gathers the counted positions (op_rows.go):
	// rows [K] are positions of the flat grid (-1 padding), rowTargets [K] their
	// targets.
	gathered         bool
	rows, rowTargets []int32
}

// weight is sequence b's loss weight.
func (f *feed) weight(b int) float64 {
	if f.weights == nil {
		return 1
	}
	return float64(f.weights[b])
}

// isValid reports whether position i of the flat [B*T] grid is a real token.
func (f *feed) isValid(i int) bool { return f.valid == nil || f.valid[i] != 0 }

// embedOp gathers the rows of the embedding matrix W [V, d] for the feed's tokens,
// giving [B*T, d]. Its backward scatter-adds the output gradient into a zeroed [V, d].
type embedOp struct {
	baseOp
	feed *feed
}

// embedding looks up the feed's tokens in w [V, d].
func embedding(w *gorgonia.Node, f *feed) (*gorgonia.Node, error) {
	op := &embedOp{feed: f}
	op.baseOp = newBase("embedding", 2, func(in []tensor.Shape) (tensor.Shape, error) {
		return tensor.Shape{f.batch * f.seq, in[0][1]}, nil
	}, 2)
	return gorgonia.ApplyOp(op, w)
}

// Do gathers the rows.
func (op *embedOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	w := vs[0].(tensor.Tensor)
	v, d := w.Shape()[0], w.Shape()[1]
	n := op.feed.batch * op.feed.seq
	if len(op.feed.tokens) != n {
		return nil, fmt.Errorf("embedding: %d tokens, want %d", len(op.feed.tokens), n)
	}
	for i, t := range op.feed.tokens {
		if t < 0 || int(t) >= v {
			return nil, fmt.Errorf("embedding: token %d at position %d outside vocabulary [0, %d)", t, i, v)
		}
	}
	out := op.output(w.Dtype(), n, d)
	err := byDtype(op.name, w.Dtype(), func() error {
		gatherRows(data[float32](vs[0]), data[float32](out), op.feed.tokens, d)
		return nil
	}, func() error {
		gatherRows(data[float64](vs[0]), data[float64](out), op.feed.tokens, d)
		return nil
	})
	return out, err
}

func gatherRows[T float](w, out []T, ids []int32, d int) {
	for i, t := range ids {
		copy(out[i*d:(i+1)*d], w[int(t)*d:(int(t)+1)*d])
	}
}

// DiffWRT: the table.
func (op *embedOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff scatter-adds from (w, dy); w gives the shape.
func (op *embedOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g, err := gorgonia.ApplyOp(&embedGrad{newBase("embedding_grad", 2, shapeOf(0), 2, 2), op.feed}, in[0], grad)
	if err != nil {
		return nil, fmt.Errorf("embedding grad: %w", err)
	}
	return gorgonia.Nodes{g}, nil
}

// embedGrad is the backward of embedOp.
type embedGrad struct {
	baseOp
	feed *feed
}

// Do scatter-adds the rows.
func (op *embedGrad) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	w := vs[0].(tensor.Tensor)
	d := w.Shape()[1]
	out := op.output(w.Dtype(), w.Shape()...)
	err := byDtype(op.name, w.Dtype(), func() error {
		scatterRows(data[float32](vs[1]), data[float32](out), op.feed.tokens, d)
		return nil
	}, func() error {
		scatterRows(data[float64](vs[1]), data[float64](out), op.feed.tokens, d)
		return nil
	})
	return out, err
}

func scatterRows[T float](dy, out []T, ids []int32, d int) {
	clear(out)
	for i, t := range ids {
		row := out[int(t)*d : (int(t)+1)*d]
		for j, g := range dy[i*d : (i+1)*d] {
			row[j] += g
		}
	}
}

// poolOp reduces the final hidden states [B*T, d] of an encoder to [B, d]: the mean
// over valid positions (PoolMean) or position 0 (PoolFirst).
type poolOp struct {
	baseOp
	first bool
	feed  *feed
}

// pool applies the encoder pooling.
func pool(h *gorgonia.Node, first bool, f *feed) (*gorgonia.Node, error) {
	op := &poolOp{first: first, feed: f}
	op.baseOp = newBase("pool", 2, func(in []tensor.Shape) (tensor.Shape, error) {
		return tensor.Shape{f.batch, in[0][1]}, nil
	}, 2)
	return gorgonia.ApplyOp(op, h)
}

// Do pools.
func (op *poolOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	h := vs[0].(tensor.Tensor)
	d := h.Shape()[1]
	out := op.output(h.Dtype(), op.feed.batch, d)
	err := byDtype(op.name, h.Dtype(), func() error {
		poolKernel(op, data[float32](vs[0]), data[float32](out), d, false)
		return nil
	}, func() error {
		poolKernel(op, data[float64](vs[0]), data[float64](out), d, false)
		return nil
	})
	return out, err
}

// poolKernel computes the pooled rows (grad false: h [B*T, d] -> out [B, d]) or
// spreads their gradient back (grad true: h is dy [B, d], out is [B*T, d]). Mean
// pooling over zero valid positions gives zeros.
func poolKernel[T float](op *poolOp, h, out []T, d int, grad bool) {
	if grad {
		clear(out)
	}
	for b := 0; b < op.feed.batch; b++ {
		coef := make([]T, op.feed.seq)
		if op.first {
			coef[0] = 1
		} else {
			n := 0
			for t := range coef {
				if op.feed.isValid(b*op.feed.seq + t) {
					n++
				}
			}
			for t := range coef {
				if n > 0 && op.feed.isValid(b*op.feed.seq+t) {
					coef[t] = 1 / T(n)
				}
			}
		}
		if !grad {
			clear(out[b*d : (b+1)*d])
		}
		for t, c := range coef {
			if c == 0 {
				continue
			}
			r := (b*op.feed.seq + t) * d
			for j := 0; j < d; j++ {
				if grad {
					out[r+j] = c * h[b*d+j]
				} else {
					out[b*d+j] += c * h[r+j]
				}
			}
		}
	}
}

// DiffWRT: the hidden states.
func (op *poolOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff spreads the pooled gradient from (h, dy).
func (op *poolOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g, err := gorgonia.ApplyOp(&poolGrad{newBase("pool_grad", 2, shapeOf(0), 2, 2), op}, in[0], grad)
	if err != nil {
		return nil, fmt.Errorf("pool grad: %w", err)
	}
	return gorgonia.Nodes{g}, nil
}

// poolGrad is the backward of poolOp.
type poolGrad struct {
	baseOp
	fwd *poolOp
}

// Do spreads the gradient.
func (op *poolGrad) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	h := vs[0].(tensor.Tensor)
	out := op.output(h.Dtype(), h.Shape()...)
	d := h.Shape()[1]
	err := byDtype(op.name, h.Dtype(), func() error {
		poolKernel(op.fwd, data[float32](vs[1]), data[float32](out), d, true)
		return nil
	}, func() error {
		poolKernel(op.fwd, data[float64](vs[1]), data[float64](out), d, true)
		return nil
	})
	return out, err
}
