package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gemmCase is one product with its storage: leading dimensions may exceed the rows
// they hold (strided views of a wider matrix).
type gemmCase struct {
	tA, tB        bool
	m, n, k       int
	padA, padB    int // extra columns of the stored A and B
	padC          int
	alpha, beta   float32
	nanC          bool // C starts as NaN (beta must be 0 for it to be overwritten)
	threads, seed int
}

func (g gemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s_%dx%dx%d_pad%d.%d.%d_a%g_b%g_t%d", t(g.tA), t(g.tB), g.m, g.n, g.k,
		g.padA, g.padB, g.padC, g.alpha, g.beta, g.threads)
}

// operands makes random A, B, C with their leading dimensions.
func (g gemmCase) operands() (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	rng := rand.New(rand.NewPCG(uint64(g.seed), 7))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	ar, ac := g.m, g.k
	if g.tA {
		ar, ac = g.k, g.m
	}
	br, bc := g.k, g.n
	if g.tB {
		br, bc = g.n, g.k
	}
	lda, ldb, ldc = max(1, ac+g.padA), max(1, bc+g.padB), max(1, g.n+g.padC)
	a, b, c = fill(max(0, ar*lda)), fill(max(0, br*ldb)), fill(max(0, g.m*ldc))
	if g.nanC {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	return
}

// reference computes the product in float64 and a bound on float32 rounding per entry.
func (g gemmCase) reference(a []float32, lda int, b []float32, ldb int, c []float32, ldc int) (want, tol []float64) {
	want, tol = make([]float64, g.m*g.n), make([]float64, g.m*g.n)
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.n; j++ {
			var s, abs float64
			for p := 0; p < g.k; p++ {
				ai, bi := i*lda+p, p*ldb+j
				if g.tA {
					ai = p*lda + i
				}
				if g.tB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				s += float64(av) * float64(bv)
				abs += math.Abs(float64(av) * float64(bv))
			}
			v := float64(g.alpha) * s
			cv := float64(c[i*ldc+j])
			if g.beta != 0 {
				v += float64(g.beta) * cv
				abs = math.Abs(float64(g.alpha))*abs + math.Abs(float64(g.beta)*cv)
			} else {
				abs *= math.Abs(float64(g.alpha))
			}
			want[i*g.n+j] = v
			tol[i*g.n+j] = 1e-6 + 4*float64(g.k+2)*float64(math.Nextafter32(1, 2)-1)*abs
		}
	}
	return want, tol
}

// check runs the case on each kernel set and compares every entry of C with the
// float64 reference (computed once), and the padding of C with its old value.
func (g gemmCase) check(t *testing.T, sets ...*kernelSet) {
	t.Helper()
	a, lda, b, ldb, c0, ldc := g.operands()
	want, tol := g.reference(a, lda, b, ldb, c0, ldc)
	for _, ks := range sets {
		c := append([]float32(nil), c0...)
		sgemmWith(ks, g.threads, g.tA, g.tB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, c, ldc)
		for i := 0; i < g.m; i++ {
			for j := 0; j < ldc; j++ {
				got := c[i*ldc+j]
				if j >= g.n {
					if math.Float32bits(got) != math.Float32bits(c0[i*ldc+j]) {
						t.Fatalf("%v on %s: padding C[%d][%d] changed from %v to %v", g, name(ks), i, j, c0[i*ldc+j], got)
					}
					continue
				}
				w, e := want[i*g.n+j], tol[i*g.n+j]
				if d := math.Abs(float64(got) - w); !(d <= e) {
					t.Fatalf("%v on %s: C[%d][%d] = %v, want %v (tolerance %g)", g, name(ks), i, j, got, w, e)
				}
			}
		}
	}
}

func name(ks *kernelSet) string {
	if ks == nil {
		return "gonum"
	}
	return ks.name
}

// allSets is every kernel set this machine runs, and gonum's fallback.
func allSets() []*kernelSet { return append(supported(), nil) }

func TestSgemmOddShapes(t *testing.T) {
	dims := []int{1, 2, 3, 5, 7, 11, 13, 16, 17, 31, 32, 33, 47, 64, 97}
	seed := 0
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			for i, m := range dims {
				// Every m with a spread of n and k: all 15^3 would be slow under -race.
				n, k := dims[(i*7+3)%len(dims)], dims[(i*5+1)%len(dims)]
				seed++
				gemmCase{tA: tA, tB: tB, m: m, n: n, k: k, alpha: 1, threads: 1, seed: seed}.check(t, allSets()...)
				gemmCase{tA: tA, tB: tB, m: n, n: k, k: m, alpha: 1, threads: 1, seed: seed}.check(t, allSets()...)
			}
		}
	}
}

func TestSgemmAlphaBetaStrides(t *testing.T) {
	cases := []gemmCase{
		{m: 1, n: 1, k: 1, alpha: 1},
		{m: 13, n: 37, k: 19, alpha: 0.5, beta: 1, padA: 3, padB: 5, padC: 2},
		{m: 29, n: 70, k: 300, alpha: -2, beta: 0.25, padA: 1, padB: 7, padC: 9},
		{m: 12, n: 32, k: 257, alpha: 1, beta: 0, nanC: true, padC: 4},
		{m: 70, n: 33, k: 5, alpha: 1, beta: 1, tA: true, padA: 2},
		{m: 5, n: 600, k: 520, alpha: 1.5, beta: -1, tB: true, padB: 3},
		{m: 3, n: 4, k: 0, alpha: 1, beta: 2},
		{m: 3, n: 4, k: 5, alpha: 0, beta: 0.5},
	}
	for i, g := range cases {
		for _, tt := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			g.tA, g.tB, g.seed, g.threads = tt[0], tt[1], i, 1
			g.check(t, allSets()...)
		}
	}
}

// TestSgemmBlocks crosses the K and N block sizes and the direct-B row limit, on one
// and several goroutines.
func TestSgemmBlocks(t *testing.T) {
	cases := []gemmCase{
		{m: 20, n: blockN + 17, k: blockK + 1, threads: 1},
		{m: directRows + 1, n: blockN + 40, k: blockK + 3, threads: 3},
		{m: 130, n: 40, k: 2*blockK + 5, threads: 2},
		{m: 7, n: 1100, k: 40, threads: 3},
	}
	for i, g := range cases {
		for _, tt := range [][2]bool{{false, false}, {false, true}, {true, false}} {
			g.tA, g.tB, g.seed, g.alpha, g.beta = tt[0], tt[1], i, 1, 1
			g.check(t, supported()...)
		}
	}
}

func TestSgemmPanicsOnBadArguments(t *testing.T) {
	bad := []func(){
		func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		},
		func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 4), 1, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		},
		func() { Sgemm(false, false, -1, 2, 2, 1, nil, 2, nil, 2, 0, nil, 2) },
		func() {
			Sgemm(false, true, 2, 3, 2, 1, make([]float32, 4), 2, make([]float32, 6), 2, 0, make([]float32, 5), 3)
		},
	}
	for i, f := range bad {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("case %d: no panic", i)
				}
			}()
			f()
		}()
	}
}

func TestImplementationMatchesCPU(t *testing.T) {
	got := Implementation()
	if sets := supported(); active != nil && got != sets[0].name {
		t.Errorf("Implementation() = %q, want the first supported set %q", got, sets[0].name)
	}
}
