//go:build !amd64 || purego

package kernels

// elemISA is isaGo: this build has no assembly.
var elemISA = isaGo

// elemISAs lists the only element-wise kernel of this build.
func elemISAs() []int { return []int{isaGo} }

// setElemISA keeps isaGo, the only kernel of this build, and returns it.
func setElemISA(int) int { return isaGo }
