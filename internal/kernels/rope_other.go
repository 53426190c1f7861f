//go:build !amd64 || purego

package kernels

// ropeISA is ropeGo: this build has no assembly.
var ropeISA = ropeGo

// ropeISAs lists the only RoPE kernel of this build.
func ropeISAs() []int { return []int{ropeGo} }

// setRopeISA keeps ropeGo, the only kernel of this build, and returns it.
func setRopeISA(int) int { return ropeGo }

func ropeAVX2Asm(y1, y2, x1, x2, cos, sin *float32, n int) {
	panic("kernels: no AVX2 in this build")
}
func ropeAVX512Asm(y1, y2, x1, x2, cos, sin *float32, n int) {
	panic("kernels: no AVX-512 in this build")
}
