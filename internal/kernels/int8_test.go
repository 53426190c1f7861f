package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// int8Sets runs f with each integer kernel this CPU has (VNNI, AVX2, Go), restoring the
// default after.
func int8Sets(t testing.TB, f func(name string)) {
	t.Helper()
	old := i8
	defer setInt8Kernel(old)
	for _, k := range int8Kernels() {
		setInt8Kernel(k)
		f(k.String())
	}
}

// sameBits reports the first index where got and want differ in their bits, or -1.
func sameBits(got, want []float32) int {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return i
		}
	}
	return -1
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
	// The pure-Go quantizer's codes, which every kernel's quantizer must give bit for bit.
	qGo, sGo := make([]uint8, m*k), make([]float32, m)
	quantizeActsGo(qGo, sGo, x, m, k)
	y0 := make([]float32, (m-1)*ldy+n+c.pad)
	for i := range y0 {
		y0[i] = float32(rng.NormFloat64())
	}
	int8Sets(t, func(set string) {
		xq, xs := make([]uint8, m*k), make([]float32, m)
		QuantizeActs(xq, xs, x, m, k)
		if string(xq) != string(qGo) || sameBits(xs, sGo) >= 0 {
			t.Fatalf("%s %+v: QuantizeActs differs from the Go loop", set, c)
		}
		// The quantizer: every value within half a step, codes in [1, 255].
		for i := 0; i < m; i++ {
			for p := 0; p < k; p++ {
				q := xq[i*k+p]
				if got := float64(int(q)-128) * float64(xs[i]); q == 0 || math.Abs(got-float64(x[i*k+p])) > float64(xs[i])*0.5001 {
					t.Fatalf("%s %+v: x[%d][%d] = %v quantized to %d (scale %v)", set, c, i, p, x[i*k+p], q, xs[i])
				}
			}
		}
		y := append([]float32(nil), y0...)
		yGo := append([]float32(nil), y0...)
		gemmU8S8Go(m, n, k, xq, xs, w, ws, corr, yGo, ldy, c.acc, 0, 0)
		GemmU8S8(m, n, k, xq, xs, w, ws, corr, y, ldy, c.acc)
		if i := sameBits(y, yGo); i >= 0 {
			t.Fatalf("%s %+v: y[%d] = %v, the Go loop gives %v", set, c, i, y[i], yGo[i])
		}
		// Both passes: the codes of the residual, then GemmU8S8Res against two Go calls.
		rq, rs := make([]uint8, m*k), make([]float32, m)
		QuantizeResidual(rq, rs, x, xq, xs, m, k)
		y2 := append([]float32(nil), y0...)
		GemmU8S8Res(m, n, k, xq, xs, rq, rs, w, ws, corr, y2, ldy, c.acc)
		gemmU8S8Go(m, n, k, rq, rs, w, ws, corr, yGo, ldy, true, 0, 0)
		if i := sameBits(y2, yGo); i >= 0 {
			t.Fatalf("%s %+v: GemmU8S8Res y[%d] = %v, two Go passes give %v", set, c, i, y2[i], yGo[i])
		}
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

// quantizeActsGo is QuantizeActs on the pure-Go loops.
func quantizeActsGo(dst []uint8, scales []float32, x []float32, m, k int) {
	defer setInt8Kernel(setInt8Kernel(i8Go))
	QuantizeActs(dst, scales, x, m, k)
}

// TestGemmU8S8 runs every kernel on odd shapes: row and column counts around the tiles
// (4x4 and 1x16 for VNNI, 2x4 and 1x8 for AVX2), every k up to 70 (the AVX2 tail step
// and the VNNI masks), and the models' shapes.
func TestGemmU8S8(t *testing.T) {
	for _, m := range []int{1, 2, 3, 4, 5, 7, 8, 13} {
		for _, n := range []int{1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 37, 64} {
			for _, k := range []int{1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 191, 257} {
				int8Case{m: m, n: n, k: k, pad: (m + n) % 3, acc: (m+n+k)%2 == 1, seed: 1}.check(t)
			}
		}
	}
	for k := 1; k <= 70; k++ {
		for _, s := range [][2]int{{1, 8}, {1, 11}, {2, 4}, {3, 13}, {5, 17}} {
			int8Case{m: s[0], n: s[1], k: k, pad: k % 3, acc: k%2 == 0, seed: 4}.check(t)
		}
	}
	// (m, n, k): the model's shapes, 135M (576, 1536, 192) and 60M (512, 1376, whose
	// k%64 = 32), k = 1000 (k%32 = 8) and k = 3000 (GemmU8S8Res in two column blocks).
	for _, s := range [][3]int{{1, 576, 576}, {1, 192, 576}, {5, 576, 1536}, {9, 1376, 512}, {6, 512, 1376}, {3, 200, 512}, {7, 23, 1000}, {3, 100, 3000}} {
		int8Case{m: s[0], n: s[1], k: s[2], seed: 2}.check(t)
		int8Case{m: s[0], n: s[1], k: s[2], acc: true, pad: 5, seed: 3}.check(t)
	}
}

// TestGemmU8S8Codes gives every kernel codes straight from the full ranges, q in
// [1, 255] and w in [-127, 127], with a run of the corner where a plain VPMADDUBSW
// would saturate (q = 255 or 1 against w = +-127), and wants the Go loop's bits.
func TestGemmU8S8Codes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range [][3]int{{1, 8, 32}, {2, 4, 33}, {3, 9, 64}, {5, 13, 100}, {4, 24, 576}, {3, 17, 1000}, {2, 8, 4096}} {
		m, n, k := s[0], s[1], s[2]
		xq, w := make([]uint8, m*k), make([]int8, n*k)
		for i := range xq {
			xq[i] = uint8(1 + rng.IntN(255))
		}
		for i := range w {
			w[i] = int8(rng.IntN(255) - 127)
		}
		// Row 0 at q = 255 and row 1 at q = 1 against weight rows 0 and 1 at +127 and
		// -127, over their first 20 values.
		for p := 0; p < min(k, 20); p++ {
			xq[p], w[p], w[k+p] = 255, 127, -127
			if m > 1 {
				xq[k+p] = 1
			}
		}
		xs, ws := make([]float32, m), make([]float32, n)
		for i := range xs {
			xs[i] = float32(rng.Float64() + 0.5)
		}
		for j := range ws {
			ws[j] = float32(rng.Float64()+0.5) / 1024
		}
		corr := Int8Corr(w, n, k)
		ldy := n + 1
		y0 := make([]float32, m*ldy)
		for i := range y0 {
			y0[i] = float32(rng.NormFloat64())
		}
		// A second pass of codes for GemmU8S8Res, reversed.
		rq, rs := slices.Clone(xq), slices.Clone(xs)
		slices.Reverse(rq)
		slices.Reverse(rs)
		for _, acc := range []bool{false, true} {
			want := append([]float32(nil), y0...)
			gemmU8S8Go(m, n, k, xq, xs, w, ws, corr, want, ldy, acc, 0, 0)
			want2 := append([]float32(nil), want...)
			gemmU8S8Go(m, n, k, rq, rs, w, ws, corr, want2, ldy, true, 0, 0)
			int8Sets(t, func(set string) {
				y := append([]float32(nil), y0...)
				GemmU8S8(m, n, k, xq, xs, w, ws, corr, y, ldy, acc)
				if i := sameBits(y, want); i >= 0 {
					t.Fatalf("%s m=%d n=%d k=%d acc=%t: y[%d] = %v, the Go loop gives %v", set, m, n, k, acc, i, y[i], want[i])
				}
				y = append(y[:0], y0...)
				GemmU8S8Res(m, n, k, xq, xs, rq, rs, w, ws, corr, y, ldy, acc)
				if i := sameBits(y, want2); i >= 0 {
					t.Fatalf("%s m=%d n=%d k=%d acc=%t: GemmU8S8Res y[%d] = %v, two Go passes give %v", set, m, n, k, acc, i, y[i], want2[i])
				}
			})
		}
	}
}

// TestGemmU8S8Saturation sets every code to one value, q in {1, 255, 0} against w all
// +127 or all -127, where int16 pair sums of q*w would saturate: each sum is exact. (0 is
// no code of QuantizeActs, but every kernel takes it.)
func TestGemmU8S8Saturation(t *testing.T) {
	for _, k := range []int{32, 70, 576, 1000, 4096} {
		for _, q := range []uint8{1, 255, 0} {
			for _, wv := range []int8{127, -127} {
				m, n := 3, 12
				xq, w := make([]uint8, m*k), make([]int8, n*k)
				for i := range xq {
					xq[i] = q
				}
				for i := range w {
					w[i] = wv
				}
				xs, ws := []float32{1, 1, 1}, make([]float32, n)
				for j := range ws {
					ws[j] = 1
				}
				corr := Int8Corr(w, n, k)
				want := float32(k * (int(q) - 128) * int(wv))
				int8Sets(t, func(set string) {
					y := make([]float32, m*n)
					GemmU8S8(m, n, k, xq, xs, w, ws, corr, y, n, false)
					for i, v := range y {
						if v != want {
							t.Fatalf("%s k=%d q=%d w=%d: y[%d] = %v, want %v", set, k, q, wv, i, v, want)
						}
					}
				})
			}
		}
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

// BenchmarkGemmU8S8 reports single-thread integer GOP/s (2 per multiply-add, one
// activation pass, QuantizeActs included) of each integer kernel at the classifier's
// (16 x 32 rows) and the decoder's (1 row) shapes, and beside them what a quantized layer
// runs without integer kernels: float32 SGEMM of each kernel set (several rows; the
// dequantization of the weights is left out) or DotInt8 (one row):
//
//	go test -run '^$' -bench 'GemmU8S8' ./internal/kernels/
func BenchmarkGemmU8S8(b *testing.B) {
	for _, s := range [][3]int{{512, 576, 576}, {512, 576, 1536}, {512, 1536, 576}, {512, 512, 1376}, {1, 576, 576}, {1, 576, 1536}, {1, 1536, 576}} {
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
		gops := func(b *testing.B) float64 { return 2 * float64(m*n*k) * float64(b.N) / b.Elapsed().Seconds() / 1e9 }
		int8Sets(b, func(set string) {
			b.Run(fmt.Sprintf("%dx%dx%d/int8-%s", m, k, n, set), func(b *testing.B) {
				for b.Loop() {
					QuantizeActs(xq, xs, x, m, k)
					GemmU8S8(m, n, k, xq, xs, w, ws, corr, y, n, false)
				}
				b.ReportMetric(gops(b), "GOP/s")
			})
		})
		if m == 1 {
			b.Run(fmt.Sprintf("%dx%dx%d/dotint8", m, k, n), func(b *testing.B) {
				for b.Loop() {
					for j := range n {
						y[j] = DotInt8(w[j*k:(j+1)*k], x) * ws[j]
					}
				}
				b.ReportMetric(gops(b), "GFLOP/s")
			})
			continue
		}
		wf := make([]float32, n*k)
		for _, ks := range supported() {
			b.Run(fmt.Sprintf("%dx%dx%d/sgemm-%s", m, k, n, ks.name), func(b *testing.B) {
				for b.Loop() {
					sgemmWith(ks, 1, false, true, m, n, k, 1, x, k, wf, k, 0, y, n)
				}
				b.ReportMetric(gops(b), "GFLOP/s")
			})
		}
	}
}

// TestQuantizeResidual checks the second activation pass: the two codes rebuild x to
// within half a residual step, and the SIMD quantizers give the pure-Go codes exactly.
func TestQuantizeResidual(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range []int{1, 15, 16, 17, 31, 32, 33, 63, 64, 100, 576, 1000, 1376} {
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
