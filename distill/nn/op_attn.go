package nn

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// attnOp is fused multi-head attention with grouped-query heads over a packed
// [B*T, (H+2K)*hd] input whose rows hold H query heads, K key heads and K value heads
// (the packed q/k/v Linear after RoPE). The output is [B*T, H*hd], ready for o_proj.
// Per (sequence, head) it computes the scores with one GEMM straight from the strided
// input, masks (causal and/or padding keys from the feed's Valid), applies softmax,
// and weights the values with a second GEMM: no transposes, no head split or merge
// copies, no K/V repeat. It keeps the log-sum-exp of each score row so the backward
// op recomputes the probabilities instead of storing B*H*T*T of them.
type attnOp struct {
	baseOp
	seq, heads, kvHeads, headDim int
	causal                       bool
	feed                         *feed
	lse                          []float64        // [B*H*T] of the last forward run
	copy                         *copySupervision // nil: no pointer head (copyhead.go)
}

// attention applies fused attention to a packed q/k/v tensor [B*seq, (H+2K)*hd].
// Padding keys (feed.valid == 0) are masked when the feed has a Valid mask.
func attention(qkv *gorgonia.Node, seq, heads, kvHeads, headDim int, causal bool, f *feed) (*gorgonia.Node, error) {
	n, _, err := supervisedAttention(qkv, seq, heads, kvHeads, headDim, causal, f, nil)
	return n, err
}

// supervisedAttention is attention whose head copy.head, when copy is set, is
// trained as a pointer head (copyhead.go); it also returns the op, whose copy
// loss the net adds to the batch loss.
func supervisedAttention(qkv *gorgonia.Node, seq, heads, kvHeads, headDim int, causal bool, f *feed, copy *copySupervision) (*gorgonia.Node, *attnOp, error) {
	op := &attnOp{seq: seq, heads: heads, kvHeads: kvHeads, headDim: headDim, causal: causal, feed: f, copy: copy}
	op.baseOp = newBase("attention", 2, func(in []tensor.Shape) (tensor.Shape, error) {
		if in[0][1] != (heads+2*kvHeads)*headDim || in[0][0]%seq != 0 {
			return nil, fmt.Errorf("attention: input %v, want [B*%d, %d]", in[0], seq, (heads+2*kvHeads)*headDim)
		}
		return tensor.Shape{in[0][0], heads * headDim}, nil
	}, 2)
	n, err := gorgonia.ApplyOp(op, qkv)
	return n, op, err
}

// Do runs the forward pass.
func (op *attnOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	n := x.Shape()[0]
	out := op.output(x.Dtype(), n, op.heads*op.headDim)
	if len(op.lse) != n*op.heads {
		op.lse = make([]float64, n*op.heads)
	}
	err := byDtype(op.name, x.Dtype(), func() error {
		attnFwd(op, data[float32](vs[0]), data[float32](out))
		return nil
	}, func() error {
		attnFwd(op, data[float64](vs[0]), data[float64](out))
		return nil
	})
	return out, err
}

// layout returns the row width of the packed input, the column offsets of query head
// h and of its key and value heads, and the output row width.
func (op *attnOp) layout(h int) (width, q, k, v, outWidth int) {
	hd, g := op.headDim, op.heads/op.kvHeads
	width = (op.heads + 2*op.kvHeads) * hd
	return width, h * hd, (op.heads + h/g) * hd, (op.heads + op.kvHeads + h/g) * hd, op.heads * hd
}

// masked reports whether key j of sequence b is hidden from query i.
func (op *attnOp) masked(b, i, j int) bool {
	if op.causal && j > i {
		return true
	}
	return op.feed != nil && op.feed.valid != nil && op.feed.valid[b*op.seq+j] == 0
}

func attnFwd[T float](op *attnOp, qkv, out []T) {
	T_, hd := op.seq, op.headDim
	batch := len(qkv) / (T_ * (op.heads + 2*op.kvHeads) * hd)
	scale := T(1 / math.Sqrt(float64(hd)))
	scratch := make([][]T, workers(batch*op.heads))
	if op.copy != nil {
		op.copy.beginForward(op.feed, batch)
		defer op.copy.endForward()
	}
	parallelFor(batch*op.heads, func(w, bh int) {
		if scratch[w] == nil {
			scratch[w] = make([]T, T_*T_)
		}
		s := scratch[w]
		b, h := bh/op.heads, bh%op.heads
		width, qo, ko, vo, ow := op.layout(h)
		base := b * T_ * width
		gemm(false, true, T_, T_, hd, scale, qkv[base+qo:], width, qkv[base+ko:], width, 0, s, T_)
		for i := 0; i < T_; i++ {
			op.lse[bh*T_+i] = softmaxRow(op, b, i, s[i*T_:(i+1)*T_])
			if op.copy != nil && h == op.copy.head {
				addCopyRow(op.copy, op.feed, b, i, s[i*T_:(i+1)*T_])
			}
		}
		gemm(false, false, T_, hd, T_, 1, s, T_, qkv[base+vo:], width, 0, out[b*T_*ow+h*hd:], ow)
	})
}

