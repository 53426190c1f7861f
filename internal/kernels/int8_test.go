package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// int8Sets runs f with the SIMD integer kernels on (when this CPU has them) and off.
func int8Sets(t testing.TB, f func(name string)) {
	t.Helper()
	if Int8Fast() {
		f("vnni")
	}
	old := setInt8SIMD(false)
	defer setInt8SIMD(old)
	f("go")
}

// int8Case is one GemmU8S8 problem with random activations and weights.
type int8Case struct {
	m, n, k, pad int
	acc          bool
	seed         uint64
}

func (c int8Case) check(t testing.TB) {
	t.Helper()
	rng := rand.New(rand.NewPCG(c.seed, uint64(c.m*7919+c.n*31+c.k)))
	m, n, k := c.m, c.n, c.k
	x := make([]float32, m*k)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	if m > 1 { // an all-zero row: scale 0
		clear(x[k : 2*k])
	}
	w := make([]int8, n*k)
	for i := range w {
		w[i] = int8(rng.IntN(255) - 127)
	}
	ws := make([]float32, n)
	for j := range ws {
		ws[j] = float32(rng.Float64()+0.1) / 64
	}
	corr := Int8Corr(w, n, k)
	ldy := n + c.pad
	int8Sets(t, func(set string) {
		xq, xs := make([]uint8, m*k), make([]float32, m)
		QuantizeActs(xq, xs, x, m, k)
		// The quantizer: every value within half a step, codes in [1, 255].
		for i := 0; i < m; i++ {
			for p := 0; p < k; p++ {
				q := xq[i*k+p]
				if got := float64(int(q)-128) * float64(xs[i]); q == 0 || math.Abs(got-float64(x[i*k+p])) > float64(xs[i])*0.5001 {
					t.Fatalf("%s %+v: x[%d][%d] = %v quantized to %d (scale %v)", set, c, i, p, x[i*k+p], q, xs[i])
				}
			}
		}
		y := make([]float32, (m-1)*ldy+n+c.pad)
		y0 := make([]float32, len(y))
		for i := range y {
			y0[i] = float32(rng.NormFloat64())
		}
		copy(y, y0)
		GemmU8S8(m, n, k, xq, xs, w, ws, corr, y, ldy, c.acc)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s int64 // the int reference
				for p := 0; p < k; p++ {
					s += int64(int(xq[i*k+p])-128) * int64(w[j*k+p])
				}
				want := float64(s) * float64(ws[j]) * float64(xs[i])
				if c.acc {
					want += float64(y0[i*ldy+j])
				}
				tol := 1e-6*math.Abs(want) + 1e-6 + 3e-7*math.Abs(float64(s)*float64(ws[j])*float64(xs[i]))
				if got := float64(y[i*ldy+j]); math.Abs(got-want) > tol {
					t.Fatalf("%s %+v: y[%d][%d] = %v, want %v", set, c, i, j, got, want)
				}
			}
			for j := n; j < ldy && i*ldy+j < len(y); j++ {
				if y[i*ldy+j] != y0[i*ldy+j] {
					t.Fatalf("%s %+v: padding y[%d][%d] written", set, c, i, j)
				}
			}
		}
	})
}

func TestGemmU8S8(t *testing.T) {
	for _, m := range []int{1, 2, 3, 4, 5, 7, 8, 13} {
		for _, n := range []int{1, 3, 4, 5, 15, 16, 17, 31, 32, 37, 64} {
			for _, k := range []int{1, 2, 15, 16, 17, 63, 64, 65, 127, 191, 257} {
				int8Case{m: m, n: n, k: k, pad: (m + n) % 3, acc: (m+n+k)%2 == 1, seed: 1}.check(t)
			}
		}
	}
	// The model's shapes: 135M (576, 1536, 192) and 60M (512, 1376, whose k%64 = 32).
	for _, s := range [][3]int{{1, 576, 576}, {1, 192, 576}, {5, 576, 1536}, {9, 1376, 512}, {6, 512, 1376}, {3, 200, 512}} {
		int8Case{m: s[0], n: s[1], k: s[2], seed: 2}.check(t)
		int8Case{m: s[0], n: s[1], k: s[2], acc: true, seed: 3}.check(t)
	}
}

