package kernels

// Rope rotates the pairs (x1[i], x2[i]) by the angles whose cosines and sines are
// cos[i], sin[i], for i < len(y1):
//
//	y1[i] = x1[i]*cos[i] - x2[i]*sin[i];  y2[i] = x2[i]*cos[i] + x1[i]*sin[i]
//
// which is one head of a rotary position embedding in Hugging Face's rotate_half
// pairing (x1, x2 the head's halves). y1 may be x1 and y2 may be x2 (in place), but a
// y that partially overlaps an x gives undefined results. Every product is rounded
// before the sum (no fused multiply-add), in the vector kernels too, so all of them
// give the bits of the scalar Go expression.
func Rope(y1, y2, x1, x2, cos, sin []float32) {
	n := len(y1)
	y2, x1, x2, cos, sin = y2[:n], x1[:n], x2[:n], cos[:n], sin[:n]
	i := 0
	switch {
	case elemISA == isaAVX512 && n > 0:
		ropeAVX512Asm(&y1[0], &y2[0], &x1[0], &x2[0], &cos[0], &sin[0], n)
		return
	case elemISA >= isaAVX2 && n >= 8:
		i = n &^ 7
		ropeAVX2Asm(&y1[0], &y2[0], &x1[0], &x2[0], &cos[0], &sin[0], i)
	}
	for ; i < n; i++ {
		a, b, c, s := x1[i], x2[i], cos[i], sin[i]
		// The conversions keep the compiler from fusing a product into the sum (it
		// may, and does with GOAMD64=v3), which would change the bits.
		y1[i] = float32(a*c) - float32(b*s)
		y2[i] = float32(b*c) + float32(a*s)
	}
}
