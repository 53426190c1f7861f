// Package model holds what every part of distill agrees on: the architecture config of a
// student (llm.c style, one struct with the shape of every tensor spelled out), the named
// presets, the canonical weight names and shapes (Hugging Face Llama names, [out, in]
// layout, so a SmolLM2 checkpoint maps one to one), and a plain weight container.
//
// Training (gorgonia graphs), inference (plain Go) and export all read and write weights
// through these names, so a checkpoint written by one is read by the others unchanged.
package model

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Architectures.
const (
	// ArchDecoder is a Llama-style causal decoder: RMSNorm, RoPE, grouped-query
	// attention, SwiGLU MLP, tied or untied LM head.
	ArchDecoder = "decoder"
	// ArchEncoder is the same block with bidirectional attention (padding masked) and a
	// pooled classification head instead of the LM head.
	ArchEncoder = "encoder"
)

// Pooling modes of the encoder head.
const (
	// PoolMean averages the final hidden states over the non-padding positions.
	PoolMean = "mean"
	// PoolFirst takes the hidden state of position 0 (a CLS/BOS token).
	PoolFirst = "first"
)

// Config is the architecture of one student. Tensor shapes, with
// V = Vocab, d = Hidden, L = Layers, H = Heads, K = KVHeads, hd = d/H, I = Intermediate,
// C = NumClasses (encoder only), all in the Hugging Face [out, in] layout:
//
//	model.embed_tokens.weight                 [V, d]
//	model.layers.{l}.input_layernorm.weight   [d]
//	model.layers.{l}.self_attn.q_proj.weight  [H*hd, d]
//	model.layers.{l}.self_attn.k_proj.weight  [K*hd, d]
//	model.layers.{l}.self_attn.v_proj.weight  [K*hd, d]
//	model.layers.{l}.self_attn.o_proj.weight  [d, H*hd]
//	model.layers.{l}.post_attention_layernorm.weight [d]
//	model.layers.{l}.mlp.gate_proj.weight     [I, d]
//	model.layers.{l}.mlp.up_proj.weight       [I, d]
//	model.layers.{l}.mlp.down_proj.weight     [d, I]
//	model.norm.weight                         [d]
//	lm_head.weight                            [V, d]  (decoder, only when not tied)
//	classifier.weight                         [C, d]  (encoder)
//	classifier.bias                           [C]     (encoder)
//	pointer_gate.weight                       [1, d]  (decoder with Pointer)
//	pointer_gate.bias                         [1]     (decoder with Pointer)
//	pointer_gate.induction                    [1]     (decoder with Pointer)
//
// A linear layer computes y = x W^T (W is [out, in]). RMSNorm is x / sqrt(mean(x^2) + eps) * w.
// RoPE rotates pairs (i, i + hd/2) of each head (the Hugging Face "rotate_half" convention)
// by angle pos * theta^(-2i/hd). Query head h uses KV head h / (H/K).
type Config struct {
	// Arch is ArchDecoder or ArchEncoder.
	Arch string `json:"arch"`
	// Vocab is the tokenizer's vocabulary size V (including special tokens).
	Vocab int `json:"vocab_size"`
	// Hidden is the model width d.
	Hidden int `json:"hidden_size"`
	// Layers is the number of transformer blocks L.
	Layers int `json:"num_hidden_layers"`
	// Heads is the number of query heads H; d must be divisible by H.
	Heads int `json:"num_attention_heads"`
	// KVHeads is the number of key/value heads K; H must be divisible by K.
	KVHeads int `json:"num_key_value_heads"`
	// Intermediate is the SwiGLU inner width I.
	Intermediate int `json:"intermediate_size"`
	// MaxSeq is the longest sequence the model is trained or run on.
	MaxSeq int `json:"max_position_embeddings"`
	// RopeTheta is the RoPE base (10000 for Llama 2, 100000 for SmolLM2-135M).
	RopeTheta float64 `json:"rope_theta"`
	// NormEps is RMSNorm's epsilon.
	NormEps float64 `json:"rms_norm_eps"`
	// TiedEmbeddings reuses embed_tokens as the LM head (decoder).
	TiedEmbeddings bool `json:"tie_word_embeddings"`
	// NumClasses is C, the number of classes of the encoder head.
	NumClasses int `json:"num_classes,omitempty"`
	// Pooling is PoolMean or PoolFirst (encoder).
	Pooling string `json:"pooling,omitempty"`
	// Pointer gives a decoder a pointer-generator output (See et al. 2017): the
	// next-token distribution is g * softmax(logits) + (1 - g) * the attention of
	// head 0 of the last layer, summed per token id over the positions it attends
	// to, with the gate g = sigmoid(pointer_gate . h + bias) on the final hidden
	// state h. A student then copies a span of its prompt through attention alone,
	// including values whose tokens it never learned to write. The pointer head's
	// scores get a learned bonus pointer_gate.induction on every key whose previous
	// token is the query's token: having copied token x, it points at what followed x
	// in the prompt, so a span it has found is followed to its end (the induction
	// step that a small model learns only for spans it saw in training).
	Pointer bool `json:"pointer_generator,omitempty"`
	// InductionNgram is how many tokens the induction bonus matches (0 is 1):
	// with n, key j gets the bonus once for each of the tokens j-1, j-2, ...,
	// j-n that equals the query's token, its previous token and so on, counted
	// until the first mismatch. A span whose last token occurs twice in the
	// prompt ("Left the keys under the mat": after "under the") then points at
	// the occurrence that continues what it copied (mat) and not at the first
	// one (keys), where a 1-gram bonus loops ("under the keys under the ...").
	// Checkpoints from before the field read 1.
	InductionNgram int `json:"pointer_induction_ngram,omitempty"`
}

