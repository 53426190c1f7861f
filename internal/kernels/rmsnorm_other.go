//go:build !amd64 || purego

package kernels

// normISA is normGo: this build has no assembly.
var normISA = normGo

// normISAs lists the only RMSNorm kernel of this build.
func normISAs() []int { return []int{normGo} }

// setNormISA keeps normGo, the only kernel of this build, and returns it.
func setNormISA(int) int { return normGo }

func scaleMulAVX2Asm(y, x, w *float32, n int, s float32) {
	panic("kernels: no AVX2 in this build")
}
func scaleMulAVX512Asm(y, x, w *float32, n int, s float32) {
	panic("kernels: no AVX-512 in this build")
}
func scaleMulSubAVX2Asm(dx, w, dy, x *float32, n int, s, c float32) {
	panic("kernels: no AVX2 in this build")
}
func scaleMulSubAVX512Asm(dx, w, dy, x *float32, n int, s, c float32) {
	panic("kernels: no AVX-512 in this build")
}
func mulScaleAddAVX2Asm(out, dy, x *float32, n int, s float32) {
	panic("kernels: no AVX2 in this build")
}
func mulScaleAddAVX512Asm(out, dy, x *float32, n int, s float32) {
	panic("kernels: no AVX-512 in this build")
}
