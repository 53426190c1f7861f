package export

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cyclecore/mlmforge/distill/model"
)

// ggufGlobalNames maps the tensors outside the blocks, Hugging Face name -> GGUF name
// (llama.cpp's gguf-py tensor_mapping for LLM_ARCH_LLAMA).
var ggufGlobalNames = map[string]string{
	"model.embed_tokens.weight": "token_embd.weight",
	"model.norm.weight":         "output_norm.weight",
	"lm_head.weight":            "output.weight",
}

// ggufLayerNames maps the per-block suffixes: model.layers.N.<hf> <-> blk.N.<gguf>.
var ggufLayerNames = map[string]string{
	"input_layernorm.weight":          "attn_norm.weight",
	"self_attn.q_proj.weight":         "attn_q.weight",
	"self_attn.k_proj.weight":         "attn_k.weight",
	"self_attn.v_proj.weight":         "attn_v.weight",
	"self_attn.o_proj.weight":         "attn_output.weight",
	"post_attention_layernorm.weight": "ffn_norm.weight",
	"mlp.gate_proj.weight":            "ffn_gate.weight",
	"mlp.up_proj.weight":              "ffn_up.weight",
	"mlp.down_proj.weight":            "ffn_down.weight",
}

// ggufName is the GGUF name of a decoder tensor.
func ggufName(hf string) (string, error) {
	if g, ok := ggufGlobalNames[hf]; ok {
		return g, nil
	}
	if rest, ok := strings.CutPrefix(hf, "model.layers."); ok {
		n, suffix, _ := strings.Cut(rest, ".")
		if g, ok := ggufLayerNames[suffix]; ok {
			return "blk." + n + "." + g, nil
		}
	}
	return "", fmt.Errorf("tensor %s: no GGUF name for it in a llama model", hf)
}

// hfName is the Hugging Face name of a llama GGUF tensor.
func hfName(gguf string) (string, error) {
	for hf, g := range ggufGlobalNames {
		if g == gguf {
			return hf, nil
		}
	}
	if rest, ok := strings.CutPrefix(gguf, "blk."); ok {
		num, suffix, _ := strings.Cut(rest, ".")
		if n, err := strconv.Atoi(num); err == nil && n >= 0 {
			for hf, g := range ggufLayerNames {
				if g == suffix {
					return model.LayerName(n, hf), nil
				}
			}
		}
	}
	return "", fmt.Errorf("tensor %s: not a llama tensor this package knows", gguf)
}

// ropeHeads is the number of heads whose rows WriteGGUF permutes in tensor hf (q_proj:
// H, k_proj: K), or 0 for tensors that are not permuted.
func ropeHeads(c model.Config, hf string) int {
	switch {
	case strings.HasSuffix(hf, ".self_attn.q_proj.weight"):
		return c.Heads
	case strings.HasSuffix(hf, ".self_attn.k_proj.weight"):
		return c.KVHeads
	}
	return 0
}

// permuteRows reorders the rows of a [heads*hd, cols] matrix from the rotate_half
// layout to llama.cpp's interleaved one, as convert_hf_to_gguf.py's permute does
// (reshape to [heads, 2, hd/2, cols], swap axes 1 and 2): GGUF row h*hd + 2i + j is
// Hugging Face row h*hd + j*hd/2 + i. With inverse set it undoes that.
func permuteRows(data []float32, heads, cols int, inverse bool) []float32 {
	out := make([]float32, len(data))
	hd := len(data) / cols / heads
	half := hd / 2
	for h := 0; h < heads; h++ {
		for i := 0; i < half; i++ {
			for j := 0; j < 2; j++ {
				gg := (h*hd + 2*i + j) * cols
				hf := (h*hd + j*half + i) * cols
				if inverse {
					copy(out[hf:hf+cols], data[gg:gg+cols])
				} else {
					copy(out[gg:gg+cols], data[hf:hf+cols])
				}
			}
		}
	}
	return out
}
