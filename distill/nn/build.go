package nn

import (
	"fmt"
	"slices"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/cyclecore/mlmforge/distill/model"
)

// build constructs the graph of batch shape (B, T) for mode m, its LM head on
// k gathered rows when k > 0. Weight nodes are gorgonia inputs whose values
// alias the parameters' Data.
func (n *Net) build(key graphKey) (*graph, error) {
	B, T, m := key.b, key.t, key.mode
	g := &graph{g: gorgonia.NewGraph(), feed: &feed{batch: B, seq: T}}
	w := map[string]*gorgonia.Node{}
	var wnodes gorgonia.Nodes
	n.buildMode, n.copyOps, n.ptr = m, nil, nil
	if n.cfg.Pointer && n.cfg.Arch == model.ArchDecoder && m != modeLogits {
		n.ptr = &pointerState{}
	}
	for i, p := range append(slices.Clip(n.params), n.frozen...) { // frozen: LoRA base weights, no gradient
		t := tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(p.Data))
		node := gorgonia.NewTensor(g.g, tensor.Float32, len(p.Shape), gorgonia.WithShape(p.Shape...),
			gorgonia.WithName(p.Name), gorgonia.WithValue(t))
		w[p.Name] = node
		if i < len(n.params) {
			wnodes = append(wnodes, node)
		}
	}
	x, err := embedding(w["model.embed_tokens.weight"], g.feed)
	if err != nil {
		return nil, fmt.Errorf("embedding: %w", err)
	}
	for l := 0; l < n.cfg.Layers; l++ {
		if x, err = n.block(x, l, T, w, g.feed); err != nil {
			return nil, fmt.Errorf("layer %d: %w", l, err)
		}
	}
	if key.k > 0 {
		if x, err = selectRows(x, g.feed, key.k); err != nil {
			return nil, fmt.Errorf("answer rows: %w", err)
		}
	}
	if g.logits, err = n.head(x, w, g.feed); err != nil {
		return nil, err
	}
	if m == modeLogits {
		g.m = gorgonia.NewTapeMachine(g.g)
		return g, nil
	}
	var loss *gorgonia.Node
	switch {
	case n.ptr != nil:
		loss, g.loss, err = pointerCrossEntropy(g.logits, w[model.PointerGateBias], g.feed, n.ptr)
	case n.cfg.Arch == model.ArchDecoder:
		loss, g.loss, err = tokenCrossEntropy(g.logits, g.feed)
	default:
		loss, g.loss, err = classLoss(g.logits, g.feed, n.opts.KDAlpha, n.opts.KDTemperature, n.opts.LabelSmoothing)
	}
	if err != nil {
		return nil, fmt.Errorf("loss: %w", err)
	}
	if m == modeTrain {
		if g.grads, err = gorgonia.Grad(loss, wnodes...); err != nil {
			return nil, fmt.Errorf("gradients: %w", err)
		}
		g.copyOps = n.copyOps
	}
	g.m = gorgonia.NewTapeMachine(g.g)
	return g, nil
}

// block is one transformer layer: x + attn(norm(x)), then + mlp(norm(.)).
func (n *Net) block(x *gorgonia.Node, l, T int, w map[string]*gorgonia.Node, f *feed) (*gorgonia.Node, error) {
	c := n.cfg
	lw := func(s string) *gorgonia.Node { return w[model.LayerName(l, s)] }
	var causal = c.Arch == model.ArchDecoder
	h, err := rmsNorm(x, lw("input_layernorm.weight"), c.NormEps)
	if err != nil {
		return nil, fmt.Errorf("input_layernorm: %w", err)
	}
	qkv, err := n.proj(h, l, w, "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight")
	if err != nil {
		return nil, fmt.Errorf("qkv: %w", err)
	}
	if qkv, err = rope(qkv, T, c.HeadDim(), c.Heads+c.KVHeads, c.RopeTheta); err != nil {
		return nil, fmt.Errorf("rope: %w", err)
	}
	var sup *copySupervision
	if causal && n.opts.CopyLoss > 0 && n.buildMode == modeTrain {
		switch {
		case l == c.Layers-1:
			sup = &copySupervision{weight: n.opts.CopyLoss}
		case l == 0:
			sup = &copySupervision{weight: n.opts.CopyLoss, previous: true}
		}
	}
	var ind []*gorgonia.Node
	if c.Pointer && causal && l == c.Layers-1 {
		ind = append(ind, w[model.PointerInduction])
	}
	a, op, err := supervisedAttention(qkv, T, c.Heads, c.KVHeads, c.HeadDim(), causal, f, sup, ind...)
	if err != nil {
		return nil, fmt.Errorf("attention: %w", err)
	}
	op.ngram = c.Induction()
	if sup != nil {
		n.copyOps = append(n.copyOps, op)
	}
	if l == c.Layers-1 {
		op.ptr = n.ptr
	}
	op.trim = n.buildMode != modeLogits && !n.naive
	op.block = n.attnBlock
	if n.naive {
		op.block = T
	}
	o, err := n.proj(a, l, w, "self_attn.o_proj.weight")
	if err != nil {
		return nil, fmt.Errorf("o_proj: %w", err)
	}
	if x, err = gorgonia.ApplyOp(newAddOp(), x, o); err != nil {
		return nil, fmt.Errorf("attention residual: %w", err)
	}
	if h, err = rmsNorm(x, lw("post_attention_layernorm.weight"), c.NormEps); err != nil {
		return nil, fmt.Errorf("post_attention_layernorm: %w", err)
	}
	gu, err := n.proj(h, l, w, "mlp.gate_proj.weight", "mlp.up_proj.weight")
	if err != nil {
		return nil, fmt.Errorf("gate/up: %w", err)
	}
	act, err := swiGLU(gu)
	if err != nil {
		return nil, fmt.Errorf("swiglu: %w", err)
	}
	down, err := n.proj(act, l, w, "mlp.down_proj.weight")
	if err != nil {
		return nil, fmt.Errorf("down_proj: %w", err)
	}
	if x, err = gorgonia.ApplyOp(newAddOp(), x, down); err != nil {
		return nil, fmt.Errorf("mlp residual: %w", err)
	}
	return x, nil
}

// head is the final norm and the LM head (decoder) or pooled classifier (encoder).
func (n *Net) head(x *gorgonia.Node, w map[string]*gorgonia.Node, f *feed) (*gorgonia.Node, error) {
	h, err := rmsNorm(x, w["model.norm.weight"], n.cfg.NormEps)
	if err != nil {
		return nil, fmt.Errorf("model.norm: %w", err)
	}
	if n.cfg.Arch == model.ArchDecoder {
		head := "lm_head.weight"
		if n.cfg.TiedEmbeddings {
			head = "model.embed_tokens.weight"
		}
		heads := []string{head}
		if n.ptr != nil {
			heads = append(heads, model.PointerGateWeight) // the gate logit is the last column
		}
		if h, err = n.proj(h, -1, w, heads...); err != nil {
			return nil, fmt.Errorf("lm_head: %w", err)
		}
		return h, nil
	}
	if h, err = pool(h, n.cfg.Pooling == model.PoolFirst, f); err != nil {
		return nil, fmt.Errorf("pooling: %w", err)
	}
	if h, err = linear(h, w["classifier.weight"]); err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	if h, err = addBias(h, w["classifier.bias"]); err != nil {
		return nil, fmt.Errorf("classifier bias: %w", err)
	}
	return h, nil
}
