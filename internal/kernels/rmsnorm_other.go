//go:build !amd64 || purego

package kernels

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
