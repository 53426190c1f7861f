// Package lora holds the LoRA adapters of decoder students: their config, the
// PEFT-compatible tensor names and shapes, the seeded initialisation, the merge
// W' = W + (alpha/r) B A used for export, and the adapter checkpoint format
// (adapter_config.json + adapter_model.safetensors, as Hugging Face PEFT writes them,
// plus mlmforge's base reference and digest).
//
// The package is plain Go: distill/nn builds the training graph from a Config here,
// and inference or evaluation merge an adapter into its base with LoadModel without
// linking gorgonia.
package lora

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/distill/model"
)

// Target modules, PEFT's names for the linear layers of a Llama block.
const (
	ModuleQ    = "q_proj"
	ModuleK    = "k_proj"
	ModuleV    = "v_proj"
	ModuleO    = "o_proj"
	ModuleGate = "gate_proj"
	ModuleUp   = "up_proj"
	ModuleDown = "down_proj"
)

// modules lists every target in block order with its sub-layer prefix.
var modules = []struct{ name, prefix string }{
	{ModuleQ, "self_attn."}, {ModuleK, "self_attn."}, {ModuleV, "self_attn."}, {ModuleO, "self_attn."},
	{ModuleGate, "mlp."}, {ModuleUp, "mlp."}, {ModuleDown, "mlp."},
}

// PEFTPrefix is what PEFT puts before a base tensor's module path in adapter files.
const PEFTPrefix = "base_model.model."

// Config is one LoRA setup. For every targeted linear y = x W^T (W is [out, in]) the
// adapted layer computes
//
//	y = x W^T + (Alpha/R) * (dropout(x) A^T) B^T
//
// with A [R, in] and B [out, R]; W stays frozen.
type Config struct {
	// R is the adapter rank r.
	R int `json:"r"`
	// Alpha scales the adapter output by Alpha/R.
	Alpha float64 `json:"lora_alpha"`
	// Dropout is the probability of zeroing an input element of the adapter branch
	// during training (inverted dropout); 0 disables it.
	Dropout float64 `json:"lora_dropout"`
	// Targets are the adapted modules (ModuleQ ...), in any order.
	Targets []string `json:"target_modules"`
	// Seed seeds A's initialisation and the dropout masks.
	Seed uint64 `json:"seed"`
}

// DefaultConfig is the common LoRA starting point: r 8, alpha 16, dropout 0.05 on the
// query and value projections (the original LoRA paper's choice).
func DefaultConfig() Config {
	return Config{R: 8, Alpha: 16, Dropout: 0.05, Targets: []string{ModuleQ, ModuleV}, Seed: 1337}
}

// Scale is Alpha/R, the factor of the adapter branch.
func (c Config) Scale() float64 { return c.Alpha / float64(c.R) }

// Validate reports every unusable field by its JSON name.
func (c Config) Validate() error {
	var errs []error
	if c.R <= 0 {
		errs = append(errs, fmt.Errorf("lora config r: %d: must be positive", c.R))
	}
	if !(c.Alpha > 0) {
		errs = append(errs, fmt.Errorf("lora config lora_alpha: %g: must be positive", c.Alpha))
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		errs = append(errs, fmt.Errorf("lora config lora_dropout: %g: must be in [0, 1)", c.Dropout))
	}
	if len(c.Targets) == 0 {
		errs = append(errs, errors.New("lora config target_modules: empty"))
	}
	seen := map[string]bool{}
	for _, t := range c.Targets {
		if !slices.ContainsFunc(modules, func(m struct{ name, prefix string }) bool { return m.name == t }) {
			errs = append(errs, fmt.Errorf("lora config target_modules: %q is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj", t))
		}
		if seen[t] {
			errs = append(errs, fmt.Errorf("lora config target_modules: %q listed twice", t))
		}
		seen[t] = true
	}
	return errors.Join(errs...)
}

