package nn

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// loraGradX computes dx of loraLinearOp from (x, W1..Wm, A_1, B_1, ..., dy):
//
//	dx = sum_i dy_i W_i + scale * sum_k mask_k ⊙ ((dy_j B_k) A_k)
//
// where mask_k is the adapter's dropout (0 or 1/(1-p); all ones without dropout).
type loraGradX struct {
	baseOp
	fwd *loraLinearOp
	g   any // scratch dy_j B_k [N*r]
	t   any // scratch (dy_j B_k) A_k [N*in], with dropout only
}

// Do runs the base GEMMs, then two thin GEMMs per adapter.
func (op *loraGradX) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	n, in := x.Shape()[0], x.Shape()[1]
	out := op.output(x.Dtype(), n, in)
	err := byDtype(op.name, x.Dtype(), func() error {
		return loraBwdX(op, n, in, vs, data[float32](out))
	}, func() error {
		return loraBwdX(op, n, in, vs, data[float64](out))
	})
	return out, err
}

// scratch returns *buf as a []T of length size, reallocated when it does not fit.
func scratch[T float](buf *any, size int) []T {
	s, ok := (*buf).([]T)
	if !ok || len(s) != size {
		s = make([]T, size)
		*buf = s
	}
	return s
}

func loraBwdX[T float](op *loraGradX, n, in int, vs []gorgonia.Value, dx []T) error {
	f := op.fwd
	st, ok := f.state.(*loraRun[T])
	if len(f.adapters) > 0 && (!ok || st.n != n) {
		return fmt.Errorf("no forward state for %d rows (backward before forward?)", n)
	}
	linearBwdX(f.outs, n, in, vs, dx)
	dy, m, r, width := data[T](vs[len(vs)-1]), len(f.outs), f.rank, f.width()
	scale := T(f.scale)
	for k, j := range f.adapters {
		a, b := data[T](vs[1+m+2*k]), data[T](vs[2+m+2*k])
		g := scratch[T](&op.g, n*r)
		gemmRows(false, false, n, r, f.outs[j], 1, dy[f.offset(j):], width, b, r, 0, g, r)
		if f.drop == 0 {
			gemmRows(false, false, n, in, r, scale, g, r, a, in, 1, dx, in)
			continue
		}
		t := scratch[T](&op.t, n*in)
		gemmRows(false, false, n, in, r, 1, g, r, a, in, 0, t, in)
		s := scale / T(1-f.drop)
		for i, keep := range st.keep[k] {
			if keep {
				dx[i] += s * t[i]
			}
		}
	}
	return nil
}

// loraGradAB computes one adapter's gradient from (x, A_k, B_k, dy):
//
//	dA_k = scale * (dy_j B_k)^T dropout(x)      [r, in]
//	dB_k = scale * dy_j^T u_k                    [out_j, r], u_k = dropout(x) A_k^T
type loraGradAB struct {
	baseOp
	fwd *loraLinearOp
	k   int  // adapter index
	isB bool // dB instead of dA
	g   any  // scratch dy_j B_k [N*r] (dA only)
}

// Do is one or two GEMMs over the forward pass's saved tensors.
func (op *loraGradAB) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	n, in := x.Shape()[0], x.Shape()[1]
	shape := vs[1].Shape()
	if op.isB {
		shape = vs[2].Shape()
	}
	out := op.output(x.Dtype(), shape...)
	err := byDtype(op.name, x.Dtype(), func() error {
		return loraBwdAB(op, n, in, vs, data[float32](out))
	}, func() error {
		return loraBwdAB(op, n, in, vs, data[float64](out))
	})
	return out, err
}

func loraBwdAB[T float](op *loraGradAB, n, in int, vs []gorgonia.Value, grad []T) error {
	f := op.fwd
	st, ok := f.state.(*loraRun[T])
	if !ok || st.n != n {
		return fmt.Errorf("no forward state for %d rows (backward before forward?)", n)
	}
	j, r, width := f.adapters[op.k], f.rank, f.width()
	dy := data[T](vs[3])[f.offset(j):]
	scale := T(f.scale)
	if op.isB {
		gemmRows(true, false, f.outs[j], r, n, scale, dy, width, st.u[op.k], r, 0, grad, r)
		return nil
	}
	xd := data[T](vs[0])
	if f.drop > 0 {
		xd = st.xd[op.k]
	}
	g := scratch[T](&op.g, n*r)
	gemmRows(false, false, n, r, f.outs[j], 1, dy, width, data[T](vs[2]), r, 0, g, r)
	gemm(true, false, r, in, n, scale, g, r, xd, in, 0, grad, in)
	return nil
}