// softmaxRow replaces a score row by its masked softmax and returns the log-sum-exp
// (+Inf when every key is masked, and the row is then all zeros).
func softmaxRow[T float](op *attnOp, b, i int, row []T) float64 {
	m := T(math.Inf(-1))
	for j := range row {
		if op.masked(b, i, j) {
			row[j] = T(math.Inf(-1))
		} else if row[j] > m {
			m = row[j]
		}
	}
	if math.IsInf(float64(m), -1) {
		clear(row)
		return math.Inf(1)
	}
	sum := expSub(row, row, m)
	inv := T(1 / sum)
	for j := range row {
		row[j] *= inv
	}
	return float64(m) + math.Log(sum)
}

// DiffWRT: the packed input.
func (op *attnOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff builds the fused backward from (qkv, out, dOut); out is an input only so the
// backward runs after the forward that filled lse.
func (op *attnOp) SymDiff(in gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g, err := gorgonia.ApplyOp(&attnGrad{newBase("attention_grad", 2, shapeOf(0), 2, 2, 2), op}, in[0], output, grad)
	if err != nil {
		return nil, fmt.Errorf("attention grad: %w", err)
	}
	return gorgonia.Nodes{g}, nil
}

// attnGrad computes the packed gradient [B*T, (H+2K)*hd] of attnOp.
type attnGrad struct {
	baseOp
	fwd *attnOp
}

// Do runs the backward pass, parallel over (sequence, KV head) so that the query heads
// sharing a KV head accumulate into its dK and dV without races.
func (op *attnGrad) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	out := op.output(x.Dtype(), x.Shape()...)
	if len(op.fwd.lse) != x.Shape()[0]*op.fwd.heads {
		return nil, fmt.Errorf("attention grad: forward has not run")
	}
	err := byDtype(op.name, x.Dtype(), func() error {
		attnBwd(op.fwd, data[float32](vs[0]), data[float32](vs[2]), data[float32](out))
		return nil
	}, func() error {
		attnBwd(op.fwd, data[float64](vs[0]), data[float64](vs[2]), data[float64](out))
		return nil
	})
	return out, err
}

// attnBwd: with P the probabilities and dO the output gradient, per query head
// dV += P^T dO, dP = dO V^T, dS = P (dP - rowsum(P dP)) / sqrt(hd), dQ = dS K,
// dK += dS^T Q.
func attnBwd[T float](op *attnOp, qkv, dout, dqkv []T) {
	T_, hd, g := op.seq, op.headDim, op.heads/op.kvHeads
	batch := len(qkv) / (T_ * (op.heads + 2*op.kvHeads) * hd)
	scale := T(1 / math.Sqrt(float64(hd)))
	scratch := make([][]T, workers(batch*op.kvHeads))
	parallelFor(batch*op.kvHeads, func(w, bk int) {
		if scratch[w] == nil {
			scratch[w] = make([]T, 2*T_*T_)
		}
		p, dp := scratch[w][:T_*T_], scratch[w][T_*T_:]
		b, kv := bk/op.kvHeads, bk%op.kvHeads
		width, _, ko, vo, ow := op.layout(kv * g)
		base := b * T_ * width
		for t := 0; t < T_; t++ {
			clear(dqkv[base+t*width+ko:][:hd])
			clear(dqkv[base+t*width+vo:][:hd])
		}
		for h := kv * g; h < (kv+1)*g; h++ {
			_, qo, _, _, _ := op.layout(h)
			bh := b*op.heads + h
			do := dout[b*T_*ow+h*hd:]
			gemm(false, true, T_, T_, hd, scale, qkv[base+qo:], width, qkv[base+ko:], width, 0, p, T_)
			for i := 0; i < T_; i++ {
				row, lse := p[i*T_:(i+1)*T_], T(op.lse[bh*T_+i])
				for j := range row {
					if op.masked(b, i, j) {
						row[j] = T(math.Inf(-1))
					} else {
						row[j] -= lse
					}
				}
				expInPlace(row)
			}
			gemm(true, false, T_, hd, T_, 1, p, T_, do, ow, 1, dqkv[base+vo:], width)
			gemm(false, true, T_, T_, hd, 1, do, ow, qkv[base+vo:], width, 0, dp, T_)
			for i := 0; i < T_; i++ {
				pr, dr := p[i*T_:(i+1)*T_], dp[i*T_:(i+1)*T_]
				var dot T
				for j, pv := range pr {
					dot += pv * dr[j]
				}
				for j, pv := range pr {
					dr[j] = pv * (dr[j] - dot) * scale
				}
				if op.copy != nil && h == op.copy.head {
					addCopyGrad(op.copy, op.feed, b, i, pr, dr, scale)
				}
			}
			gemm(false, false, T_, hd, T_, 1, dp, T_, qkv[base+ko:], width, 0, dqkv[base+qo:], width)
			gemm(true, false, T_, hd, T_, 1, dp, T_, qkv[base+qo:], width, 1, dqkv[base+ko:], width)
		}
	})
}
