//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// i8VNNI says whether the AVX-512 VNNI integer kernels of int8_amd64.s run here (they
// also need AVX-512 BW for the byte masks and VL for the 128-bit EVEX forms).
var i8VNNI = hasVNNI()

func hasVNNI() bool {
	x := cpu.X86
	return x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512VNNI
}

// setInt8SIMD switches the integer SIMD kernels on or off (when the CPU has them) and
// returns the previous setting, for tests and benchmarks that compare both paths.
func setInt8SIMD(on bool) bool {
	old := i8VNNI
	i8VNNI = on && hasVNNI()
	return old
}

// SetInt8SIMD is setInt8SIMD for other packages' tests and benchmarks (distill/infer
// compares its integer path with the pure-Go one); not for production use.
func SetInt8SIMD(on bool) bool { return setInt8SIMD(on) }

//go:noescape
func i8x4VNNI(x *uint8, w *int8, k, nb int, corr *int32, ws, xs, y *float32, ldy int, acc bool)

//go:noescape
func i8x1VNNI(x *uint8, w *int8, k, nb int, corr *int32, ws *float32, xs float32, y *float32, acc bool)

//go:noescape
func amaxAVX512(x *float32, n int) float32

//go:noescape
func quantU8AVX512(dst *uint8, x *float32, n int, inv float32)

//go:noescape
func resAmaxAVX512(x *float32, q *uint8, n int, s float32) float32

//go:noescape
func resQuantAVX512(dst *uint8, x *float32, q *uint8, n int, s, inv float32)
