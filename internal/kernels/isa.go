package kernels

// The element-wise vector kernels (RoPE, RMSNorm), from the narrowest: isaGo is the
// Go loops, isaAVX2 takes 8 float32 a step, isaAVX512 16 with a masked last step.
const (
	isaGo = iota
	isaAVX2
	isaAVX512
)

// isaName names an element-wise kernel in test and benchmark output.
func isaName(isa int) string {
	return [...]string{isaGo: "go", isaAVX2: "avx2", isaAVX512: "avx512"}[isa]
}
