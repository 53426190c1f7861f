//go:build amd64 && !purego

package kernels

import (
	"slices"

	"golang.org/x/sys/cpu"
)

// i8 is the integer kernel in use: the fastest this CPU has unless a test or benchmark
// chose another (setInt8Kernel, SetInt8SIMD, SetAVX2Only).
var i8 = bestInt8()

// hasVNNI says whether the AVX-512 VNNI kernels run here (they also need AVX-512 BW for
// the byte masks and VL for the 128-bit EVEX forms).
func hasVNNI() bool {
	x := cpu.X86
	return x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512VNNI
}

// bestInt8 is the fastest integer kernel of this CPU, passing over AVX-512 under
// SetAVX2Only.
func bestInt8() int8Kernel {
	switch {
	case hasVNNI() && !noAVX512:
		return i8VNNI
	case cpu.X86.HasAVX2:
		return i8AVX2
	}
	return i8Go
}

// int8Kernels lists every integer kernel this CPU can run, for the tests.
func int8Kernels() []int8Kernel {
	var s []int8Kernel
	if hasVNNI() {
		s = append(s, i8VNNI)
	}
	if cpu.X86.HasAVX2 {
		s = append(s, i8AVX2)
	}
	return append(s, i8Go)
}

// setInt8Kernel selects kernel k (the Go loops where this CPU lacks it) and returns the
// previous one, for tests and benchmarks that compare the kernels.
func setInt8Kernel(k int8Kernel) int8Kernel {
	old := i8
	if !slices.Contains(int8Kernels(), k) {
		k = i8Go
	}
	i8 = k
	return old
}

// SetInt8SIMD switches the integer SIMD kernels on (the fastest this CPU has) or off
// (the pure-Go loops) and returns whether they were on, for other packages' tests and
// benchmarks (distill/infer compares its integer path with the pure-Go one); not for
// production use.
func SetInt8SIMD(on bool) bool {
	old := i8 != i8Go
	i8 = i8Go
	if on {
		i8 = bestInt8()
	}
	return old
}

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

//go:noescape
func i8x2AVX2(x0, x1 *uint8, w *int8, k, nb int, ws *float32, xs0, xs1 float32, y *float32, ldy, flags int)

//go:noescape
func i8x1AVX2(x *uint8, w *int8, k, nb int, ws *float32, xs float32, y *float32, acc bool)

//go:noescape
func amaxAVX2(x *float32, n int) float32

//go:noescape
func quantU8AVX2(dst *uint8, x *float32, n int, inv float32)

//go:noescape
func resAmaxAVX2(x *float32, q *uint8, n int, s float32) float32

//go:noescape
func resQuantAVX2(dst *uint8, x *float32, q *uint8, n int, s, inv float32)
