package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ulpDiff is the distance in float32 ulps between two finite values of one sign.
func ulpDiff(a, b float32) int64 {
	d := int64(math.Float32bits(a)) - int64(math.Float32bits(b))
	if d < 0 {
		return -d
	}
	return d
}

func TestExpScalar(t *testing.T) {
	worst := 0.0
	for x := -87.0; x < 88; x += 0.001 {
		got, want := float64(Exp(float32(x))), math.Exp(float64(float32(x)))
		worst = max(worst, math.Abs(got-want)/want)
	}
	if worst > 3e-7 {
		t.Fatalf("Exp worst relative error %.3g, want <= 3e-7", worst)
	}
	if Exp(float32(math.Inf(-1))) != 0 || Exp(-100) != 0 || !math.IsInf(float64(Exp(100)), 1) || Exp(float32(math.NaN())) == Exp(float32(math.NaN())) {
		t.Fatal("Exp special values: want 0 below -87.33, +Inf above 88.72, NaN for NaN")
	}
}

// checkExpSub compares ExpSub with the scalar Exp on every element (within 1 ulp:
// the vector kernel rounds n half to even, the scalar half away from zero) and the
// returned sum with the float64 sum.
func checkExpSub(t *testing.T, src []float32, sub float32) {
	t.Helper()
	dst := make([]float32, len(src))
	sum := ExpSub(dst, src, sub)
	var want float64
	for i, x := range src {
		e := Exp(x - sub)
		want += float64(e)
		switch {
		case e != e:
			if dst[i] == dst[i] {
				t.Fatalf("ExpSub(%v - %v) = %v, want NaN", x, sub, dst[i])
			}
		case e == 0 || math.IsInf(float64(e), 0):
			if dst[i] != e {
				t.Fatalf("ExpSub(%v - %v) = %v, want %v", x, sub, dst[i], e)
			}
		case ulpDiff(dst[i], e) > 1:
			t.Fatalf("ExpSub(%v - %v) = %v, want %v (%d ulp)", x, sub, dst[i], e, ulpDiff(dst[i], e))
		}
	}
	if want == want && !math.IsInf(want, 0) && math.Abs(sum-want) > 1e-6*math.Abs(want)+1e-30 {
		t.Fatalf("ExpSub sum %v, want %v", sum, want)
	}
}

func TestExpSubAndSigmoid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	special := []float32{0, -0, 1, -1, 88.7, 88.73, 89, -87.3, -87.34, -100, 1e-30,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 0.34657359, -0.34657359}
	for n := 0; n < 70; n++ {
		src := make([]float32, n)
		for i := range src {
			if rng.IntN(4) == 0 {
				src[i] = special[rng.IntN(len(special))]
			} else {
				src[i] = float32(rng.NormFloat64() * 30)
			}
		}
		checkExpSub(t, src, 0)
		checkExpSub(t, src, float32(rng.NormFloat64()*10))
		finite := make([]float32, n)
		for i := range finite {
			finite[i] = float32(rng.NormFloat64() * 20)
		}
		dst := make([]float32, n)
		Sigmoid(dst, finite)
		for i, x := range finite {
			want := 1 / (1 + math.Exp(-float64(x)))
			if math.Abs(float64(dst[i])-want) > 3e-7*want+1e-38 {
				t.Fatalf("Sigmoid(%v) = %v, want %v", x, dst[i], want)
			}
		}
	}
}

// FuzzExpSub checks ExpSub against the scalar Exp on fuzzed inputs; the seed corpus
// is in testdata/fuzz/FuzzExpSub.
func FuzzExpSub(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 128, 191}, float32(0.5))
	f.Fuzz(func(t *testing.T, raw []byte, sub float32) {
		src := make([]float32, len(raw)/4)
		for i := range src {
			src[i] = math.Float32frombits(uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24)
		}
		checkExpSub(t, src, sub)
	})
}

func TestAdamWMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	h := AdamWParams{Beta1: 0.9, C1: 0.1, Beta2: 0.999, C2: 0.001, Decay: 1 - 1e-3*0.1, StepSize: 1e-3 / 0.19, InvBC2: 1 / math.Sqrt(0.002), Eps: 1e-8}
	for _, n := range []int{0, 1, 3, 4, 5, 17, 64, 101} {
		p, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range p {
			p[i], g[i], m[i], v[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64()*0.1), float32(rng.Float64()*0.01)
		}
		wp, wm, wv := append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
		for i := range wp {
			gi := float64(g[i])
			mi := h.Beta1*float64(wm[i]) + h.C1*gi
			vi := h.Beta2*float64(wv[i]) + h.C2*gi*gi
			wm[i], wv[i] = float32(mi), float32(vi)
			wp[i] = float32(float64(wp[i])*h.Decay - h.StepSize*mi/(math.Sqrt(vi)*h.InvBC2+h.Eps))
		}
		AdamW(p, g, m, v, h)
		for i := range p {
			if p[i] != wp[i] || m[i] != wm[i] || v[i] != wv[i] {
				t.Fatalf("n=%d i=%d: p,m,v = %v,%v,%v, want %v,%v,%v", n, i, p[i], m[i], v[i], wp[i], wm[i], wv[i])
			}
		}
	}
}
