//go:build !amd64 || purego

package kernels

// i8 is the pure-Go loops: this build has no assembly, and the functions below are never
// called (they exist so that int8.go compiles everywhere).
const i8 = i8Go

func int8Kernels() []int8Kernel { return []int8Kernel{i8Go} }

func setInt8Kernel(int8Kernel) int8Kernel { return i8Go }

// SetInt8SIMD reports false: there is nothing to switch in this build.
func SetInt8SIMD(bool) bool { return false }

func i8x4VNNI(x *uint8, w *int8, k, nb int, corr *int32, ws, xs, y *float32, ldy int, acc bool) {
	panic("kernels: no AVX-512 VNNI in this build")
}
func i8x1VNNI(x *uint8, w *int8, k, nb int, corr *int32, ws *float32, xs float32, y *float32, acc bool) {
	panic("kernels: no AVX-512 VNNI in this build")
}
func amaxAVX512(x *float32, n int) float32 { panic("kernels: no AVX-512 in this build") }
func quantU8AVX512(dst *uint8, x *float32, n int, inv float32) {
	panic("kernels: no AVX-512 in this build")
}
func resAmaxAVX512(x *float32, q *uint8, n int, s float32) float32 {
	panic("kernels: no AVX-512 in this build")
}
func resQuantAVX512(dst *uint8, x *float32, q *uint8, n int, s, inv float32) {
	panic("kernels: no AVX-512 in this build")
}
func i8x2AVX2(x0, x1 *uint8, w *int8, k, nb int, ws *float32, xs0, xs1 float32, y *float32, ldy, flags int) {
	panic("kernels: no AVX2 in this build")
}
func i8x1AVX2(x *uint8, w *int8, k, nb int, ws *float32, xs float32, y *float32, acc bool) {
	panic("kernels: no AVX2 in this build")
}
func amaxAVX2(x *float32, n int) float32 { panic("kernels: no AVX2 in this build") }
func quantU8AVX2(dst *uint8, x *float32, n int, inv float32) {
	panic("kernels: no AVX2 in this build")
}
func resAmaxAVX2(x *float32, q *uint8, n int, s float32) float32 {
	panic("kernels: no AVX2 in this build")
}
func resQuantAVX2(dst *uint8, x *float32, q *uint8, n int, s, inv float32) {
	panic("kernels: no AVX2 in this build")
}
