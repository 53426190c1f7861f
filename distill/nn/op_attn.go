package nn

import (
	"cmp"
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/cyclecore/mlmforge/distill/model"
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
	// ptr, set on the last layer of a pointer-generator decoder in training and
	// loss graphs (pointer.go), gets head model.PointerHead's mass on each row's
	// target and its gradient.
	ptr *pointerState
	// induction: the op has a second input, the pointer head's bonus on keys
	// whose previous token is the query's token (pointer.go); ind is its value
	// in the last forward, dInd the backward's per-worker sums of its gradient.
	induction bool
	ind       float64
	dInd      []float64
	// ngram is how many tokens the bonus matches (model.Config.Induction).
	ngram int
	// trim skips each sequence's trailing padding (span): set in training
	// and loss graphs, whose outputs at padding nobody reads.
	trim bool
	// block is the query rows per causal block (0: attnBlock).
	block int
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
// With ind set (the last layer of a pointer-generator decoder), the pointer
// head's scores get the induction bonus ind [1] (pointer.go).
func supervisedAttention(qkv *gorgonia.Node, seq, heads, kvHeads, headDim int, causal bool, f *feed, copy *copySupervision, ind ...*gorgonia.Node) (*gorgonia.Node, *attnOp, error) {
	op := &attnOp{seq: seq, heads: heads, kvHeads: kvHeads, headDim: headDim, causal: causal, feed: f, copy: copy,
		induction: len(ind) > 0}
	dims := []int{2}
	if op.induction {
		dims = append(dims, 1)
	}
	op.baseOp = newBase("attention", 2, func(in []tensor.Shape) (tensor.Shape, error) {
		if in[0][1] != (heads+2*kvHeads)*headDim || in[0][0]%seq != 0 {
			return nil, fmt.Errorf("attention: input %v, want [B*%d, %d]", in[0], seq, (heads+2*kvHeads)*headDim)
		}
		return tensor.Shape{in[0][0], heads * headDim}, nil
	}, dims...)
	n, err := gorgonia.ApplyOp(op, append([]*gorgonia.Node{qkv}, ind...)...)
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
	if op.induction {
		var err error
		if op.ind, err = firstValue(vs[1]); err != nil {
			return nil, fmt.Errorf("attention: induction bonus: %w", err)
		}
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

// attnBlock is the default number of query rows attnFwd and attnBwd take at a
// time under a causal mask: a block of queries [r0, r1) needs the keys [0, r1)
// only, so the scores cost about half of the full T x T.
const attnBlock = 64

// span is the number of rows of sequence b the attention computes: every row,
// or in a trimming graph with a Valid mask up to the sequence's last real
// token. The rows after it are padding that no counted position reads (a real
// query never sees them, their targets are -1, pooling skips them), so their
// outputs and gradients are zero.
func (op *attnOp) span(b int) int {
	f := op.feed
	if !op.trim || f == nil || f.valid == nil {
		return op.seq
	}
	row := f.valid[b*op.seq : (b+1)*op.seq]
	for l := len(row); l > 0; l-- {
		if row[l-1] != 0 {
			return l
		}
	}
	return 0
}

// blocks calls f for each block of query rows [r0, r1) of a sequence of l
// computed rows, with the number of keys kn the block sees.
func (op *attnOp) blocks(l int, f func(r0, r1, kn int)) {
	blk := l
	if op.causal {
		blk = cmp.Or(op.block, attnBlock)
	}
	for r0 := 0; r0 < l; r0 += blk {
		r1 := min(l, r0+blk)
		kn := l
		if op.causal {
			kn = r1
		}
		f(r0, r1, kn)
	}
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
	if op.ptr != nil {
		op.ptr.begin(batch * T_)
	}
	parallelFor(batch*op.heads, func(w, bh int) {
		if scratch[w] == nil {
			scratch[w] = make([]T, T_*T_)
		}
		b, h := bh/op.heads, bh%op.heads
		width, qo, ko, vo, ow := op.layout(h)
		base := b * T_ * width
		l := op.span(b)
		for i := l; i < T_; i++ {
			clear(out[(b*T_+i)*ow+h*hd:][:hd])
		}
		op.blocks(l, func(r0, r1, kn int) {
			s := scratch[w][:(r1-r0)*kn]
			gemm(false, true, r1-r0, kn, hd, scale, qkv[base+r0*width+qo:], width, qkv[base+ko:], width, 0, s, kn)
			for i := r0; i < r1; i++ {
				row := s[(i-r0)*kn : (i-r0+1)*kn]
				if op.induction && h == model.PointerHead {
					addInduction(op.feed, b, i, row, T(op.ind), op.ngram)
				}
				op.lse[bh*T_+i] = softmaxRow(op, b, i, row)
				if op.copy != nil && h == op.copy.head {
					addCopyRow(op.copy, op.feed, b, i, row)
				}
				if op.ptr != nil && h == model.PointerHead {
					op.ptr.mass[b*T_+i] = pointerMass(op.feed, b, i, row)
				}
			}
			gemm(false, false, r1-r0, hd, kn, 1, s, kn, qkv[base+vo:], width, 0, out[(b*T_+r0)*ow+h*hd:], ow)
		})
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

// DiffWRT: the packed input (and the induction bonus).
func (op *attnOp) DiffWRT(n int) []bool {
	if n == 2 {
		return []bool{true, true}
	}
	return []bool{true}
}

// SymDiff builds the fused backward from (qkv, out, dOut); out is an input only so the
// backward runs after the forward that filled lse. The induction bonus's gradient
// reads the sums the backward left (its input is the backward's output).
func (op *attnOp) SymDiff(in gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g, err := gorgonia.ApplyOp(&attnGrad{newBase("attention_grad", 2, shapeOf(0), 2, 2, 2), op}, in[0], output, grad)
	if err != nil {
		return nil, fmt.Errorf("attention grad: %w", err)
	}
	if !op.induction {
		return gorgonia.Nodes{g}, nil
	}
	gi, err := gorgonia.ApplyOp(&inductionGrad{newBase("induction_grad", 1, shapeOf(0), 1, 2), op}, in[1], g)
	if err != nil {
		return nil, fmt.Errorf("induction grad: %w", err)
	}
	return gorgonia.Nodes{g, gi}, nil
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
	if op.induction {
		if len(op.dInd) != len(scratch) {
			op.dInd = make([]float64, len(scratch))
		}
		clear(op.dInd)
	}
	parallelFor(batch*op.kvHeads, func(w, bk int) {
		if scratch[w] == nil {
			scratch[w] = make([]T, 2*T_*T_)
		}
		b, kv := bk/op.kvHeads, bk%op.kvHeads
		width, _, ko, vo, ow := op.layout(kv * g)
		base := b * T_ * width
		l := op.span(b)
		for t := 0; t < T_; t++ {
			clear(dqkv[base+t*width+ko:][:hd])
			clear(dqkv[base+t*width+vo:][:hd])
		}
		for h := kv * g; h < (kv+1)*g; h++ {
			_, qo, _, _, _ := op.layout(h)
			for t := l; t < T_; t++ {
				clear(dqkv[base+t*width+qo:][:hd])
			}
			bh := b*op.heads + h
			do := dout[b*T_*ow+h*hd:]
			op.blocks(l, func(r0, r1, kn int) {
				m := r1 - r0
				p, dp := scratch[w][:m*kn], scratch[w][T_*T_:][:m*kn]
				q := qkv[base+r0*width+qo:]
				gemm(false, true, m, kn, hd, scale, q, width, qkv[base+ko:], width, 0, p, kn)
				for i := r0; i < r1; i++ {
					row, lse := p[(i-r0)*kn:(i-r0+1)*kn], T(op.lse[bh*T_+i])
					if op.induction && h == model.PointerHead {
						addInduction(op.feed, b, i, row, T(op.ind), op.ngram)
					}
					for j := range row {
						if op.masked(b, i, j) {
							row[j] = T(math.Inf(-1))
						} else {
							row[j] -= lse
						}
					}
					expInPlace(row)
				}
				gemm(true, false, kn, hd, m, 1, p, kn, do[r0*ow:], ow, 1, dqkv[base+vo:], width)
				gemm(false, true, m, kn, hd, 1, do[r0*ow:], ow, qkv[base+vo:], width, 0, dp, kn)
				for i := r0; i < r1; i++ {
					pr, dr := p[(i-r0)*kn:(i-r0+1)*kn], dp[(i-r0)*kn:(i-r0+1)*kn]
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
					if op.ptr != nil && h == model.PointerHead {
						addPointerGrad(op.ptr, op.feed, b, i, pr, dr, scale)
					}
					if op.induction && h == model.PointerHead {
						op.dInd[w] += inductionGrad1(op.feed, b, i, dr, op.ngram) / float64(scale)
					}
				}
				gemm(false, false, m, hd, kn, 1, dp, kn, qkv[base+ko:], width, 0, dqkv[base+r0*width+qo:], width)
				gemm(true, false, kn, hd, m, 1, dp, kn, q, width, 1, dqkv[base+ko:], width)
			})
		}
	})
}