// Adapts reports whether module (ModuleQ ...) is a target.
func (c Config) Adapts(module string) bool { return slices.Contains(c.Targets, module) }

// Adapter is one adapted linear layer with its two tensors.
type Adapter struct {
	// Layer is the block index l.
	Layer int
	// Module is the target (ModuleQ ...).
	Module string
	// Base is the frozen weight's name, e.g. "model.layers.0.self_attn.q_proj.weight".
	Base string
	// A and B are the adapter tensor names (PEFT's:
	// "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").
	A, B string
	// In and Out are the base weight's [out, in] dimensions: A is [R, In], B [Out, R].
	In, Out int
}

// Adapters lists the adapted layers of a decoder config in block order (layer, then
// q, k, v, o, gate, up, down), whatever the order of c.Targets.
func (c Config) Adapters(mc model.Config) []Adapter {
	shapes := map[string][]int{}
	for _, p := range mc.Params() {
		shapes[p.Name] = p.Shape
	}
	var as []Adapter
	for l := 0; l < mc.Layers; l++ {
		for _, m := range modules {
			if !c.Adapts(m.name) {
				continue
			}
			path := model.LayerName(l, m.prefix+m.name)
			s := shapes[path+".weight"]
			as = append(as, Adapter{Layer: l, Module: m.name, Base: path + ".weight",
				A: PEFTPrefix + path + ".lora_A.weight", B: PEFTPrefix + path + ".lora_B.weight", In: s[1], Out: s[0]})
		}
	}
	return as
}

// Params lists the adapter tensors of mc in Adapters order, A before B.
func (c Config) Params(mc model.Config) []model.ParamSpec {
	var ps []model.ParamSpec
	for _, a := range c.Adapters(mc) {
		ps = append(ps, model.ParamSpec{Name: a.A, Shape: []int{c.R, a.In}}, model.ParamSpec{Name: a.B, Shape: []int{a.Out, c.R}})
	}
	return ps
}

// NumParams is the number of trainable adapter values of mc.
func (c Config) NumParams(mc model.Config) int {
	n := 0
	for _, p := range c.Params(mc) {
		n += p.Size()
	}
	return n
}

// Init draws the adapters of mc as PEFT does by default (init_lora_weights=True): A
// from torch's kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)), and B all
// zeros, so the adapted model starts exactly equal to its base. The same Seed always
// gives the same A.
func (c Config) Init(mc model.Config) model.Weights {
	rng := rand.New(rand.NewPCG(c.Seed, 0x6c6f7261)) // "lora"
	w := model.Weights{}
	for _, a := range c.Adapters(mc) {
		bound := 1 / math.Sqrt(float64(a.In))
		at := &model.Tensor{Shape: []int{c.R, a.In}, Data: make([]float32, c.R*a.In)}
		for i := range at.Data {
			at.Data[i] = float32((2*rng.Float64() - 1) * bound)
		}
		w[a.A] = at
		w[a.B] = &model.Tensor{Shape: []int{a.Out, c.R}, Data: make([]float32, a.Out*c.R)}
	}
	return w
}

// Check reports every adapter tensor of mc that w lacks or holds with the wrong shape,
// and every tensor w has that is not an adapter of mc.
func (c Config) Check(mc model.Config, w model.Weights) error {
	var errs []error
	known := map[string]bool{}
	for _, p := range c.Params(mc) {
		known[p.Name] = true
		t, ok := w[p.Name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("adapter %s: missing", p.Name))
		case !slices.Equal(t.Shape, p.Shape) || len(t.Data) != p.Size():
			errs = append(errs, fmt.Errorf("adapter %s: shape %v with %d values, want %v", p.Name, t.Shape, len(t.Data), p.Shape))
		}
	}
	for name := range w {
		if !known[name] {
			errs = append(errs, fmt.Errorf("adapter %s: not an adapter of this config (targets %s)", name, strings.Join(c.Targets, ", ")))
		}
	}
	return errors.Join(errs...)
}
