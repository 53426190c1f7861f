package nn

import (
	"fmt"
	"math/rand/v2"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// loraLinearOp is the fused linear op of a LoRA net: y = x [W1; ...; Wm]^T like
// linearOp, with the base weights frozen (no gradient), plus for each adapted weight
// j (adapters[k] = j) the low-rank branch
//
//	y_j += scale * (dropout(x) A_k^T) B_k^T      A_k [r, in], B_k [out_j, r]
//
// Inputs are (x, W1..Wm, A_1, B_1, ..., A_n, B_n). Each adapter draws its own inverted
// dropout mask (as PEFT's per-module lora_dropout does) from a PCG seeded with the op's
// seed and run counter, so a run's masks are reproducible. The forward pass keeps
// dropout(x) and u = dropout(x) A^T for the backward ops, as autograd would.
type loraLinearOp struct {
	baseOp
	outs     []int   // out_i of each base weight
	adapters []int   // the base weight index of each adapter pair, in input order
	rank     int     // r
	scale    float64 // alpha / r
	drop     float64 // dropout probability; 0 outside training
	seed     uint64  // dropout RNG seed
	runs     uint64  // forward runs so far: the dropout stream of the next one
	// freezeMask reuses the first run's masks, so that a finite-difference check sees
	// the same function on every evaluation; training never sets it.
	freezeMask bool
	state      any // *loraRun[T] of the last forward pass
}

// loraRun is what one forward pass leaves for the backward ops, per adapter.
type loraRun[T float] struct {
	xd   [][]T    // dropout(x) [N*in]; nil without dropout (x itself)
	keep [][]bool // the dropout masks [N*in]; nil without dropout
	u    [][]T    // dropout(x) A^T [N*r]
	n    int
}

// loraSpec configures one loraLinear call.
type loraSpec struct {
	rank           int
	scale, dropout float64
	seed           uint64
	adapted        []int // base weight index of each (A, B) pair
}

// loraLinear applies the fused op to x, the base weights ws and the adapter pairs ab
// (A_1, B_1, A_2, B_2, ...) of the weights listed in s.adapted. With no adapters it is a
// linear layer whose weights get no gradient.
func loraLinear(x *gorgonia.Node, ws, ab []*gorgonia.Node, s loraSpec) (*gorgonia.Node, *loraLinearOp, error) {
	if len(ab) != 2*len(s.adapted) {
		return nil, nil, fmt.Errorf("lora linear: %d adapter tensors for %d adapted weights", len(ab), len(s.adapted))
	}
	op := &loraLinearOp{adapters: s.adapted, rank: s.rank, scale: s.scale, drop: s.dropout, seed: s.seed}
	dims := make([]int, 1+len(ws)+len(ab))
	for i := range dims {
		dims[i] = 2
	}
	op.baseOp = newBase("lora_linear", 2, op.inferShape, dims...)
	for _, w := range ws {
		op.outs = append(op.outs, w.Shape()[0])
	}
	inputs := append(append([]*gorgonia.Node{x}, ws...), ab...)
	y, err := gorgonia.ApplyOp(op, inputs...)
	return y, op, err
}

func (op *loraLinearOp) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	m := len(op.outs)
	total := 0
	for i, w := range in[1 : 1+m] {
		if w[1] != in[0][1] {
			return nil, fmt.Errorf("lora linear: weight %d is %v, input is %v", i, w, in[0])
		}
		total += w[0]
	}
	for k, j := range op.adapters {
		a, b := in[1+m+2*k], in[2+m+2*k]
		if a[0] != op.rank || a[1] != in[0][1] || b[0] != op.outs[j] || b[1] != op.rank {
			return nil, fmt.Errorf("lora linear: adapter %d: A %v and B %v do not fit rank %d, weight %v", k, a, b, op.rank, in[1+j])
		}
	}
	return tensor.Shape{in[0][0], total}, nil
}

func (op *loraLinearOp) width() int {
	total := 0
	for _, o := range op.outs {
		total += o
	}
	return total
}

// offset is the first output column of base weight j.
func (op *loraLinearOp) offset(j int) int {
	off := 0
	for _, o := range op.outs[:j] {
		off += o
	}
	return off
}

