package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// ropeRef is the scalar rotation the float32 op must reproduce bit for bit: the float64
// tables rounded to float32, every product rounded before the sum.
func ropeRef(op *ropeOp, x []float32, width int) []float32 {
	y := append([]float32(nil), x...)
	half := op.headDim / 2
	for r := 0; r < len(x)/width; r++ {
		t := r % op.seq
		for h := 0; h < op.heads*op.headDim; h += op.headDim {
			for i := 0; i < half; i++ {
				c, s := float32(op.cos[t*half+i]), float32(op.sin[t*half+i])
				a, b := x[r*width+h+i], x[r*width+h+half+i]
				y[r*width+h+i] = float32(a*c) - float32(b*s)
				y[r*width+h+half+i] = float32(b*c) + float32(a*s)
			}
		}
	}
	return y
}

// TestRoPEFloat32MatchesScalar checks the float32 forward and backward (the inverse
// rotation SymDiff builds) against the scalar loop, bit for bit, on head widths whose
// halves take the vector loop, its tail, or both, and with unrotated v columns.
func TestRoPEFloat32MatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ seq, hd, heads, width, batch int }{
		{5, 4, 2, 12, 3}, {7, 32, 6, 256, 2}, {3, 64, 9, 640, 2}, {4, 38, 3, 114, 2}, {9, 20, 2, 60, 16},
	} {
		op := newRoPE(tc.seq, tc.hd, tc.heads, 10000)
		inv := op.reversed()
		n := tc.seq * tc.batch
		x := tensor.New(tensor.WithShape(n, tc.width), tensor.Of(tensor.Float32))
		for i := range data[float32](x) {
			data[float32](x)[i] = float32(rng.NormFloat64())
		}
		for _, o := range []*ropeOp{op, inv} {
			out, err := o.Do(x)
			if err != nil {
				t.Fatal(err)
			}
			want := ropeRef(o, data[float32](x), tc.width)
			for i, v := range data[float32](out) {
				if v != want[i] {
					t.Fatalf("%s seq %d hd %d heads %d: element %d = %v, want %v", o.name, tc.seq, tc.hd, tc.heads, i, v, want[i])
				}
			}
		}
	}
}

// BenchmarkRoPE measures the float32 rope op's forward on the packed q/k/v rows of a
// fine-tuning batch (B=16, T=320): tiny-funccall's 4+2 rotated heads of 32 (v passes
// through) and 9 heads of 64:
//
//	go test -run '^$' -bench RoPE ./distill/nn/
func BenchmarkRoPE(b *testing.B) {
	for _, s := range []struct{ hd, heads, width int }{{32, 6, 256}, {64, 9, 640}} {
		b.Run(fmt.Sprintf("hd%dx%d", s.hd, s.heads), func(b *testing.B) {
			op := newRoPE(320, s.hd, s.heads, 10000)
			x := tensor.New(tensor.WithShape(16*320, s.width), tensor.Of(tensor.Float32))
			for i := range data[float32](x) {
				data[float32](x)[i] = float32(i%13) - 6
			}
			for i := 0; i < b.N; i++ {
				if _, err := op.Do(x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
