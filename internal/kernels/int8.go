package kernels

import "math"

// Integer INT8 products for inference. Activations are quantized per row (a token) to
// uint8 with a zero point of 128: q = round-to-even(x / scale) + 128 with scale =
// max|row| / 127, so q is in [1, 255] and stands for (q-128)*scale. Weights are int8 in
// [-127, 127] with one scale per row. A product sums q*w in int32 and removes the zero
// point with corr = 128*sum(w) per weight row, precomputed once (Int8Corr):
//
//	y[i][j] = (sum_p q[i][p]*w[j][p] - corr[j]) * ws[j] * xs[i]
//
// u8 x s8 is what the integer dot-product instructions take: AVX-512 VNNI's VPDPBUSD
// adds four such products into each int32 lane without saturation, so the full 8-bit
// range of activations is kept. (AVX2's VPMADDUBSW would saturate its int16 pair sums
// at 2*255*127 > 32767; that path, and AVX-VNNI, are not written yet: CPUs without
// AVX-512 VNNI run the pure-Go loop here, and distill/infer keeps its float kernels
// there, see Int8Fast.) The int32 sums are exact while k <= 65536.

// maxInt8K is the longest row whose int32 sums cannot overflow: 255*127*k < 2^31.
const maxInt8K = 65536

// Int8Fast reports whether GemmU8S8 runs a SIMD integer kernel on this CPU and build
// (AVX-512 VNNI); without one it is a scalar loop, slower than float32 SIMD.
func Int8Fast() bool { return i8VNNI }

// Int8Corr returns corr[j] = 128 * sum_p w[j*k+p] for the n rows of w [n, k].
func Int8Corr(w []int8, n, k int) []int32 {
	corr := make([]int32, n)
	for j := range corr {
		var s int32
		for _, v := range w[j*k : (j+1)*k] {
			s += int32(v)
		}
		corr[j] = 128 * s
	}
	return corr
}

// QuantizeActs quantizes the m rows of x [m, k] (contiguous) into dst [m, k] and
// scales [m] (see the package's INT8 comment). An all-zero row gets scale 0 and 128s.
func QuantizeActs(dst []uint8, scales []float32, x []float32, m, k int) {
	dst, scales, x = dst[:m*k], scales[:m], x[:m*k]
	for i := 0; i < m; i++ {
		row, q := x[i*k:(i+1)*k], dst[i*k:(i+1)*k]
		n := 0
		var amax float32
		if i8VNNI && k >= 16 {
			n = k &^ 15
			amax = amaxAVX512(&row[0], n)
		}
		for _, v := range row[n:] {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		if amax == 0 {
			for p := range q {
				q[p] = 128
			}
			scales[i] = 0
			continue
		}
		scales[i] = amax / 127
		inv := 127 / amax
		n = 0
		if i8VNNI && k >= 16 {
			n = k &^ 15
			quantU8AVX512(&q[0], &row[0], n, inv)
		}
		for p := n; p < k; p++ {
			v := math.RoundToEven(float64(row[p] * inv))
			q[p] = uint8(int8(max(-127, min(127, v)))) ^ 0x80
		}
	}
}

// GemmU8S8 computes y[i*ldy+j] = xs[i] * ws[j] * sum_p (xq[i*k+p]-128) * w[j*k+p] for
// i < m, j < n (+= when acc): xq [m, k] activations from QuantizeActs, w [n, k] int8
// weights with their scales ws [n] and corr [n] from Int8Corr. Single-threaded: callers
// split n (or m) over their workers.
func GemmU8S8(m, n, k int, xq []uint8, xs []float32, w []int8, ws []float32, corr []int32, y []float32, ldy int, acc bool) {
	if m == 0 || n == 0 {
		return
	}
	xq, xs, w, ws, corr = xq[:m*k], xs[:m], w[:n*k], ws[:n], corr[:n]
	y = y[:(m-1)*ldy+n]
	if !i8VNNI || k == 0 || k > maxInt8K {
		gemmU8S8Go(m, n, k, xq, xs, w, ws, corr, y, ldy, acc, 0, 0)
		return
	}
	i := 0
	if n4 := n &^ 3; n4 > 0 {
		for ; i+4 <= m; i += 4 {
			i8x4VNNI(&xq[i*k], &w[0], k, n4/4, &corr[0], &ws[0], &xs[i], &y[i*ldy], ldy, acc)
		}
	}
	n16 := n &^ 15
	for r := i; r < m && n16 > 0; r++ {
		i8x1VNNI(&xq[r*k], &w[0], k, n16/16, &corr[0], &ws[0], xs[r], &y[r*ldy], acc)
	}
	// What the tiles left: columns n&^3.. of the first i rows, n16.. of the others.
	gemmU8S8Go(i, n, k, xq, xs, w, ws, corr, y, ldy, acc, 0, n&^3)
	gemmU8S8Go(m, n, k, xq, xs, w, ws, corr, y, ldy, acc, i, n16)
}

// gemmU8S8Go is the scalar GemmU8S8 over rows [i0, m) and columns [j0, n), with the
// same rounding as the SIMD kernels (exact int32 sum, then *ws, then *xs).
func gemmU8S8Go(m, n, k int, xq []uint8, xs []float32, w []int8, ws []float32, corr []int32, y []float32, ldy int, acc bool, i0, j0 int) {
	for i := i0; i < m; i++ {
		x := xq[i*k : (i+1)*k]
		for j := j0; j < n; j++ {
			wr := w[j*k : (j+1)*k]
			var s int32
			for p, v := range wr {
				s += int32(x[p]) * int32(v)
			}
			v := float32(s-corr[j]) * ws[j] * xs[i]
			if acc {
				v += y[i*ldy+j]
			}
			y[i*ldy+j] = v
		}
	}
}

// QuantizeResidual quantizes, row by row like QuantizeActs, what QuantizeActs' codes q
// and scales s leave of x: r = x - s*(q-128), |r| <= s/2. A second GemmU8S8 pass over
// (dst, scales) added to the first makes the activations ~15-bit (x = s*(q-128) +
// scales*(dst-128) to within scales/2), for twice the integer work.
func QuantizeResidual(dst []uint8, scales []float32, x []float32, q []uint8, s []float32, m, k int) {
	dst, scales, x, q, s = dst[:m*k], scales[:m], x[:m*k], q[:m*k], s[:m]
	for i := 0; i < m; i++ {
		row, qr, d := x[i*k:(i+1)*k], q[i*k:(i+1)*k], dst[i*k:(i+1)*k]
		si := s[i]
		n := 0
		var amax float32
		if i8VNNI && k >= 16 {
			n = k &^ 15
			amax = resAmaxAVX512(&row[0], &qr[0], n, si)
		}
		for p := n; p < k; p++ {
			r := row[p] - si*(float32(qr[p])-128)
			amax = max(amax, float32(math.Abs(float64(r))))
		}
		if amax == 0 {
			for p := range d {
				d[p] = 128
			}
			scales[i] = 0
			continue
		}
		scales[i] = amax / 127
		inv := 127 / amax
		n = 0
		if i8VNNI && k >= 16 {
			n = k &^ 15
			resQuantAVX512(&d[0], &row[0], &qr[0], n, si, inv)
		}
		for p := n; p < k; p++ {
			r := row[p] - si*(float32(qr[p])-128)
			d[p] = uint8(int8(max(-127, min(127, math.RoundToEven(float64(r*inv)))))) ^ 0x80
		}
	}
}
