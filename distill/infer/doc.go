// Package infer runs trained students in plain Go, without gorgonia: a KV-cached greedy
// decoder for the Llama-style decoders (EdgeJSON, EdgeFuncCall) and a batched classifier
// for the encoders (EdgeIntent), from float32 weights or from INT8 quantized ones.
//
// INT8 layers run integer products where the CPU has AVX-512 VNNI: each input row is
// quantized to 8 bits (symmetric per-row scale), then quantized again on what that left
// (a second 8-bit pass, ~15 bits in all), and internal/kernels' GemmU8S8 sums u8 x s8
// products in int32 for both; INT8 logits then stay as close to float32 as with float
// activations. Elsewhere INT8 layers keep float32 activations (weight-only: int8 rows
// widened in registers, or dequantized tiles for the SGEMM).
//
// Weights follow distill/model exactly: Hugging Face Llama names, [out, in] layout (a
// linear layer is y = x W^T), RMSNorm, RoPE with the rotate_half pairing, grouped-query
// attention and a SwiGLU MLP. Every matrix product goes through gonum's blas32 (Gemm for
// several rows, Gemv for one); the work is cut into tiles of output features that a small
// team of goroutines shares, one per core. Arithmetic is float32; sums that feed a
// normalisation (RMSNorm, softmax) accumulate in float64, which costs nothing next to the
// matrix products.
//
// The float path shares the caller's weight slices (a 135M decoder is ~540 MB) instead of
// copying them: do not modify weights while a Decoder or Classifier built on them is in use.
package infer
