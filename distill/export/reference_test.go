package export

import (
	"math"

	"github.com/cyclecore/mlmforge/distill/model"
)

// refLogits is a plain float64 forward pass of the decoder in model.Config's doc
// comment: embedding, per block RMSNorm -> q/k/v -> RoPE -> causal GQA attention ->
// o_proj residual, RMSNorm -> SwiGLU residual, final RMSNorm and the (tied) head. It
// returns the [T*V] logits. With interleaved set, RoPE rotates adjacent pairs
// (2i, 2i+1), as llama.cpp does with the permuted GGUF weights; otherwise the pairs
// (i, i+hd/2) of Hugging Face's rotate_half.
func refLogits(c model.Config, w model.Weights, tokens []int, interleaved bool) []float64 {
	d, hd, T := c.Hidden, c.HeadDim(), len(tokens)
	x := make([][]float64, T)
	for t, id := range tokens {
		x[t] = toF64(w["model.embed_tokens.weight"].Data[id*d : (id+1)*d])
	}
	for l := 0; l < c.Layers; l++ {
		p := func(s string) *model.Tensor { return w[model.LayerName(l, s)] }
		q, k, v := make([][]float64, T), make([][]float64, T), make([][]float64, T)
		for t := range x {
			h := rmsNorm(x[t], p("input_layernorm.weight").Data, c.NormEps)
			q[t], k[t], v[t] = matVec(p("self_attn.q_proj.weight"), h), matVec(p("self_attn.k_proj.weight"), h), matVec(p("self_attn.v_proj.weight"), h)
			rope(q[t], c.Heads, hd, t, c.RopeTheta, interleaved)
			rope(k[t], c.KVHeads, hd, t, c.RopeTheta, interleaved)
		}
		for t := range x {
			att := make([]float64, c.Heads*hd)
			for h := 0; h < c.Heads; h++ {
				kh := h / (c.Heads / c.KVHeads)
				scores := make([]float64, t+1)
				for s := 0; s <= t; s++ {
					scores[s] = dot(q[t][h*hd:(h+1)*hd], k[s][kh*hd:(kh+1)*hd]) / math.Sqrt(float64(hd))
				}
				softmax(scores)
				for s, ps := range scores {
					for i := 0; i < hd; i++ {
						att[h*hd+i] += ps * v[s][kh*hd+i]
					}
				}
			}
			addTo(x[t], matVec(p("self_attn.o_proj.weight"), att))
			h := rmsNorm(x[t], p("post_attention_layernorm.weight").Data, c.NormEps)
			g, u := matVec(p("mlp.gate_proj.weight"), h), matVec(p("mlp.up_proj.weight"), h)
			for i := range g {
				g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
			}
			addTo(x[t], matVec(p("mlp.down_proj.weight"), g))
		}
	}
	head := w["lm_head.weight"]
	if c.TiedEmbeddings {
		head = w["model.embed_tokens.weight"]
	}
	var logits []float64
	for t := range x {
		logits = append(logits, matVec(head, rmsNorm(x[t], w["model.norm.weight"].Data, c.NormEps))...)
	}
	return logits
}

// rope rotates each of the heads of v for position pos.
func rope(v []float64, heads, hd, pos int, theta float64, interleaved bool) {
	for h := 0; h < heads; h++ {
		for i := 0; i < hd/2; i++ {
			a, b := h*hd+i, h*hd+i+hd/2
			if interleaved {
				a, b = h*hd+2*i, h*hd+2*i+1
			}
			sin, cos := math.Sincos(float64(pos) * math.Pow(theta, -2*float64(i)/float64(hd)))
			v[a], v[b] = v[a]*cos-v[b]*sin, v[b]*cos+v[a]*sin
		}
	}
}

func rmsNorm(x []float64, w []float32, eps float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	inv := 1 / math.Sqrt(ss/float64(len(x))+eps)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * inv * float64(w[i])
	}
	return out
}

// matVec is y = W x for W [out, in].
func matVec(w *model.Tensor, x []float64) []float64 {
	out, in := w.Shape[0], w.Shape[1]
	y := make([]float64, out)
	for o := range y {
		y[o] = dot(toF64(w.Data[o*in:(o+1)*in]), x)
	}
	return y
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func softmax(x []float64) {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, v)
	}
	var sum float64
	for i, v := range x {
		x[i] = math.Exp(v - m)
		sum += x[i]
	}
	for i := range x {
		x[i] /= sum
	}
}

func addTo(dst, src []float64) {
	for i := range dst {
		dst[i] += src[i]
	}
}

func toF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
