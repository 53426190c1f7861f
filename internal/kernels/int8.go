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
// adds four such products into each int32 lane without saturation. AVX2 has only
// VPMADDUBSW, whose int16 pair sums would saturate at 2*255*127 > 32767, so its kernel
// uses the sign trick of llama.cpp: with x = q-128 (q XOR 0x80, in [-127, 127]),
// VPMADDUBSW(|x|, w*sign(x)) sums pairs of x*w within 2*127*127 = 32258, and VPMADDWD
// with ones widens them to int32. Both give sum_p (q-128)*w = sum q*w - corr exactly,
// so every kernel, and the pure-Go loop of other CPUs, writes the same bits. The int32
// sums are exact while k <= 65536. (AVX-VNNI, VPDPBUSD on AVX2 registers, is not
// written: Alder Lake and later client CPUs run the AVX2 kernel.)

// int8Kernel names an implementation of GemmU8S8 and the quantizers.
type int8Kernel uint8

const (
	i8Go   int8Kernel = iota // the pure-Go loops
	i8AVX2                   // int8_avx2_amd64.s
	i8VNNI                   // int8_amd64.s (AVX-512 VNNI, BW, VL)
)

func (k int8Kernel) String() string { return [...]string{"go", "avx2", "vnni"}[k] }

// maxInt8K is the longest row whose int32 sums cannot overflow: 255*127*k < 2^31.
const maxInt8K = 65536

// Int8Fast reports whether GemmU8S8 (and GemmU8S8Res) on m rows of activations runs a
// SIMD integer kernel here that beats the float32 SIMD path a quantized layer would run
// instead (DotInt8 for one row, weight tiles dequantized for Sgemm for more). With
// AVX-512 VNNI it does for every m; the pure-Go loop never does. The AVX2 kernel does
// for 2 to avx2IntRows rows, see there.
func Int8Fast(m int) bool {
	return i8 == i8VNNI || i8 == i8AVX2 && m >= 2 && m <= avx2IntRows
}

// avx2IntRows is the most rows for which the AVX2 integer kernels beat the float path.
// Their two activation passes of VPMADDUBSW cost more arithmetic than float32 FMAs, but
// a few rows cannot amortize dequantizing a weight tile for Sgemm. Measured on an
// AVX-512 Xeon under SetAVX2Only (AVX2 SGEMM), 24 tiles of 64 weight rows as
// distill/infer runs them, k = 576 and 1536, float time / integer time (best of 9):
// m = 2-8: 3-11, 16: 1.9, 32: 1.3 and 1.2, 64: 0.9 and 1.0, 128: 0.8, 512: 0.76 and
// 0.93. One row is 1.5-2.8x DotInt8 while the weights are in cache, but a decode step
// streams them from memory, where the 135M decoder ran 51-53 tok/s on GemmU8S8Res
// against 53-55 on DotInt8.
const avx2IntRows = 32

// Int8Implementation names the integer kernels in use: "vnni", "avx2" or "go".
func Int8Implementation() string { return i8.String() }

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
		amax, n := amaxSIMD(row)
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
		for p := quantSIMD(q, row, inv); p < k; p++ {
			v := math.RoundToEven(float64(row[p] * inv))
			q[p] = uint8(int8(max(-127, min(127, v)))) ^ 0x80
		}
	}
}

// simdLen is the prefix of an n-value row that the quantizers of kernel i8 take: a
// multiple of their vector step (16 floats for AVX-512, 32 for AVX2), 0 for Go.
func simdLen(n int) int {
	switch i8 {
	case i8VNNI:
		return n &^ 15
	case i8AVX2:
		return n &^ 31
	}
	return 0
}

// amaxSIMD returns max |row[p]| over the prefix of row it takes, and that prefix's length.
func amaxSIMD(row []float32) (float32, int) {
	n := simdLen(len(row))
	switch {
	case n == 0:
		return 0, 0
	case i8 == i8VNNI:
		return amaxAVX512(&row[0], n), n
	}
	return amaxAVX2(&row[0], n), n
}

// quantSIMD quantizes the prefix of row it takes into q and returns its length.
func quantSIMD(q []uint8, row []float32, inv float32) int {
	n := simdLen(len(row))
	switch {
	case n == 0:
	case i8 == i8VNNI:
		quantU8AVX512(&q[0], &row[0], n, inv)
	default:
		quantU8AVX2(&q[0], &row[0], n, inv)
	}
	return n
}

// GemmU8S8 computes y[i*ldy+j] = xs[i] * ws[j] * sum_p (xq[i*k+p]-128) * w[j*k+p] for
// i < m, j < n (+= when acc): xq [m, k] activations from QuantizeActs, w [n, k] int8
// weights in [-127, 127] with their scales ws [n] and corr [n] from Int8Corr.
// Single-threaded: callers split n (or m) over their workers.
func GemmU8S8(m, n, k int, xq []uint8, xs []float32, w []int8, ws []float32, corr []int32, y []float32, ldy int, acc bool) {
	if m == 0 || n == 0 {
		return
	}
	xq, xs, w, ws, corr = xq[:m*k], xs[:m], w[:n*k], ws[:n], corr[:n]
	y = y[:(m-1)*ldy+n]
	switch {
	case k == 0 || k > maxInt8K:
	case i8 == i8VNNI:
		gemmU8S8VNNI(m, n, k, xq, xs, w, ws, corr, y, ldy, acc)
		return
	case i8 == i8AVX2 && k >= 32: // the AVX2 tail step reads the last 32 bytes of a row
		gemmU8S8AVX2(m, n, k, xq, xs, w, ws, corr, y, ldy, acc)
		return
	}
	gemmU8S8Go(m, n, k, xq, xs, w, ws, corr, y, ldy, acc, 0, 0)
}