// maxInductionNgram bounds Config.InductionNgram: longer matches are as rare
// as they are unambiguous.
const maxInductionNgram = 8

// Induction is the number of tokens the pointer head's induction bonus
// matches: InductionNgram, at least 1.
func (c Config) Induction() int { return max(1, c.InductionNgram) }

// InductionMatch is how many induction bonuses key j of query i gets: the
// tokens before key j that equal the tokens up to and including query i,
// counted backwards from toks[j-1] == toks[i] (which the caller checked), up
// to ngram and the first mismatch. Training (distill/nn) and decoding
// (distill/infer) both count with it.
func InductionMatch[E int | int32](toks []E, i, j, ngram int) int {
	n := 1
	for n < ngram && j-1-n >= 0 && i-n >= 0 && toks[j-1-n] == toks[i-n] {
		n++
	}
	return n
}

// HeadDim is hd = d / H.
func (c Config) HeadDim() int { return c.Hidden / c.Heads }

// Validate reports the first field that makes the config unusable, by its JSON name.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config %s: "+format, append([]any{field}, args...)...))
	}
	if c.Arch != ArchDecoder && c.Arch != ArchEncoder {
		bad("arch", "%q: want %q or %q", c.Arch, ArchDecoder, ArchEncoder)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"vocab_size", c.Vocab}, {"hidden_size", c.Hidden}, {"num_hidden_layers", c.Layers},
		{"num_attention_heads", c.Heads}, {"num_key_value_heads", c.KVHeads},
		{"intermediate_size", c.Intermediate}, {"max_position_embeddings", c.MaxSeq}} {
		if f.v <= 0 {
			bad(f.name, "%d: must be positive", f.v)
		}
	}
	if c.Heads > 0 && c.Hidden%c.Heads != 0 {
		bad("hidden_size", "%d is not divisible by num_attention_heads %d", c.Hidden, c.Heads)
	}
	if c.Heads > 0 && c.KVHeads > 0 && c.Heads%c.KVHeads != 0 {
		bad("num_key_value_heads", "%d does not divide num_attention_heads %d", c.KVHeads, c.Heads)
	}
	if c.Heads > 0 && c.Hidden%c.Heads == 0 && c.HeadDim()%2 != 0 {
		bad("hidden_size", "head dim %d must be even for RoPE", c.HeadDim())
	}
	if c.RopeTheta <= 0 {
		bad("rope_theta", "%g: must be positive", c.RopeTheta)
	}
	if c.NormEps <= 0 {
		bad("rms_norm_eps", "%g: must be positive", c.NormEps)
	}
	if c.Arch == ArchEncoder {
		if c.NumClasses < 2 {
			bad("num_classes", "%d: an encoder needs at least 2 classes", c.NumClasses)
		}
		if c.Pooling != PoolMean && c.Pooling != PoolFirst {
			bad("pooling", "%q: want %q or %q", c.Pooling, PoolMean, PoolFirst)
		}
		if c.Pointer {
			bad("pointer_generator", "only a decoder has a pointer-generator output")
		}
	}
	if c.InductionNgram < 0 || c.InductionNgram > maxInductionNgram {
		bad("pointer_induction_ngram", "%d: want 0 to %d", c.InductionNgram, maxInductionNgram)
	}
	if c.InductionNgram > 1 && !c.Pointer {
		bad("pointer_induction_ngram", "%d: only a pointer-generator decoder has an induction bonus", c.InductionNgram)
	}
	return errors.Join(errs...)
}

