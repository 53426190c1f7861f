// Package kernels holds the numerical kernels of training and inference: a packed,
// multithreaded SGEMM with AVX-512 and AVX2/FMA micro-kernels in Go assembly (generated
// by gen_sgemm.go), chosen at run time from the CPU's features, and the vectorized
// element-wise operations of a training step. No cgo, no build tag, no GOEXPERIMENT:
// it is the default in every build. On a CPU without AVX2 and FMA it falls back to
// gonum's SGEMM, and under the purego tag or off amd64 it runs a pure-Go micro-kernel
// through the same packing code. INT8 inference has integer kernels too (int8.go):
// u8 x s8 products summed in int32 with AVX-512 VNNI, or with AVX2's VPMADDUBSW and the
// sign trick, each bit for bit the pure-Go loop of other CPUs.
//
// All matrices are row-major with leading dimensions, as in CBLAS with CblasRowMajor.
package kernels
