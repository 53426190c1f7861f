package kernels

// ScaleMul sets y[i] = (x[i]*s) * w[i] for i < len(y): RMSNorm's forward, a row x times
// its scale s times the weights w. y may be x (in place), but a y that partially
// overlaps x gives undefined results. Each product is rounded before the next (no fused
// multiply-add), in the vector kernels too, so all of them give the bits of the
// scalar Go expression.
func ScaleMul(y, x, w []float32, s float32) {
	n := len(y)
	x, w = x[:n], w[:n]
	i := 0
	switch {
	case elemISA == isaAVX512 && n > 0:
		scaleMulAVX512Asm(&y[0], &x[0], &w[0], n, s)
		return
	case elemISA >= isaAVX2 && n >= 8:
		i = n &^ 7
		scaleMulAVX2Asm(&y[0], &x[0], &w[0], i, s)
	}
	for ; i < n; i++ {
		y[i] = float32(x[i]*s) * w[i]
	}
}

// ScaleMulSub sets dx[i] = ((s*w[i]) * g[i]) - (x[i]*c) for i < len(dx): RMSNorm's
// input gradient, with s the row's scale, g the output gradient and c the row's
// s^3/d * sum(g*w*x). dx may be g or x, but a dx that partially overlaps an input
// gives undefined results. Every product is rounded before the next operation, in
// every kernel, which gives the bits of the scalar Go expression.
func ScaleMulSub(dx, w, g, x []float32, s, c float32) {
	n := len(dx)
	w, g, x = w[:n], g[:n], x[:n]
	i := 0
	switch {
	case elemISA == isaAVX512 && n > 0:
		scaleMulSubAVX512Asm(&dx[0], &w[0], &g[0], &x[0], n, s, c)
		return
	case elemISA >= isaAVX2 && n >= 8:
		i = n &^ 7
		scaleMulSubAVX2Asm(&dx[0], &w[0], &g[0], &x[0], i, s, c)
	}
	for ; i < n; i++ {
		// The conversions keep the compiler from fusing a product into the
		// difference (it may, and does with GOAMD64=v3), which would change the bits.
		dx[i] = float32(float32(s*w[i])*g[i]) - float32(x[i]*c)
	}
}

// MulScaleAdd adds (g[i]*x[i]) * s to out[i] for i < len(out): one row's share of
// RMSNorm's weight gradient, with s the row's scale. out must not overlap g or x.
// Each product is rounded before the sum, in every kernel, which gives the bits of
// the scalar Go expression.
func MulScaleAdd(out, g, x []float32, s float32) {
	n := len(out)
	g, x = g[:n], x[:n]
	i := 0
	switch {
	case elemISA == isaAVX512 && n > 0:
		mulScaleAddAVX512Asm(&out[0], &g[0], &x[0], n, s)
		return
	case elemISA >= isaAVX2 && n >= 8:
		i = n &^ 7
		mulScaleAddAVX2Asm(&out[0], &g[0], &x[0], i, s)
	}
	for ; i < n; i++ {
		out[i] += float32(float32(g[i]*x[i]) * s)
	}
}
