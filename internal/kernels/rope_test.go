package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ropeScalar is the reference loop: each product rounded to float32 before the sum.
func ropeScalar(y1, y2, x1, x2, cos, sin []float32) {
	for i := range y1 {
		a, b, c, s := x1[i], x2[i], cos[i], sin[i]
		y1[i] = float32(a*c) - float32(b*s)
		y2[i] = float32(b*c) + float32(a*s)
	}
}

// TestRope runs every RoPE kernel this CPU has on lengths around the vector widths,
// out of place and in place, from odd offsets, and requires the bits of the scalar
// loop, values within 2^-22 (|x1|+|x2|) of the rotation in float64, and the values
// past n (within the slices' capacity) untouched.
func TestRope(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	lengths := []int{127, 1000}
	for n := 0; n <= 70; n++ {
		lengths = append(lengths, n)
	}
	for _, isa := range elemISAs() {
		t.Run(isaName(isa), func(t *testing.T) {
			defer setElemISA(setElemISA(isa))
			for _, n := range lengths {
				for _, inPlace := range []bool{false, true} {
					off := rng.IntN(8)
					v := make([][]float32, 6) // y1, y2, x1, x2, cos, sin
					for k := range v {
						v[k] = make([]float32, off+n+3)
						for i := range v[k] {
							v[k][i] = float32(rng.NormFloat64())
						}
						if k >= 4 {
							for i := range v[k] {
								a := rng.Float64() * 2 * math.Pi
								v[k][i] = float32([2]float64{math.Cos(a), math.Sin(a)}[k-4])
							}
						}
						v[k] = v[k][off : off+n : off+n+3]
					}
					x1, x2 := append([]float32(nil), v[2]...), append([]float32(nil), v[3]...)
					y1, y2 := v[0], v[1]
					if inPlace {
						y1, y2 = v[2], v[3]
					}
					guard := [2]float32{y1[:n+3][n], y2[:n+3][n+2]}
					want1, want2 := make([]float32, n), make([]float32, n)
					ropeScalar(want1, want2, x1, x2, v[4], v[5])
					Rope(y1, y2, v[2], v[3], v[4], v[5])
					for i := 0; i < n; i++ {
						c, s := float64(v[4][i]), float64(v[5][i])
						a, b := float64(x1[i]), float64(x2[i])
						exact1, exact2 := a*c-b*s, b*c+a*s
						if y1[i] != want1[i] || y2[i] != want2[i] {
							t.Fatalf("n %d in place %t: pair %d = (%v, %v), scalar loop (%v, %v)", n, inPlace, i, y1[i], y2[i], want1[i], want2[i])
						}
						if tol := 2 * 0x1p-23 * (math.Abs(a) + math.Abs(b)); math.Abs(float64(y1[i])-exact1) > tol || math.Abs(float64(y2[i])-exact2) > tol {
							t.Fatalf("n %d: pair %d = (%v, %v), float64 (%v, %v)", n, i, y1[i], y2[i], exact1, exact2)
						}
					}
					if y1[:n+3][n] != guard[0] || y2[:n+3][n+2] != guard[1] {
						t.Fatalf("n %d in place %t: wrote past the end", n, inPlace)
					}
				}
			}
		})
	}
}

// BenchmarkRope rotates q/k heads in place, per head as the rope op does: a
// fine-tuning batch of 16x320 rows (positions 0..319) of 9 heads of 64 and of
// tiny-funccall's 6 heads of 32, both larger than L2, and one decoding token's 9 heads
// of 64, in L1:
//
//	go test -run '^$' -bench Rope ./internal/kernels/
func BenchmarkRope(b *testing.B) {
	for _, s := range []struct {
		name            string
		rows, heads, hd int
	}{{"batch/9x64", 16 * 320, 9, 64}, {"batch/6x32", 16 * 320, 6, 32}, {"token/9x64", 1, 9, 64}} {
		const seq = 320
		half := s.hd / 2
		x := make([]float32, s.rows*s.heads*s.hd)
		cos, sin := make([]float32, seq*half), make([]float32, seq*half)
		for i := range x {
			x[i] = float32(i%13) - 6
		}
		for i := range cos {
			cos[i], sin[i] = float32(math.Cos(float64(i))), float32(math.Sin(float64(i)))
		}
		for _, isa := range elemISAs() {
			b.Run(s.name+"/"+isaName(isa), func(b *testing.B) {
				defer setElemISA(setElemISA(isa))
				for i := 0; i < b.N; i++ {
					for r := 0; r < s.rows; r++ {
						cs, sn := cos[r%seq*half:][:half], sin[r%seq*half:][:half]
						for h := r * s.heads * s.hd; h < (r+1)*s.heads*s.hd; h += s.hd {
							x1, x2 := x[h:h+half], x[h+half:h+s.hd]
							Rope(x1, x2, x1, x2, cs, sn)
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*s.rows*s.heads*half), "ns/pair")
			})
		}
	}
}
