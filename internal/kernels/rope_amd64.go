//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// ropeISA is the RoPE kernel Rope runs: the widest this CPU has.
var ropeISA = ropeISAs()[0]

// ropeISAs lists the RoPE kernels this CPU can run, widest first (ropeGo last).
func ropeISAs() []int {
	var s []int
	if cpu.X86.HasAVX512F {
		s = append(s, ropeAVX512)
	}
	if cpu.X86.HasAVX2 {
		s = append(s, ropeAVX2)
	}
	return append(s, ropeGo)
}

// setRopeISA makes Rope run kernel isa (one of ropeISAs) and returns the previous one,
// for the tests and benchmarks that compare them.
func setRopeISA(isa int) int {
	old := ropeISA
	ropeISA = isa
	return old
}

// ropeAVX2Asm does Rope's n pairs 8 at a time (n a positive multiple of 8).
//
//go:noescape
func ropeAVX2Asm(y1, y2, x1, x2, cos, sin *float32, n int)

// ropeAVX512Asm does Rope's n pairs 16 at a time, the last step masked (n > 0).
//
//go:noescape
func ropeAVX512Asm(y1, y2, x1, x2, cos, sin *float32, n int)
