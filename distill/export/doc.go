// Package export moves students and base models between mlmforge and the formats the
// rest of the ecosystem reads:
//
//   - Hugging Face directories (config.json, model.safetensors or shards with
//     model.safetensors.index.json, tokenizer.json): LoadHF reads a Llama / SmolLM2
//     checkpoint, WriteHF writes one that transformers loads as LlamaForCausalLM and
//     that LoadHF (and model.LoadCheckpoint) reload bit-exactly.
//   - GGUF (llama.cpp, Ollama): ReadGGUF reads a llama GGUF such as the blob behind
//     `ollama pull smollm2:135m` (F32, F16, BF16 and Q8_0 tensors), WriteGGUF writes
//     one (F32, F16 or Q8_0), and WriteOllama adds a Modelfile so that
//     `ollama create my-mlm -f Modelfile` serves the student.
//
// Two conventions differ between the formats. Tensor names: Hugging Face's
// model.layers.N.self_attn.q_proj.weight is GGUF's blk.N.attn_q.weight (see ggufNames).
// RoPE: our model, like Hugging Face, rotates the pairs (i, i+hd/2) of each head
// ("rotate_half"); llama.cpp rotates adjacent pairs (2i, 2i+1). llama.cpp's
// convert_hf_to_gguf.py therefore permutes the rows of q_proj and k_proj inside each
// head so that row 2i+j of the GGUF tensor is row j*hd/2+i of the Hugging Face one;
// WriteGGUF does the same and ReadGGUF undoes it.
//
// Encoder classifiers (bidirectional attention, pooled head) have no llama.cpp
// architecture: they export as Hugging Face directories only.
package export