// Diff names the fields in which two configs differ ("hidden_size: 576 != 512"), for
// the error of loading a checkpoint into the wrong model.
func (c Config) Diff(o Config) []string {
	var d FieldDiff
	add := d.Add
	add("arch", c.Arch, o.Arch)
	add("vocab_size", c.Vocab, o.Vocab)
	add("hidden_size", c.Hidden, o.Hidden)
	add("num_hidden_layers", c.Layers, o.Layers)
	add("num_attention_heads", c.Heads, o.Heads)
	add("num_key_value_heads", c.KVHeads, o.KVHeads)
	add("intermediate_size", c.Intermediate, o.Intermediate)
	add("max_position_embeddings", c.MaxSeq, o.MaxSeq)
	add("rope_theta", c.RopeTheta, o.RopeTheta)
	add("rms_norm_eps", c.NormEps, o.NormEps)
	add("tie_word_embeddings", c.TiedEmbeddings, o.TiedEmbeddings)
	add("num_classes", c.NumClasses, o.NumClasses)
	add("pooling", c.Pooling, o.Pooling)
	add("pointer_generator", c.Pointer, o.Pointer)
	add("pointer_induction_ngram", c.Induction(), o.Induction())
	return d
}

// FieldDiff collects the fields in which two values differ, one
// "name: a != b" line each.
type FieldDiff []string

// Add records field name when a and b differ.
func (d *FieldDiff) Add(name string, a, b any) {
	if a != b {
		*d = append(*d, fmt.Sprintf("%s: %v != %v", name, a, b))
	}
}

// The pointer-generator's gate (Config.Pointer). The pointer itself is head 0 of
// the last layer's attention, PointerHead.
const (
	PointerGateWeight = "pointer_gate.weight"
	PointerGateBias   = "pointer_gate.bias"
	PointerInduction  = "pointer_gate.induction"
	PointerHead       = 0
)

// ParamSpec is one named weight tensor of a config.
type ParamSpec struct {
	// Name is the Hugging Face tensor name.
	Name string
	// Shape is the tensor shape, [out, in] for linear layers.
	Shape []int
}

// Size is the number of elements.
func (p ParamSpec) Size() int {
	n := 1
	for _, s := range p.Shape {
		n *= s
	}
	return n
}

