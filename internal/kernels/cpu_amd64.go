//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// detect picks the widest micro-kernels the CPU and the OS support (x/sys/cpu checks
// that the OS saves the AVX and AVX-512 registers).
func detect() *kernelSet {
	switch {
	case cpu.X86.HasAVX512F:
		return &kernelsAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return &kernelsAVX2
	}
	return nil
}

// supported lists every kernel set this CPU can run, for the tests.
func supported() []*kernelSet {
	var s []*kernelSet
	if cpu.X86.HasAVX512F {
		s = append(s, &kernelsAVX512)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		s = append(s, &kernelsAVX2)
	}
	return append(s, &kernelsGo)
}
