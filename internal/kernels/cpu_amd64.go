//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// detect picks the widest micro-kernels the CPU and the OS support (x/sys/cpu checks
// that the OS saves the AVX and AVX-512 registers), passing over AVX-512 under
// SetAVX2Only.
func detect() *kernelSet {
	switch {
	case cpu.X86.HasAVX512F && !noAVX512:
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

// noAVX512 makes detect and bestInt8 pass over AVX-512, as on a CPU without it.
var noAVX512 bool

// SetAVX2Only makes the SGEMM and INT8 kernels those of a CPU with AVX2 and FMA but no
// AVX-512 (on), or this CPU's fastest again (off), and returns the previous setting. It
// lets an AVX-512 machine measure what Haswell..Skylake client and AMD Zen 1-3 CPUs run;
// on a CPU without AVX2 and FMA it changes nothing. For tests and benchmarks only: it
// is not safe while kernels run.
func SetAVX2Only(on bool) bool {
	old := noAVX512
	noAVX512 = on && cpu.X86.HasAVX2 && cpu.X86.HasFMA
	active = detect()
	i8 = bestInt8()
	return old
}