// LayerName is the name of tensor suffix in block l, e.g. LayerName(3, "mlp.up_proj.weight").
func LayerName(l int, suffix string) string {
	return fmt.Sprintf("model.layers.%d.%s", l, suffix)
}

// Params lists every weight tensor of the config in a fixed order (embedding, blocks,
// final norm, head), without allocating them.
func (c Config) Params() []ParamSpec {
	d, hd, I := c.Hidden, c.HeadDim(), c.Intermediate
	ps := []ParamSpec{{"model.embed_tokens.weight", []int{c.Vocab, d}}}
	for l := 0; l < c.Layers; l++ {
		ps = append(ps,
			ParamSpec{LayerName(l, "input_layernorm.weight"), []int{d}},
			ParamSpec{LayerName(l, "self_attn.q_proj.weight"), []int{c.Heads * hd, d}},
			ParamSpec{LayerName(l, "self_attn.k_proj.weight"), []int{c.KVHeads * hd, d}},
			ParamSpec{LayerName(l, "self_attn.v_proj.weight"), []int{c.KVHeads * hd, d}},
			ParamSpec{LayerName(l, "self_attn.o_proj.weight"), []int{d, c.Heads * hd}},
			ParamSpec{LayerName(l, "post_attention_layernorm.weight"), []int{d}},
			ParamSpec{LayerName(l, "mlp.gate_proj.weight"), []int{I, d}},
			ParamSpec{LayerName(l, "mlp.up_proj.weight"), []int{I, d}},
			ParamSpec{LayerName(l, "mlp.down_proj.weight"), []int{d, I}},
		)
	}
	ps = append(ps, ParamSpec{"model.norm.weight", []int{d}})
	switch {
	case c.Arch == ArchEncoder:
		ps = append(ps, ParamSpec{"classifier.weight", []int{c.NumClasses, d}}, ParamSpec{"classifier.bias", []int{c.NumClasses}})
	case !c.TiedEmbeddings:
		ps = append(ps, ParamSpec{"lm_head.weight", []int{c.Vocab, d}})
	}
	if c.Pointer && c.Arch == ArchDecoder {
		ps = append(ps, ParamSpec{PointerGateWeight, []int{1, d}}, ParamSpec{PointerGateBias, []int{1}},
			ParamSpec{PointerInduction, []int{1}})
	}
	return ps
}

// NumParams is the number of trainable parameters (tied embeddings counted once).
func (c Config) NumParams() int {
	n := 0
	for _, p := range c.Params() {
		n += p.Size()
	}
	return n
}

// Tensor is a dense float32 tensor in row-major order.
type Tensor struct {
	// Shape is the tensor shape.
	Shape []int
	// Data holds prod(Shape) values.
	Data []float32
}

// Weights maps tensor names to tensors.
type Weights map[string]*Tensor

// NewWeights allocates zeroed tensors for every parameter of c.
func NewWeights(c Config) Weights {
	w := Weights{}
	for _, p := range c.Params() {
		w[p.Name] = &Tensor{Shape: slices.Clone(p.Shape), Data: make([]float32, p.Size())}
	}
	return w
}

// Check reports every tensor of c that w lacks or holds with the wrong shape, and every
// tensor w has that c does not know.
func (w Weights) Check(c Config) error {
	var errs []error
	known := map[string]bool{}
	for _, p := range c.Params() {
		known[p.Name] = true
		t, ok := w[p.Name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("tensor %s: missing", p.Name))
		case !slices.Equal(t.Shape, p.Shape):
			errs = append(errs, fmt.Errorf("tensor %s: shape %v, config wants %v", p.Name, t.Shape, p.Shape))
		case len(t.Data) != p.Size():
			errs = append(errs, fmt.Errorf("tensor %s: %d values for shape %v", p.Name, len(t.Data), p.Shape))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(w)) {
		if !known[name] {
			errs = append(errs, fmt.Errorf("tensor %s: not part of this config", name))
		}
	}
	return errors.Join(errs...)
}
