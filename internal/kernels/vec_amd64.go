//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// vecAVX2 says whether the AVX2/FMA element-wise kernels of vec_amd64.s run here.
var vecAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func expSubAVX2(dst, src *float32, n int, sub float32) float32

//go:noescape
func sigmoidAVX2(dst, src *float32, n int)

//go:noescape
func adamwAVX2(param, grad, m, v *float32, n int, h *[8]float64)

// setVec switches the vector kernels on or off (when the CPU has them) and returns the
// previous setting, for benchmarks that compare both paths.
func setVec(on bool) bool {
	old := vecAVX2
	vecAVX2 = on && cpu.X86.HasAVX2 && cpu.X86.HasFMA
	return old
}

//go:noescape
func dotAVX2(x, y *float32, n int) float32

//go:noescape
func dotInt8AVX2(q *int8, x *float32, n int) float32

//go:noescape
func dequantAVX2(dst *float32, q *int8, n int, scale float32)