// gemmU8S8VNNI tiles GemmU8S8 with the AVX-512 VNNI kernels: 4 rows x 4 weight rows,
// then 1 row x 16 weight rows for the rows left.
func gemmU8S8VNNI(m, n, k int, xq []uint8, xs []float32, w []int8, ws []float32, corr []int32, y []float32, ldy int, acc bool) {
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

// Flags of i8x2AVX2.
const (
	x2Acc  = 1 // add to y
	x2Fuse = 2 // the two rows are the two activation passes of one row of y
)

// gemmU8S8AVX2 tiles GemmU8S8 with the AVX2 kernels (k >= 32): 2 rows x 4 weight rows,
// then 1 row x 8 weight rows for the row left.
func gemmU8S8AVX2(m, n, k int, xq []uint8, xs []float32, w []int8, ws []float32, corr []int32, y []float32, ldy int, acc bool) {
	flags := 0
	if acc {
		flags = x2Acc
	}
	i := 0
	if n4 := n &^ 3; n4 > 0 {
		for ; i+2 <= m; i += 2 {
			i8x2AVX2(&xq[i*k], &xq[(i+1)*k], &w[0], k, n4/4, &ws[0], xs[i], xs[i+1], &y[i*ldy], ldy, flags)
		}
	}
	n8 := n &^ 7
	for r := i; r < m && n8 > 0; r++ {
		i8x1AVX2(&xq[r*k], &w[0], k, n8/8, &ws[0], xs[r], &y[r*ldy], acc)
	}
	gemmU8S8Go(i, n, k, xq, xs, w, ws, corr, y, ldy, acc, 0, n&^3)
	gemmU8S8Go(m, n, k, xq, xs, w, ws, corr, y, ldy, acc, i, n8)
}

// GemmU8S8Res is GemmU8S8 over the activations (xq, xs) followed by GemmU8S8 over their
// residual (rq, rs) from QuantizeResidual with acc, bit for bit: the ~15-bit activations
// of two passes. The AVX2 kernel reads each weight once for both passes (a one-row
// product waits on the bytes of w); the others make the two calls.
func GemmU8S8Res(m, n, k int, xq []uint8, xs []float32, rq []uint8, rs []float32, w []int8, ws []float32, corr []int32, y []float32, ldy int, acc bool) {
	n4 := n &^ 3
	if i8 != i8AVX2 || k < 32 || k > maxInt8K || m == 0 || n4 == 0 {
		GemmU8S8(m, n, k, xq, xs, w, ws, corr, y, ldy, acc)
		GemmU8S8(m, n, k, rq, rs, w, ws, corr, y, ldy, true)
		return
	}
	xq, xs, rq, rs, w, ws, corr = xq[:m*k], xs[:m], rq[:m*k], rs[:m], w[:n*k], ws[:n], corr[:n]
	y = y[:(m-1)*ldy+n]
	flags := x2Fuse
	if acc {
		flags |= x2Acc
	}
	// Blocks of weight rows that stay in L2 while every activation row passes.
	nc := max(4, resBlock/k&^3)
	for j0 := 0; j0 < n4; j0 += nc {
		nb := min(nc, n4-j0) / 4
		for i := 0; i < m; i++ {
			i8x2AVX2(&xq[i*k], &rq[i*k], &w[j0*k], k, nb, &ws[j0], xs[i], rs[i], &y[i*ldy+j0], 0, flags)
		}
	}
	gemmU8S8Go(m, n, k, xq, xs, w, ws, corr, y, ldy, acc, 0, n4)
	gemmU8S8Go(m, n, k, rq, rs, w, ws, corr, y, ldy, true, 0, n4)
}

// resBlock is the bytes of weights GemmU8S8Res multiplies with every row before the next.
const resBlock = 256 << 10

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
		n := simdLen(k)
		var amax float32
		switch {
		case n == 0:
		case i8 == i8VNNI:
			amax = resAmaxAVX512(&row[0], &qr[0], n, si)
		default:
			amax = resAmaxAVX2(&row[0], &qr[0], n, si)
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
		switch {
		case n == 0:
		case i8 == i8VNNI:
			resQuantAVX512(&d[0], &row[0], &qr[0], n, si, inv)
		default:
			resQuantAVX2(&d[0], &row[0], &qr[0], n, si, inv)
		}
		for p := n; p < k; p++ {
			r := row[p] - si*(float32(qr[p])-128)
			d[p] = uint8(int8(max(-127, min(127, math.RoundToEven(float64(r*inv)))))) ^ 0x80
		}
	}
}
