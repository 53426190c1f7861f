package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// rmsNormRef is the scalar float32 rmsnorm the ops must reproduce bit for bit: the row
// scale s from rstd, then y = (x*s)*w, dx = ((s*w)*g) - (x*c) with c from the float64
// dot, and dw = sum over rows of (g*x)*s, every product rounded before the sum.
func rmsNormRef(x, w, g []float32, d int, eps float64) (y, dx, dw []float32) {
	y, dx, dw = make([]float32, len(x)), make([]float32, len(x)), make([]float32, d)
	for r := 0; r < len(x)/d; r++ {
		xr, gr := x[r*d:(r+1)*d], g[r*d:(r+1)*d]
		s64 := rstd(xr, eps)
		s := float32(s64)
		var dot float64
		for j := range xr {
			dot += float64(gr[j]) * float64(w[j]) * float64(xr[j])
		}
		c := float32(s64 * s64 * s64 * dot / float64(d))
		for k := range xr {
			y[r*d+k] = float32(xr[k]*s) * w[k]
			dx[r*d+k] = float32(float32(s*w[k])*gr[k]) - float32(xr[k]*c)
			dw[k] += float32(float32(gr[k]*xr[k]) * s)
		}
	}
	return y, dx, dw
}

// TestRMSNormFloat32MatchesScalar checks the float32 forward and both backward ops
// (dx and dw, as SymDiff builds them) against the scalar loops, bit for bit, on
// widths that take the vector loop, its tail, or both.
func TestRMSNormFloat32MatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ rows, d int }{{3, 1}, {5, 7}, {4, 16}, {6, 37}, {9, 128}, {3, 576}, {2, 1000}} {
		vals := func(n int) *tensor.Dense {
			v := tensor.New(tensor.WithShape(n), tensor.Of(tensor.Float32))
			for i := range data[float32](v) {
				data[float32](v)[i] = float32(rng.NormFloat64())
			}
			return v
		}
		x, w, g := vals(tc.rows*tc.d), vals(tc.d), vals(tc.rows*tc.d)
		x.Reshape(tc.rows, tc.d)
		g.Reshape(tc.rows, tc.d)
		y, dx, dw := rmsNormRef(data[float32](x), data[float32](w), data[float32](g), tc.d, 1e-5)
		for _, c := range []struct {
			op   gorgonia.Op
			in   []gorgonia.Value
			want []float32
		}{
			{&rmsNormOp{newBase("rmsnorm", 2, sameShape, 2, 1), 1e-5}, []gorgonia.Value{x, w}, y},
			{&rmsNormGrad{newBase("rmsnorm_grad_x", 2, shapeOf(0), 2, 1, 2), 1e-5, false}, []gorgonia.Value{x, w, g}, dx},
			{&rmsNormGrad{newBase("rmsnorm_grad_w", 1, shapeOf(1), 2, 1, 2), 1e-5, true}, []gorgonia.Value{x, w, g}, dw},
		} {
			out, err := c.op.Do(c.in...)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range data[float32](out) {
				if v != c.want[i] {
					t.Fatalf("%s rows %d d %d: element %d = %v, want %v", c.op, tc.rows, tc.d, i, v, c.want[i])
				}
			}
		}
	}
}

// BenchmarkRMSNorm measures the float32 rmsnorm forward and its dx and dw ops on a
// fine-tuning batch (B=16, T=320) of widths 128 and 576:
//
//	go test -run '^$' -bench RMSNorm ./distill/nn/
func BenchmarkRMSNorm(b *testing.B) {
	for _, d := range []int{128, 576} {
		rows := 16 * 320
		x := tensor.New(tensor.WithShape(rows, d), tensor.Of(tensor.Float32))
		g := tensor.New(tensor.WithShape(rows, d), tensor.Of(tensor.Float32))
		w := tensor.New(tensor.WithShape(d), tensor.Of(tensor.Float32))
		for i := range data[float32](x) {
			data[float32](x)[i] = float32(i%13) - 6
			data[float32](g)[i] = float32(i%7) - 3
		}
		for i := range data[float32](w) {
			data[float32](w)[i] = 1 + float32(i%5)/8
		}
		for _, c := range []struct {
			name string
			op   gorgonia.Op
			in   []gorgonia.Value
		}{
			{"fwd", &rmsNormOp{newBase("rmsnorm", 2, sameShape, 2, 1), 1e-5}, []gorgonia.Value{x, w}},
			{"dx", &rmsNormGrad{newBase("rmsnorm_grad_x", 2, shapeOf(0), 2, 1, 2), 1e-5, false}, []gorgonia.Value{x, w, g}},
			{"dw", &rmsNormGrad{newBase("rmsnorm_grad_w", 1, shapeOf(1), 2, 1, 2), 1e-5, true}, []gorgonia.Value{x, w, g}},
		} {
			b.Run(fmt.Sprintf("d%d/%s", d, c.name), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if _, err := c.op.Do(c.in...); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
