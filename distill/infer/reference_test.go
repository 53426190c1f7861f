package infer

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/cyclecore/mlmforge/distill/model"
)

// The reference below is written the obvious way, in float64, straight from the formulas
// of model.Config: no cache, no BLAS, no packing, no parallelism. The package must agree
// with it.

// refLinear is y[o] = sum_i x[i] W[o, i].
func refLinear(x []float64, t *model.Tensor) []float64 {
	out, in := t.Shape[0], t.Shape[1]
	y := make([]float64, out)
	for o := 0; o < out; o++ {
		for i := 0; i < in; i++ {
			y[o] += x[i] * float64(t.Data[o*in+i])
		}
	}
	return y
}

func refRMSNorm(x []float64, w *model.Tensor, eps float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	inv := 1 / math.Sqrt(ss/float64(len(x))+eps)
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v * inv * float64(w.Data[i])
	}
	return y
}

// refRope rotates one head vector in place.
func refRope(v []float64, pos int, theta float64) {
	hd := len(v)
	for i := 0; i < hd/2; i++ {
		angle := float64(pos) * math.Pow(theta, -2*float64(i)/float64(hd))
		c, s := math.Cos(angle), math.Sin(angle)
		x1, x2 := v[i], v[i+hd/2]
		v[i] = x1*c - x2*s
		v[i+hd/2] = x2*c + x1*s
	}
}

// refHidden runs the blocks and the final norm over one sequence and returns the normed
// hidden state of every position. Keys where valid is false (padding) are masked out;
// nil valid means no padding.
func refHidden(c model.Config, w model.Weights, tokens []int, causal bool, valid []bool) [][]float64 {
	T, d, hd := len(tokens), c.Hidden, c.HeadDim()
	x := make([][]float64, T)
	for t, tok := range tokens {
		x[t] = make([]float64, d)
		for j := 0; j < d; j++ {
			x[t][j] = float64(w["model.embed_tokens.weight"].Data[tok*d+j])
		}
	}
	for l := 0; l < c.Layers; l++ {
		get := func(s string) *model.Tensor { return w[model.LayerName(l, s)] }
		q, k, v := make([][]float64, T), make([][]float64, T), make([][]float64, T)
		for t := range x {
			xn := refRMSNorm(x[t], get("input_layernorm.weight"), c.NormEps)
			q[t], k[t], v[t] = refLinear(xn, get("self_attn.q_proj.weight")),
				refLinear(xn, get("self_attn.k_proj.weight")), refLinear(xn, get("self_attn.v_proj.weight"))
			for h := 0; h < c.Heads; h++ {
				refRope(q[t][h*hd:(h+1)*hd], t, c.RopeTheta)
			}
			for h := 0; h < c.KVHeads; h++ {
				refRope(k[t][h*hd:(h+1)*hd], t, c.RopeTheta)
			}
		}
		for t := range x {
			att := refAttention(c, q, k, v, t, causal, valid)
			o := refLinear(att, get("self_attn.o_proj.weight"))
			for j := range x[t] {
				x[t][j] += o[j]
			}
		}
		for t := range x {
			xn := refRMSNorm(x[t], get("post_attention_layernorm.weight"), c.NormEps)
			gate, up := refLinear(xn, get("mlp.gate_proj.weight")), refLinear(xn, get("mlp.up_proj.weight"))
			for i := range gate {
				gate[i] = gate[i] / (1 + math.Exp(-gate[i])) * up[i]
			}
			down := refLinear(gate, get("mlp.down_proj.weight"))
			for j := range x[t] {
				x[t][j] += down[j]
			}
		}
	}
	for t := range x {
		x[t] = refRMSNorm(x[t], w["model.norm.weight"], c.NormEps)
	}
	return x
}

