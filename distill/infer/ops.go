package infer

import (
	"math"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/internal/kernels"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// rmsNorm writes x / sqrt(mean(x^2) + eps) * w into dst; the sum of squares accumulates
// in float64.
func rmsNorm(dst, x, w []float32, eps float64) {
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	inv := float32(1 / math.Sqrt(ss/float64(len(x))+eps))
	kernels.ScaleMul(dst[:len(x)], x, w, inv)
}

// ropeTable holds cos and sin of pos * theta^(-2i/hd) for every position and pair i,
// computed in float64: [maxSeq * hd/2].
type ropeTable struct {
	half     int
	cos, sin []float32
}

func newRopeTable(maxSeq, headDim int, theta float64) ropeTable {
	half := headDim / 2
	t := ropeTable{half: half, cos: make([]float32, maxSeq*half), sin: make([]float32, maxSeq*half)}
	for i := 0; i < half; i++ {
		freq := math.Pow(theta, -2*float64(i)/float64(headDim))
		for p := 0; p < maxSeq; p++ {
			s, c := math.Sincos(float64(p) * freq)
			t.cos[p*half+i], t.sin[p*half+i] = float32(c), float32(s)
		}
	}
	return t
}

// apply rotates every head of v (heads * hd values) in place for position pos, pairing
// (i, i+hd/2) as Hugging Face's rotate_half does.
func (t ropeTable) apply(v []float32, heads, pos int) {
	half := t.half
	cos, sin := t.cos[pos*half:(pos+1)*half], t.sin[pos*half:(pos+1)*half]
	for h := 0; h < heads; h++ {
		a := v[h*2*half : h*2*half+half]
		b := v[h*2*half+half : (h+1)*2*half]
		kernels.Rope(a, b, a, b, cos, sin)
	}
}

// siluMul writes silu(gate) * up into gate (the SwiGLU activation), the sigmoid
// vectorized a chunk at a time.
func siluMul(gate, up []float32) {
	up = up[:len(gate)]
	var s [256]float32
	for c0 := 0; c0 < len(gate); c0 += len(s) {
		g := gate[c0:min(c0+len(s), len(gate))]
		sg := s[:len(g)]
		kernels.Sigmoid(sg, g)
		for i, gv := range g {
			g[i] = gv * sg[i] * up[c0+i]
		}
	}
}

// softmax normalises x in place; the sum accumulates in float64. -Inf entries get
// probability 0.
func softmax(x []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	var sum float64
	for i, v := range x {
		e := math.Exp(float64(v - m))
		x[i] = float32(e)
		sum += e
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

// argmax is the index of the largest value (the first on ties), or -1 when every value
// is -Inf or NaN.
func argmax(x []float32) int {
	best, bestV := -1, float32(math.Inf(-1))
	for i, v := range x {
		if v > bestV {
			best, bestV = i, v
		}
	}
	return best
}

// attendRow computes one query head against t cached positions: out = softmax(k q^T *
// scale) v, where row p of the head's keys is kc[p*stride : p*stride+hd] (kc and vc
// already offset to the KV head). scores holds at least t values.
func attendRow(out, q, kc, vc []float32, stride, hd, t int, scale float32, scores []float32) {
	attendRowInduction(out, q, kc, vc, stride, hd, t, scale, scores, nil, 0, 1)
}

// attendRowInduction is attendRow whose scores get bonus on every key 1 <= j < t-1
// with toks[j-1] == toks[t-1], once per matching token up to ngram (a pointer
// head's induction bonus, pointer.go; the query's own key never); toks nil: none.
func attendRowInduction(out, q, kc, vc []float32, stride, hd, t int, scale float32, scores []float32, toks []int, bonus float32, ngram int) {
	scores = scores[:t]
	span := (t-1)*stride + hd
	blas32.Gemv(blas.NoTrans, scale, blas32.General{Rows: t, Cols: hd, Stride: stride, Data: kc[:span]},
		blas32.Vector{N: hd, Inc: 1, Data: q[:hd]}, 0, blas32.Vector{N: t, Inc: 1, Data: scores})
	if toks != nil {
		self := toks[t-1]
		for j := 1; j < t-1; j++ {
			if toks[j-1] == self {
				scores[j] += bonus * float32(model.InductionMatch(toks, t-1, j, ngram))
			}
		}
	}
	softmax(scores)
	blas32.Gemv(blas.Trans, 1, blas32.General{Rows: t, Cols: hd, Stride: stride, Data: vc[:span]},
		blas32.Vector{N: t, Inc: 1, Data: scores}, 0, blas32.Vector{N: hd, Inc: 1, Data: out[:hd]})
}
