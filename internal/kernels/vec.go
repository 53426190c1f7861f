package kernels

import "math"

// Exp is e^x in float32 arithmetic (Cephes' expf, about 1 ulp): x = n ln2 + r with
// |r| <= ln2/2, e^r by a degree-7 polynomial, 2^n from the exponent bits. It is +Inf
// above 88.72, exactly 0 below -87.33 (so masked scores of -Inf give probability 0),
// and NaN for NaN. The vector kernels compute the same polynomial.
func Exp(x float32) float32 {
	switch {
	case x > 88.72:
		return float32(math.Inf(1))
	case x < -87.33:
		return 0
	case math.IsNaN(float64(x)):
		return x
	}
	v := x * 1.44269504088896341
	if v < 0 {
		v -= 0.5
	} else {
		v += 0.5
	}
	n := float32(int32(v)) // rounded to nearest by truncating v +- 0.5
	r := x - n*0.693359375
	r -= n * -2.12194440e-4
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// ExpSub writes e^(src[i] - sub) into dst (which may be src) and returns the sum of
// what it wrote: the exponentials of a softmax after subtracting the row maximum.
func ExpSub(dst, src []float32, sub float32) float64 {
	src = src[:len(dst)]
	n := 0
	var sum float64
	if vecAVX2 && len(dst) >= 8 {
		n = len(dst) &^ 7
		sum = float64(expSubAVX2(&dst[0], &src[0], n, sub))
	}
	for i := n; i < len(dst); i++ {
		e := Exp(src[i] - sub)
		dst[i] = e
		sum += float64(e)
	}
	return sum
}

// Sigmoid writes 1/(1+e^-x) of every src value into dst (which may be src).
func Sigmoid(dst, src []float32) {
	src = src[:len(dst)]
	n := 0
	if vecAVX2 && len(dst) >= 8 {
		n = len(dst) &^ 7
		sigmoidAVX2(&dst[0], &src[0], n)
	}
	for i := n; i < len(dst); i++ {
		dst[i] = 1 / (1 + Exp(-src[i]))
	}
}

// AdamWParams are the per-step constants of an AdamW update (see AdamW).
type AdamWParams struct {
	// Beta1, Beta2 are the moment decays and C1 = 1-Beta1, C2 = 1-Beta2.
	Beta1, C1, Beta2, C2 float64
	// Decay is 1 - lr*weight_decay (1 for parameters that do not decay).
	Decay float64
	// StepSize is lr / (1 - Beta1^t) and InvBC2 is 1 / sqrt(1 - Beta2^t).
	StepSize, InvBC2 float64
	// Eps is Adam's epsilon.
	Eps float64
}

// AdamW updates parameters p with gradients g and moments m, v in place, in float64
// arithmetic stored as float32, for every i:
//
//	m = Beta1*m + C1*g;  v = Beta2*v + C2*g*g
//	p = p*Decay - StepSize*m / (sqrt(v)*InvBC2 + Eps)
//
// The vector kernel performs the same operations in the same order as the scalar
// loop, so both give the same bits.
func AdamW(p, g, m, v []float32, h AdamWParams) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	n := 0
	if vecAVX2 && len(p) >= 4 {
		n = len(p) &^ 3
		hp := [8]float64{h.Beta1, h.C1, h.Beta2, h.C2, h.Decay, h.StepSize, h.InvBC2, h.Eps}
		adamwAVX2(&p[0], &g[0], &m[0], &v[0], n, &hp)
	}
	for i := n; i < len(p); i++ {
		gi := float64(g[i])
		mi := h.Beta1*float64(m[i]) + h.C1*gi
		vi := h.Beta2*float64(v[i]) + h.C2*gi*gi
		m[i], v[i] = float32(mi), float32(vi)
		p[i] = float32(float64(p[i])*h.Decay - h.StepSize*mi/(math.Sqrt(vi)*h.InvBC2+h.Eps))
	}
}
