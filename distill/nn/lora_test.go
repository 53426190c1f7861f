package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/cyclecore/mlmforge/distill/lora"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/train"
)

// constant is a fixed random float64 matrix node (a frozen base weight).
func constant(g *gorgonia.ExprGraph, seed uint64, rows, cols int) *gorgonia.Node {
	v := randn(rand.New(rand.NewPCG(seed, 9)), rows*cols, 1)
	return gorgonia.NewConstant(tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(v)))
}

// TestLoRAGradients checks dx, dA and dB of the fused LoRA op in float64: adapters on
// both weights of a packed pair, and one adapter with a (frozen) dropout mask.
func TestLoRAGradients(t *testing.T) {
	const n, in, r = 5, 4, 2
	cases := []gradCase{
		{"lora both weights", [][]int{{n, in}, {r, in}, {3, r}, {r, in}, {2, r}}, func(g *gorgonia.ExprGraph, x gorgonia.Nodes) (*gorgonia.Node, error) {
			ws := []*gorgonia.Node{constant(g, 1, 3, in), constant(g, 2, 2, in)}
			out, _, err := loraLinear(x[0], ws, x[1:], loraSpec{rank: r, scale: 1.5, adapted: []int{0, 1}})
			if err != nil {
				return nil, err
			}
			return project(g, out, 3)
		}},
		{"lora second weight, dropout", [][]int{{n, in}, {r, in}, {2, r}}, func(g *gorgonia.ExprGraph, x gorgonia.Nodes) (*gorgonia.Node, error) {
			ws := []*gorgonia.Node{constant(g, 1, 3, in), constant(g, 2, 2, in)}
			out, op, err := loraLinear(x[0], ws, x[1:], loraSpec{rank: r, scale: 0.5, dropout: 0.4, seed: 7, adapted: []int{1}})
			if err != nil {
				return nil, err
			}
			op.freezeMask = true
			return project(g, out, 3)
		}},
		{"frozen linear", [][]int{{n, in}}, func(g *gorgonia.ExprGraph, x gorgonia.Nodes) (*gorgonia.Node, error) {
			out, _, err := loraLinear(x[0], []*gorgonia.Node{constant(g, 1, 3, in)}, nil, loraSpec{rank: r, scale: 1})
			if err != nil {
				return nil, err
			}
			return project(g, out, 3)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}

// tinyLoRA is a 2-layer GQA decoder with adapters on every module.
func tinyLoRA() (model.Config, lora.Config) {
	cfg := tinyDecoder()
	cfg.Vocab, cfg.Hidden = 40, 48
	lc := lora.Config{R: 4, Alpha: 8, Targets: []string{lora.ModuleQ, lora.ModuleK, lora.ModuleV, lora.ModuleO,
		lora.ModuleGate, lora.ModuleUp, lora.ModuleDown}, Seed: 3}
	return cfg, lc
}

func logits(t *testing.T, n *Net, b model.Batch) []float32 {
	t.Helper()
	l, err := n.Logits(b)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLoRAStartsAtBase(t *testing.T) {
	cfg, lc := tinyLoRA()
	base := model.Init(cfg, 5)
	plain, err := New(cfg, base, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := New(cfg, base, Options{LoRA: &lc})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(ln.Params()), 2*7*cfg.Layers; got != want {
		t.Fatalf("LoRA net has %d params, want %d adapters", got, want)
	}
	for _, p := range ln.Params() {
		if p.Name[:len(lora.PEFTPrefix)] != lora.PEFTPrefix {
			t.Fatalf("param %s is not an adapter", p.Name)
		}
	}
	b := lmBatch(cfg, 2, 8, 1)
	if a, c := logits(t, plain, b), logits(t, ln, b); !slices.Equal(a, c) {
		t.Fatal("with B = 0 the LoRA net's logits differ from the base's")
	}
}

// TestLoRATrainsAdaptersOnly runs 20 AdamW steps with dropout: the base weights stay
// bit-identical, the loss falls, and the merged weights reproduce the adapted logits.
func TestLoRATrainsAdaptersOnly(t *testing.T) {
	cfg, lc := tinyLoRA()
	lc.Dropout = 0.1
	base := model.Init(cfg, 5)
	before := model.Weights{}
	for name, w := range base {
		before[name] = &model.Tensor{Shape: w.Shape, Data: slices.Clone(w.Data)}
	}
	n, err := New(cfg, base, Options{LoRA: &lc})
	if err != nil {
		t.Fatal(err)
	}
	b := lmBatch(cfg, 2, 8, 2)
	first, err := n.Loss(b)
	if err != nil {
		t.Fatal(err)
	}
	tc := train.DefaultConfig()
	tc.WeightDecay = 0.01
	opt := train.NewAdamW(tc, n.Params())
	for step := 0; step < 20; step++ {
		for _, p := range n.Params() {
			clear(p.Grad)
		}
		if _, err := n.ForwardBackward(b); err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(n.Params(), 1e-2); err != nil {
			t.Fatal(err)
		}
	}
	last, err := n.Loss(b)
	if err != nil {
		t.Fatal(err)
	}
	if last > first-0.5 {
		t.Fatalf("loss %.3f -> %.3f after 20 AdamW steps, want a drop of more than 0.5", first, last)
	}
	for name, w := range base {
		if !slices.Equal(w.Data, before[name].Data) {
			t.Fatalf("base weight %s changed during LoRA training", name)
		}
	}
	merged, err := lora.Merge(cfg, base, lc, n.Adapters())
	if err != nil {
		t.Fatal(err)
	}
	mn, err := New(cfg, merged, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, m := logits(t, n, b), logits(t, mn, b)
	var worst float64
	for i := range a {
		worst = math.Max(worst, math.Abs(float64(a[i]-m[i])))
	}
	if worst > 1e-5 {
		t.Fatalf("merged logits differ from base + adapter by %.3g, want <= 1e-5", worst)
	}
	if slices.Equal(a, logits(t, newNetFrom(t, cfg, before), b)) {
		t.Fatal("trained adapters left the logits unchanged")
	}
}

func newNetFrom(t *testing.T, cfg model.Config, w model.Weights) *Net {
	t.Helper()
	n, err := New(cfg, w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLoRADropoutDeterministic: the same seed gives the same training loss, dropout
// changes it, and evaluation graphs never drop.
func TestLoRADropoutDeterministic(t *testing.T) {
	cfg, lc := tinyLoRA()
	base := model.Init(cfg, 5)
	b := lmBatch(cfg, 2, 8, 3)
	run := func(drop float64) (train, eval float64) {
		c := lc
		c.Dropout = drop
		ad := c.Init(cfg)
		for name, w := range ad { // non-zero B, so that dropout shows in the loss
			for i := range w.Data {
				w.Data[i] += float32(0.05 * math.Sin(float64(i+len(name))))
			}
		}
		n, err := New(cfg, base, Options{LoRA: &c, Adapters: ad})
		if err != nil {
			t.Fatal(err)
		}
		if train, err = n.ForwardBackward(b); err != nil {
			t.Fatal(err)
		}
		if eval, err = n.Loss(b); err != nil {
			t.Fatal(err)
		}
		return train, eval
	}
	t1, e1 := run(0.3)
	t2, _ := run(0.3)
	t0, e0 := run(0)
	if t1 != t2 {
		t.Fatalf("same seed, different training losses %v and %v", t1, t2)
	}
	if t1 == t0 {
		t.Fatal("dropout 0.3 did not change the training loss")
	}
	if e1 != e0 || e0 != t0 {
		t.Fatalf("eval loss depends on dropout: %v (p=0.3) vs %v (p=0), train without dropout %v", e1, e0, t0)
	}
}

func TestLoRAOptionErrors(t *testing.T) {
	cfg, lc := tinyLoRA()
	bad := lc
	bad.Targets = []string{"qkv"}
	if _, err := New(cfg, model.Init(cfg, 1), Options{LoRA: &bad}); err == nil {
		t.Error("New accepted target qkv")
	}
	if _, err := New(tinyEncoder(), model.Init(tinyEncoder(), 1), Options{LoRA: &lc}); err == nil {
		t.Error("New accepted LoRA on an encoder")
	}
	ad := lc.Init(cfg)
	delete(ad, lc.Params(cfg)[0].Name)
	if _, err := New(cfg, model.Init(cfg, 1), Options{LoRA: &lc, Adapters: ad}); err == nil {
		t.Error("New accepted adapters with a missing tensor")
	}
}