// refAttention is the attention output of position t over all heads.
func refAttention(c model.Config, q, k, v [][]float64, t int, causal bool, valid []bool) []float64 {
	hd := c.HeadDim()
	att := make([]float64, c.Heads*hd)
	for h := 0; h < c.Heads; h++ {
		g := h / (c.Heads / c.KVHeads)
		n := len(k)
		if causal {
			n = t + 1
		}
		p := make([]float64, n)
		m := math.Inf(-1)
		for s := 0; s < n; s++ {
			if valid != nil && !valid[s] {
				p[s] = math.Inf(-1)
				continue
			}
			for i := 0; i < hd; i++ {
				p[s] += q[t][h*hd+i] * k[s][g*hd+i]
			}
			p[s] /= math.Sqrt(float64(hd))
			m = math.Max(m, p[s])
		}
		var sum float64
		for s := range p {
			p[s] = math.Exp(p[s] - m)
			sum += p[s]
		}
		for s := range p {
			for i := 0; i < hd; i++ {
				att[h*hd+i] += p[s] / sum * v[s][g*hd+i]
			}
		}
	}
	return att
}

// refLogits is the decoder's logits at every position.
func refLogits(c model.Config, w model.Weights, tokens []int) [][]float64 {
	head := w["lm_head.weight"]
	if c.TiedEmbeddings {
		head = w["model.embed_tokens.weight"]
	}
	h := refHidden(c, w, tokens, true, nil)
	out := make([][]float64, len(h))
	for t := range h {
		out[t] = refLinear(h[t], head)
	}
	return out
}

// refClassify is the encoder's class probabilities for one sequence.
func refClassify(c model.Config, w model.Weights, tokens []int) []float64 {
	return refClassifyPadded(c, w, tokens, nil)
}

// refClassifyPadded is the encoder's class probabilities for one padded sequence: the
// training contract, padding keys masked and pooling over valid positions only.
func refClassifyPadded(c model.Config, w model.Weights, tokens []int, valid []bool) []float64 {
	h := refHidden(c, w, tokens, false, valid)
	pooled := h[0]
	if c.Pooling == model.PoolMean {
		pooled = make([]float64, c.Hidden)
		n := 0
		for t := range h {
			if valid == nil || valid[t] {
				n++
			}
		}
		for t := range h {
			if valid != nil && !valid[t] {
				continue
			}
			for j := range pooled {
				pooled[j] += h[t][j] / float64(n)
			}
		}
	}
	logits := refLinear(pooled, w["classifier.weight"])
	m := math.Inf(-1)
	for i := range logits {
		logits[i] += float64(w["classifier.bias"].Data[i])
		m = math.Max(m, logits[i])
	}
	var sum float64
	for i := range logits {
		logits[i] = math.Exp(logits[i] - m)
		sum += logits[i]
	}
	for i := range logits {
		logits[i] /= sum
	}
	return logits
}

// testWeights is model.Init made harder to match by accident: matrices scaled up so
// attention is far from uniform and the logits spread, norms and biases away from 1
// and 0 so that using them wrongly shows.
func testWeights(c model.Config, seed uint64, gain float32) model.Weights {
	w := model.Init(c, seed)
	rng := rand.New(rand.NewPCG(seed, 99))
	for _, p := range c.Params() {
		name, t := p.Name, w[p.Name]
		switch {
		case strings.HasSuffix(name, "norm.weight"), strings.HasSuffix(name, ".bias"):
			for i := range t.Data {
				t.Data[i] += float32(rng.NormFloat64() * 0.3)
			}
		default:
			for i := range t.Data {
				t.Data[i] *= gain
			}
		}
	}
	return w
}

// tinyDecoder and tinyEncoder are the test configs: GQA with K < H, two layers.
func tinyDecoder(tied bool) model.Config {
	return model.Config{Arch: model.ArchDecoder, Vocab: 97, Hidden: 48, Layers: 2, Heads: 6, KVHeads: 2,
		Intermediate: 80, MaxSeq: 96, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: tied}
}

func tinyEncoder(pooling string) model.Config {
	return model.Config{Arch: model.ArchEncoder, Vocab: 101, Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2,
		Intermediate: 96, MaxSeq: 48, RopeTheta: 10000, NormEps: 1e-5, NumClasses: 7, Pooling: pooling}
}

func randTokens(rng *rand.Rand, n, vocab int) []int {
	t := make([]int, n)
	for i := range t {
		t[i] = rng.IntN(vocab)
	}
	return t
}
