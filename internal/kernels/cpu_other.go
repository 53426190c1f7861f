//go:build !amd64 || purego

package kernels

// detect returns the pure-Go micro-kernel: no assembly in this build.
func detect() *kernelSet { return &kernelsGo }

// supported lists every kernel set this build can run, for the tests.
func supported() []*kernelSet { return []*kernelSet{&kernelsGo} }

// SetAVX2Only reports false: this build has no assembly kernels to choose from.
func SetAVX2Only(bool) bool { return false }
