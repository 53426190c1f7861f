//go:build !amd64 || purego

package kernels

func ropeAVX2Asm(y1, y2, x1, x2, cos, sin *float32, n int) {
	panic("kernels: no AVX2 in this build")
}
func ropeAVX512Asm(y1, y2, x1, x2, cos, sin *float32, n int) {
	panic("kernels: no AVX-512 in this build")
}
