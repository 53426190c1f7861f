//go:build !amd64 || purego

package kernels

// vecAVX2 is false: this build has no assembly, and the functions below are never
// called (they exist so that vec.go compiles everywhere).
const vecAVX2 = false

func expSubAVX2(dst, src *float32, n int, sub float32) float32 {
	panic("kernels: no AVX2 in this build")
}
func sigmoidAVX2(dst, src *float32, n int) { panic("kernels: no AVX2 in this build") }
func adamwAVX2(param, grad, m, v *float32, n int, h *[8]float64) {
	panic("kernels: no AVX2 in this build")
}

// setVec reports false: there is nothing to switch in this build.
func setVec(bool) bool { return false }

func dotAVX2(x, y *float32, n int) float32           { panic("kernels: no AVX2 in this build") }
func dotInt8AVX2(q *int8, x *float32, n int) float32 { panic("kernels: no AVX2 in this build") }
func dequantAVX2(dst *float32, q *int8, n int, scale float32) {
	panic("kernels: no AVX2 in this build")
}
