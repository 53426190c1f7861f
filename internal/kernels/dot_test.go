package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestDotAndInt8(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 7, 31, 32, 33, 63, 64, 65, 100, 257, 1000} {
		x, y, q := make([]float32, n), make([]float32, n+3), make([]int8, n)
		for i := range x {
			x[i], q[i] = float32(rng.NormFloat64()), int8(rng.IntN(255)-127)
		}
		for i := range y {
			y[i] = float32(rng.NormFloat64())
		}
		var want, want8, abs, abs8 float64
		for i := range x {
			want += float64(x[i]) * float64(y[i])
			abs += math.Abs(float64(x[i]) * float64(y[i]))
			want8 += float64(q[i]) * float64(y[i])
			abs8 += math.Abs(float64(q[i]) * float64(y[i]))
		}
		eps := float64(n+1) * 6e-8
		if got := Dot(x, y); math.Abs(float64(got)-want) > eps*abs+1e-6 {
			t.Fatalf("n=%d: Dot = %v, want %v", n, got, want)
		}
		if got := DotInt8(q, y); math.Abs(float64(got)-want8) > eps*abs8+1e-6 {
			t.Fatalf("n=%d: DotInt8 = %v, want %v", n, got, want8)
		}
		d := make([]float32, n)
		Dequant(d, q, 0.37)
		for i, v := range q {
			if d[i] != float32(v)*0.37 {
				t.Fatalf("n=%d: Dequant[%d] = %v, want %v", n, i, d[i], float32(v)*0.37)
			}
		}
	}
}
