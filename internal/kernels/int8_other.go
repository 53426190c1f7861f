//go:build !amd64 || purego

package kernels

// i8VNNI is false: this build has no assembly, and the functions below are never
// called (they exist so that int8.go compiles everywhere).
const i8VNNI = false

func setInt8SIMD(bool) bool { return false }

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