// TestGemmU8S8Extremes checks the int32 sums at the largest magnitudes: every
// activation at +-127 and every weight at -+127 (no saturation anywhere).
func TestGemmU8S8Extremes(t *testing.T) {
	for _, k := range []int{64, 1000, 4096} {
		m, n := 5, 20
		x := make([]float32, m*k)
		w := make([]int8, n*k)
		for i := range x {
			x[i] = 1
			if i%k%2 == 1 {
				x[i] = -1
			}
		}
		for i := range w {
			w[i] = 127
			if i%k%2 == 0 {
				w[i] = -127
			}
		}
		ws := make([]float32, n)
		for j := range ws {
			ws[j] = 1
		}
		corr := Int8Corr(w, n, k)
		int8Sets(t, func(set string) {
			xq, xs := make([]uint8, m*k), make([]float32, m)
			QuantizeActs(xq, xs, x, m, k)
			y := make([]float32, m*n)
			GemmU8S8(m, n, k, xq, xs, w, ws, corr, y, n, false)
			want := -float32(k) * 127 * 127 / 127 // x in units of 1/127
			for i, v := range y {
				if math.Abs(float64(v-want)) > 1e-5*math.Abs(float64(want)) {
					t.Fatalf("%s k=%d: y[%d] = %v, want %v", set, k, i, v, want)
				}
			}
		})
	}
}

// FuzzGemmU8S8 checks the integer kernels against the int64 reference on fuzzed shapes;
// run more with
//
//	go test -run '^$' -fuzz FuzzGemmU8S8 -fuzztime 60s ./internal/kernels/
func FuzzGemmU8S8(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint16(1), uint8(0), uint16(1))
	f.Add(uint8(9), uint8(37), uint16(200), uint8(5), uint16(2))
	f.Fuzz(func(t *testing.T, m, n uint8, k uint16, flags uint8, seed uint16) {
		c := int8Case{m: 1 + int(m%24), n: 1 + int(n%80), k: 1 + int(k%700), pad: int(flags & 3),
			acc: flags&4 != 0, seed: uint64(seed)}
		c.check(t)
	})
}

// BenchmarkGemmU8S8 reports single-thread integer GOP/s (2 per multiply-add) of the
// classifier's and the decoder's shapes, and float32 SGEMM beside it:
//
//	go test -run '^$' -bench 'GemmU8S8' ./internal/kernels/
func BenchmarkGemmU8S8(b *testing.B) {
	for _, s := range [][3]int{{512, 512, 1376}, {512, 1376, 512}, {1, 576, 1536}, {1, 1536, 576}} {
		m, k, n := s[0], s[1], s[2]
		x := make([]float32, m*k)
		for i := range x {
			x[i] = float32(i%17) - 8
		}
		w := make([]int8, n*k)
		for i := range w {
			w[i] = int8(i%251 - 125)
		}
		ws := make([]float32, n)
		for i := range ws {
			ws[i] = 0.01
		}
		corr := Int8Corr(w, n, k)
		xq, xs, y := make([]uint8, m*k), make([]float32, m), make([]float32, m*n)
		int8Sets(b, func(set string) {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, set), func(b *testing.B) {
				for b.Loop() {
					QuantizeActs(xq, xs, x, m, k)
					GemmU8S8(m, n, k, xq, xs, w, ws, corr, y, n, false)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
			})
		})
		wf, yf := make([]float32, n*k), make([]float32, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d/sgemm", m, k, n), func(b *testing.B) {
			for b.Loop() {
				Sgemm(false, true, m, n, k, 1, x, k, wf, k, 0, yf, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestQuantizeResidual checks the second activation pass: the two codes rebuild x to
// within half a residual step, and the SIMD quantizers give the pure-Go codes exactly.
func TestQuantizeResidual(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range []int{1, 15, 16, 17, 100, 576, 1376} {
		m := 3
		x := make([]float32, m*k)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * math.Exp(3*rng.NormFloat64()))
		}
		clear(x[k : 2*k])
		type out struct {
			q1, q2 []uint8
			s1, s2 []float32
		}
		var got []out
		int8Sets(t, func(set string) {
			o := out{make([]uint8, m*k), make([]uint8, m*k), make([]float32, m), make([]float32, m)}
			QuantizeActs(o.q1, o.s1, x, m, k)
			QuantizeResidual(o.q2, o.s2, x, o.q1, o.s1, m, k)
			for i := 0; i < m; i++ {
				for p := 0; p < k; p++ {
					j := i*k + p
					back := float64(o.s1[i])*float64(int(o.q1[j])-128) + float64(o.s2[i])*float64(int(o.q2[j])-128)
					if e := math.Abs(back - float64(x[j])); e > float64(o.s2[i])*0.5001+1e-7*math.Abs(float64(x[j])) {
						t.Fatalf("%s k=%d: x[%d][%d] = %v rebuilt as %v (steps %v, %v)", set, k, i, p, x[j], back, o.s1[i], o.s2[i])
					}
				}
			}
			got = append(got, o)
		})
		for _, o := range got[1:] {
			if string(o.q1) != string(got[0].q1) || string(o.q2) != string(got[0].q2) ||
				fmt.Sprint(o.s1, o.s2) != fmt.Sprint(got[0].s1, got[0].s2) {
				t.Fatalf("k=%d: SIMD and Go quantizers differ", k)
			}
		}
	}
}
