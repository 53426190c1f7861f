package nn

import (
	"fmt"
	"math"

	"github.com/cyclecore/mlmforge/internal/kernels"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// rmsNormOp is y = x / sqrt(mean(x^2) + eps) * w over the last axis of x [N, d], w [d].
type rmsNormOp struct {
	baseOp
	eps float64
}

// rmsNorm normalises each row of x [N, d] and scales it by w [d].
func rmsNorm(x, w *gorgonia.Node, eps float64) (*gorgonia.Node, error) {
	return gorgonia.ApplyOp(&rmsNormOp{newBase("rmsnorm", 2, sameShape, 2, 1), eps}, x, w)
}

// Do normalises the rows.
func (op *rmsNormOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	out := op.output(x.Dtype(), x.Shape()...)
	d := x.Shape()[1]
	err := byDtype(op.name, x.Dtype(), func() error {
		rmsNormFwd(data[float32](vs[0]), data[float32](vs[1]), data[float32](out), d, op.eps)
		return nil
	}, func() error {
		rmsNormFwd(data[float64](vs[0]), data[float64](vs[1]), data[float64](out), d, op.eps)
		return nil
	})
	return out, err
}

// rstd is 1/sqrt(mean(x^2) + eps): float32 rows through the vectorized dot product
// (32 partial sums, as torch's float32 mean), float64 rows accumulated in float64.
func rstd[T float](x []T, eps float64) float64 {
	var ss float64
	if x32, ok := any(x).([]float32); ok {
		ss = float64(kernels.Dot(x32, x32))
	} else {
		for _, v := range x {
			ss += float64(v) * float64(v)
		}
	}
	return 1 / math.Sqrt(ss/float64(len(x))+eps)
}

func rmsNormFwd[T float](x, w, y []T, d int, eps float64) {
	parallelRows(len(x)/d, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
			scaleMulRow(yr, xr, w, T(rstd(xr, eps)))
		}
	})
}

// The row loops below run float32 rows in the vector kernels, which give the bits of
// the scalar expressions (each product rounded, no fused multiply-add), and float64
// rows (the gradient checks) in Go.

// scaleMulRow sets y = (x*s)*w.
func scaleMulRow[T float](y, x, w []T, s T) {
	if y32, ok := any(y).([]float32); ok {
		kernels.ScaleMul(y32, any(x).([]float32), any(w).([]float32), float32(s))
		return
	}
	for j, v := range x {
		y[j] = v * s * w[j]
	}
}

// scaleMulSubRow sets dx = ((s*w)*g) - (x*c).
func scaleMulSubRow[T float](dx, w, g, x []T, s, c T) {
	if dx32, ok := any(dx).([]float32); ok {
		kernels.ScaleMulSub(dx32, any(w).([]float32), any(g).([]float32), any(x).([]float32), float32(s), float32(c))
		return
	}
	for k := range dx {
		dx[k] = s*w[k]*g[k] - x[k]*c
	}
}

// mulScaleAddRow adds (g*x)*s to out.
func mulScaleAddRow[T float](out, g, x []T, s T) {
	if out32, ok := any(out).([]float32); ok {
		kernels.MulScaleAdd(out32, any(g).([]float32), any(x).([]float32), float32(s))
		return
	}
	for k := range out {
		out[k] += g[k] * x[k] * s
	}
}

// DiffWRT: x and w.
func (op *rmsNormOp) DiffWRT(int) []bool { return []bool{true, true} }

// SymDiff: one op for dx and one for dw; both recompute the row scale, which costs a
// pass over x and saves keeping state between the forward and backward ops.
func (op *rmsNormOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	gx, err := gorgonia.ApplyOp(&rmsNormGrad{newBase("rmsnorm_grad_x", 2, shapeOf(0), 2, 1, 2), op.eps, false}, in[0], in[1], grad)
	if err != nil {
		return nil, fmt.Errorf("rmsnorm grad x: %w", err)
	}
	gw, err := gorgonia.ApplyOp(&rmsNormGrad{newBase("rmsnorm_grad_w", 1, shapeOf(1), 2, 1, 2), op.eps, true}, in[0], in[1], grad)
	if err != nil {
		return nil, fmt.Errorf("rmsnorm grad w: %w", err)
	}
	return gorgonia.Nodes{gx, gw}, nil
}

// rmsNormGrad computes dx (wrtW false) or dw (wrtW true) from (x, w, dy).
type rmsNormGrad struct {
	baseOp
	eps  float64
	wrtW bool
}

