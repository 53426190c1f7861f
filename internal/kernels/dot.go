package kernels

// Dot is sum x[i]*y[i] over len(x) values (y at least as long), in float32 with
// independent partial sums.
func Dot(x, y []float32) float32 {
	y = y[:len(x)]
	n := 0
	var s float32
	if vecAVX2 && len(x) >= 32 {
		n = len(x) &^ 31
		s = dotAVX2(&x[0], &y[0], n)
	}
	for i := n; i < len(x); i++ {
		s += x[i] * y[i]
	}
	return s
}

// DotInt8 is sum q[i]*x[i] over len(q) values: an INT8 weight row against float32
// activations, the weights widened in registers (one byte read per weight).
func DotInt8(q []int8, x []float32) float32 {
	x = x[:len(q)]
	n := 0
	var s float32
	if vecAVX2 && len(q) >= 32 {
		n = len(q) &^ 31
		s = dotInt8AVX2(&q[0], &x[0], n)
	}
	for i := n; i < len(q); i++ {
		s += float32(q[i]) * x[i]
	}
	return s
}

// Dequant writes q[i]*scale into dst (len(q) values).
func Dequant(dst []float32, q []int8, scale float32) {
	dst = dst[:len(q)]
	n := 0
	if vecAVX2 && len(q) >= 32 {
		n = len(q) &^ 31
		dequantAVX2(&dst[0], &q[0], n, scale)
	}
	for i := n; i < len(q); i++ {
		dst[i] = float32(q[i]) * scale
	}
}
