//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// elemISA is the element-wise kernel Rope, ScaleMul, ScaleMulSub and MulScaleAdd run:
// the widest this CPU has.
var elemISA = elemISAs()[0]

// elemISAs lists the element-wise kernels this CPU can run, widest first (isaGo last).
func elemISAs() []int {
	var s []int
	if cpu.X86.HasAVX512F {
		s = append(s, isaAVX512)
	}
	if cpu.X86.HasAVX2 {
		s = append(s, isaAVX2)
	}
	return append(s, isaGo)
}

// setElemISA makes the element-wise kernels run isa (one of elemISAs) and returns the
// previous one, for the tests and benchmarks that compare them.
func setElemISA(isa int) int {
	old := elemISA
	elemISA = isa
	return old
}