// Do computes the gradient.
func (op *rmsNormGrad) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	d := x.Shape()[1]
	shape := []int(x.Shape())
	if op.wrtW {
		shape = []int{d} // asking for [N, d] first would reallocate both buffers on every call
	}
	out := op.output(x.Dtype(), shape...)
	err := byDtype(op.name, x.Dtype(), func() error {
		rmsNormBwd(data[float32](vs[0]), data[float32](vs[1]), data[float32](vs[2]), data[float32](out), d, op.eps, op.wrtW)
		return nil
	}, func() error {
		rmsNormBwd(data[float64](vs[0]), data[float64](vs[1]), data[float64](vs[2]), data[float64](out), d, op.eps, op.wrtW)
		return nil
	})
	return out, err
}

// rmsNormBwd: with r = rstd(x), dx_k = r w_k dy_k - x_k r^3 / d * sum_j dy_j w_j x_j
// and dw_k = sum over rows of dy_k x_k r.
func rmsNormBwd[T float](x, w, dy, out []T, d int, eps float64, wrtW bool) {
	rows := len(x) / d
	if wrtW {
		for k := range out {
			out[k] = 0
		}
		for r := 0; r < rows; r++ {
			xr, gr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d]
			mulScaleAddRow(out, gr, xr, T(rstd(xr, eps)))
		}
		return
	}
	parallelRows(rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, gr, dx := x[r*d:(r+1)*d], dy[r*d:(r+1)*d], out[r*d:(r+1)*d]
			s := rstd(xr, eps)
			var dot float64
			for j := range xr {
				dot += float64(gr[j]) * float64(w[j]) * float64(xr[j])
			}
			scaleMulSubRow(dx, w, gr, xr, T(s), T(s*s*s*dot/float64(d)))
		}
	})
}

// ropeOp rotates the first heads of each row of a packed [B*T, width] tensor (the q and
// k heads of the packed q/k/v projection) by position, Hugging Face "rotate_half"
// style: the pair (i, i + hd/2) of a head at position t turns by t * theta^(-2i/hd).
// The remaining columns (v) pass through. Its backward is the inverse rotation.
type ropeOp struct {
	baseOp
	seq, headDim, heads int
	cos, sin            []float64 // [seq, headDim/2]
	// cos32, sin32 are cos and sin rounded once, for the float32 kernel (which would
	// otherwise convert every value on every row).
	cos32, sin32 []float32
	inverse      bool
}

// rope rotates the first heads heads of width headDim in each row of x [B*seq, width].
func rope(x *gorgonia.Node, seq, headDim, heads int, theta float64) (*gorgonia.Node, error) {
	return gorgonia.ApplyOp(newRoPE(seq, headDim, heads, theta), x)
}

func newRoPE(seq, headDim, heads int, theta float64) *ropeOp {
	half := headDim / 2
	op := &ropeOp{seq: seq, headDim: headDim, heads: heads,
		cos: make([]float64, seq*half), sin: make([]float64, seq*half),
		cos32: make([]float32, seq*half), sin32: make([]float32, seq*half)}
	for t := 0; t < seq; t++ {
		for i := 0; i < half; i++ {
			a := float64(t) * math.Pow(theta, -float64(2*i)/float64(headDim))
			op.cos[t*half+i], op.sin[t*half+i] = math.Cos(a), math.Sin(a)
			op.cos32[t*half+i], op.sin32[t*half+i] = float32(op.cos[t*half+i]), float32(op.sin[t*half+i])
		}
	}
	op.baseOp = newBase("rope", 2, sameShape, 2)
	return op
}

// Do rotates.
func (op *ropeOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	n, width := x.Shape()[0], x.Shape()[1]
	if n%op.seq != 0 || op.heads*op.headDim > width {
		return nil, fmt.Errorf("rope: input %v does not fit seq %d, %d heads of %d", x.Shape(), op.seq, op.heads, op.headDim)
	}
	out := op.output(x.Dtype(), n, width)
	err := byDtype(op.name, x.Dtype(), func() error {
		ropeKernel(op, data[float32](vs[0]), data[float32](out), width)
		return nil
	}, func() error {
		ropeKernel(op, data[float64](vs[0]), data[float64](out), width)
		return nil
	})
	return out, err
}

// ropeKernel rotates every row of x into y, a head at a time (ropeHead).
func ropeKernel[T float](op *ropeOp, x, y []T, width int) {
	half, rot := op.headDim/2, op.heads*op.headDim
	parallelRows(len(x)/width, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*width:(r+1)*width], y[r*width:(r+1)*width]
			t := (r % op.seq) * half
			for h := 0; h < rot; h += op.headDim {
				ropeHead(op, yr[h:h+half], yr[h+half:h+op.headDim], xr[h:h+half], xr[h+half:h+op.headDim], t)
			}
			copy(yr[rot:], xr[rot:])
		}
	})
}

