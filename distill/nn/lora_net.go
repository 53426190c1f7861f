package nn

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"gorgonia.org/gorgonia"

	"github.com/cyclecore/mlmforge/distill/lora"
	"github.com/cyclecore/mlmforge/distill/model"
)

// setupLoRA makes n a LoRA net: the base weights w become frozen graph inputs and
// Params lists only the adapters, which alias opts.Adapters (or fresh lora.Init
// tensors when it is nil), so the optimizer and the checkpoints see adapters only.
func (n *Net) setupLoRA(w model.Weights, opts Options) error {
	lc := *opts.LoRA
	lc.Targets = slices.Clone(lc.Targets)
	if err := lc.Validate(); err != nil {
		return fmt.Errorf("nn: %w", err)
	}
	if n.cfg.Arch != model.ArchDecoder {
		return fmt.Errorf("nn: lora: arch %q: only decoders take adapters", n.cfg.Arch)
	}
	ad := opts.Adapters
	if ad == nil {
		ad = lc.Init(n.cfg)
	}
	if err := lc.Check(n.cfg, ad); err != nil {
		return fmt.Errorf("nn: adapters: %w", err)
	}
	n.lora = &lc
	for _, p := range n.cfg.Params() {
		n.frozen = append(n.frozen, model.Param{Name: p.Name, Shape: p.Shape, Data: w[p.Name].Data})
	}
	for _, p := range lc.Params(n.cfg) {
		n.params = append(n.params, model.Param{Name: p.Name, Shape: p.Shape, Data: ad[p.Name].Data, Grad: make([]float32, p.Size())})
	}
	return nil
}

// LoRA is the adapter config of a LoRA net, nil for a plain one.
func (n *Net) LoRA() *lora.Config { return n.lora }

// Adapters returns the adapter tensors of a LoRA net by name, aliasing Params' Data
// (what an adapter checkpoint saves); nil for a plain net.
func (n *Net) Adapters() model.Weights {
	if n.lora == nil {
		return nil
	}
	w := model.Weights{}
	for _, p := range n.params {
		w[p.Name] = &model.Tensor{Shape: slices.Clone(p.Shape), Data: p.Data}
	}
	return w
}

// proj applies the linear layers named by suffixes (of block l, or top-level names
// when l < 0) to x: the plain fused linear op, or in a LoRA net the LoRA op with
// the adapters of the targeted modules among them and all base weights frozen.
func (n *Net) proj(x *gorgonia.Node, l int, w map[string]*gorgonia.Node, suffixes ...string) (*gorgonia.Node, error) {
	name := func(s string) string {
		if l < 0 {
			return s
		}
		return model.LayerName(l, s)
	}
	ws := make([]*gorgonia.Node, len(suffixes))
	for i, s := range suffixes {
		ws[i] = w[name(s)]
	}
	if n.lora == nil {
		return linear(x, ws...)
	}
	h := fnv.New64a()
	h.Write([]byte(name(suffixes[0]))) // one dropout stream per op, the same in every graph
	spec := loraSpec{rank: n.lora.R, scale: n.lora.Scale(), seed: n.lora.Seed ^ h.Sum64()}
	if n.buildMode == modeTrain {
		spec.dropout = n.lora.Dropout
	}
	var ab []*gorgonia.Node
	for i, s := range suffixes {
		path := strings.TrimSuffix(s, ".weight")
		if l < 0 || !n.lora.Adapts(path[strings.LastIndex(path, ".")+1:]) {
			continue
		}
		path = lora.PEFTPrefix + name(path)
		spec.adapted = append(spec.adapted, i)
		ab = append(ab, w[path+".lora_A.weight"], w[path+".lora_B.weight"])
	}
	y, _, err := loraLinear(x, ws, ab, spec)
	return y, err
}