// Do computes the base products, then adds each adapter branch into its columns.
func (op *loraLinearOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	n, in := x.Shape()[0], x.Shape()[1]
	out := op.output(x.Dtype(), n, op.width())
	var rng *rand.Rand
	if op.drop > 0 && !(op.freezeMask && op.state != nil) {
		rng = rand.New(rand.NewPCG(op.seed, op.runs))
		op.runs++
	}
	err := byDtype(op.name, x.Dtype(), func() error {
		loraFwd(op, n, in, vs, data[float32](out), rng)
		return nil
	}, func() error {
		loraFwd(op, n, in, vs, data[float64](out), rng)
		return nil
	})
	return out, err
}

// runState returns the op's per-run buffers for n rows, reallocated on a change of
// dtype or shape.
func runState[T float](op *loraLinearOp, n, in int) *loraRun[T] {
	st, ok := op.state.(*loraRun[T])
	if ok && st.n == n {
		return st
	}
	st = &loraRun[T]{n: n, xd: make([][]T, len(op.adapters)), keep: make([][]bool, len(op.adapters)), u: make([][]T, len(op.adapters))}
	for k := range op.adapters {
		st.u[k] = make([]T, n*op.rank)
		if op.drop > 0 {
			st.xd[k], st.keep[k] = make([]T, n*in), make([]bool, n*in)
		}
	}
	op.state = st
	return st
}

func loraFwd[T float](op *loraLinearOp, n, in int, vs []gorgonia.Value, y []T, rng *rand.Rand) {
	linearFwd(op.outs, n, in, vs, y)
	st := runState[T](op, n, in)
	x, m, r, width := data[T](vs[0]), len(op.outs), op.rank, op.width()
	keepScale := T(1 / (1 - op.drop))
	for k, j := range op.adapters {
		xd := x
		if op.drop > 0 {
			xd = st.xd[k]
			if rng != nil {
				for i := range st.keep[k] {
					st.keep[k][i] = rng.Float64() >= op.drop
				}
			}
			for i, v := range x {
				xd[i] = 0
				if st.keep[k][i] {
					xd[i] = v * keepScale
				}
			}
		}
		a, b := data[T](vs[1+m+2*k]), data[T](vs[2+m+2*k])
		gemmRows(false, true, n, r, in, 1, xd, in, a, in, 0, st.u[k], r)
		gemmRows(false, true, n, op.outs[j], r, T(op.scale), st.u[k], r, b, r, 1, y[op.offset(j):], width)
	}
}

// DiffWRT: the input and the adapters; the base weights are frozen.
func (op *loraLinearOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	d[0] = true
	for i := 1 + len(op.outs); i < n; i++ {
		d[i] = true
	}
	return d
}

// SymDiff: dx from one op; dA_k and dB_k from one op each; nil for the base weights,
// so no gradient of a frozen weight is ever computed.
func (op *loraLinearOp) SymDiff(inputs gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	gs := make(gorgonia.Nodes, len(inputs))
	dims := make([]int, len(inputs)+1)
	for i := range dims {
		dims[i] = 2
	}
	gx := &loraGradX{fwd: op, baseOp: newBase("lora_linear_grad_x", 2, shapeOf(0), dims...)}
	var err error
	if gs[0], err = gorgonia.ApplyOp(gx, append(append(gorgonia.Nodes{}, inputs...), grad)...); err != nil {
		return nil, fmt.Errorf("lora linear grad x: %w", err)
	}
	m := len(op.outs)
	for k := range op.adapters {
		a, b := inputs[1+m+2*k], inputs[2+m+2*k]
		ga := &loraGradAB{fwd: op, k: k, baseOp: newBase("lora_grad_a", 2, shapeOf(1), 2, 2, 2, 2)}
		if gs[1+m+2*k], err = gorgonia.ApplyOp(ga, inputs[0], a, b, grad); err != nil {
			return nil, fmt.Errorf("lora linear grad A%d: %w", k, err)
		}
		gb := &loraGradAB{fwd: op, k: k, isB: true, baseOp: newBase("lora_grad_b", 2, shapeOf(2), 2, 2, 2, 2)}
		if gs[2+m+2*k], err = gorgonia.ApplyOp(gb, inputs[0], a, b, grad); err != nil {
			return nil, fmt.Errorf("lora linear grad B%d: %w", k, err)
		}
	}
	return gs, nil
}