// ropeHead rotates one head's halves by the angles of table row t: float32 in the
// vector kernel with the float32 tables (kernels.Rope, the scalar loop's bits),
// float64 (the gradient checks) in the loop with the float64 ones.
func ropeHead[T float](op *ropeOp, y1, y2, x1, x2 []T, t int) {
	half := len(x1)
	if y32, ok := any(y1).([]float32); ok {
		kernels.Rope(y32, any(y2).([]float32), any(x1).([]float32), any(x2).([]float32), op.cos32[t:t+half], op.sin32[t:t+half])
		return
	}
	cs, sn := op.cos[t:t+half], op.sin[t:t+half]
	for i := range x1 {
		c, s := T(cs[i]), T(sn[i])
		a, b := x1[i], x2[i]
		y1[i] = a*c - b*s
		y2[i] = b*c + a*s
	}
}

// reversed is the rotation by the opposite angle: the same cos, the negated sin.
func (op *ropeOp) reversed() *ropeOp {
	inv := &ropeOp{seq: op.seq, headDim: op.headDim, heads: op.heads, cos: op.cos, cos32: op.cos32, inverse: !op.inverse}
	inv.sin, inv.sin32 = make([]float64, len(op.sin)), make([]float32, len(op.sin32))
	for i, s := range op.sin {
		inv.sin[i], inv.sin32[i] = -s, -op.sin32[i]
	}
	inv.baseOp = newBase("rope_grad", 2, sameShape, 2)
	return inv
}

// DiffWRT: the input.
func (op *ropeOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff is the rotation by the opposite angle (a rotation's transpose).
func (op *ropeOp) SymDiff(_ gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g, err := gorgonia.ApplyOp(op.reversed(), grad)
	if err != nil {
		return nil, fmt.Errorf("rope grad: %w", err)
	}
	return gorgonia.Nodes{g}, nil
}

// swigluOp is silu(g) * u on a packed [N, 2I] input whose row holds the gate
// projection g then the up projection u (the packed gate/up Linear), giving [N, I].
type swigluOp struct{ baseOp }

// swiGLU computes silu(gate) * up from a packed [N, 2I] tensor.
func swiGLU(gu *gorgonia.Node) (*gorgonia.Node, error) {
	op := &swigluOp{newBase("swiglu", 2, func(in []tensor.Shape) (tensor.Shape, error) {
		if in[0][1]%2 != 0 {
			return nil, fmt.Errorf("swiglu: width %d is odd", in[0][1])
		}
		return tensor.Shape{in[0][0], in[0][1] / 2}, nil
	}, 2)}
	return gorgonia.ApplyOp(op, gu)
}

// Do applies the gated unit.
func (op *swigluOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	n, w := x.Shape()[0], x.Shape()[1]
	out := op.output(x.Dtype(), n, w/2)
	err := byDtype(op.name, x.Dtype(), func() error {
		swigluKernel(data[float32](vs[0]), nil, data[float32](out), w/2)
		return nil
	}, func() error {
		swigluKernel(data[float64](vs[0]), nil, data[float64](out), w/2)
		return nil
	})
	return out, err
}

// swigluKernel computes the forward (dy nil: out [N, I]) or the backward (out [N, 2I]):
// d gate = dy * u * s (1 + g (1 - s)) with s = sigmoid(g), d up = dy * g * s.
func swigluKernel[T float](gu, dy, out []T, inner int) {
	parallelRows(len(gu)/(2*inner), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			g, u := gu[2*r*inner:][:inner], gu[(2*r+1)*inner:][:inner]
			if dy == nil {
				o := out[r*inner:][:inner]
				sigmoidInto(o, g)
				for i, gv := range g {
					o[i] *= gv * u[i]
				}
				continue
			}
			d, dg, du := dy[r*inner:][:inner], out[2*r*inner:][:inner], out[(2*r+1)*inner:][:inner]
			sigmoidInto(du, g) // du holds s until its own value replaces it
			for i, gv := range g {
				s := du[i]
				dg[i] = d[i] * u[i] * s * (1 + gv*(1-s))
				du[i] = d[i] * gv * s
			}
		}
	})
}

// DiffWRT: the input.
func (op *swigluOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff computes the packed [N, 2I] gradient from (gu, dy).
func (op *swigluOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g, err := gorgonia.ApplyOp(&swigluGrad{newBase("swiglu_grad", 2, shapeOf(0), 2, 2)}, in[0], grad)
	if err != nil {
		return nil, fmt.Errorf("swiglu grad: %w", err)
	}
	return gorgonia.Nodes{g}, nil
}

// swigluGrad is the backward of swigluOp.
type swigluGrad struct{ baseOp }

// Do computes the packed gradient.
func (op *swigluGrad) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	n, w := x.Shape()[0], x.Shape()[1]
	out := op.output(x.Dtype(), n, w)
	err := byDtype(op.name, x.Dtype(), func() error {
		swigluKernel(data[float32](vs[0]), data[float32](vs[1]), data[float32](out), w/2)
		return nil
	}, func() error {
		swigluKernel(data[float64](vs[0]), data[float64](vs[1]), data[float64](out), w/2)
		return nil
	})
	return out, err
}
