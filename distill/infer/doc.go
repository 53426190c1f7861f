// Package infer runs trained students in plain Go, without gorgonia: a KV-cached greedy
// decoder for the Llama-style decoders (EdgeJSON, EdgeFuncCall) and a batched classifier
// for the encoders (EdgeIntent), from float32 weights or from INT8 weight-only quantized
// ones.
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
