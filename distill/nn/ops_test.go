package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradCase is one float64 finite-difference check: build maps the input nodes to a
// scalar loss (an op's own scalar, or sum(out * R) for a fixed random R).
type gradCase struct {
	name   string
	shapes [][]int
	build  func(g *gorgonia.ExprGraph, in gorgonia.Nodes) (*gorgonia.Node, error)
}

// project turns a tensor output into a scalar sum(out * R) with a seeded random R, so
// every output element contributes a different weight to the checked gradient.
func project(g *gorgonia.ExprGraph, out *gorgonia.Node, seed uint64) (*gorgonia.Node, error) {
	rng := rand.New(rand.NewPCG(seed, 7))
	r := tensor.New(tensor.WithShape(out.Shape()...), tensor.Of(tensor.Float64))
	for i := range r.Data().([]float64) {
		r.Data().([]float64)[i] = rng.NormFloat64()
	}
	rn := gorgonia.NewConstant(r)
	prod, err := gorgonia.HadamardProd(out, rn)
	if err != nil {
		return nil, err
	}
	return gorgonia.Sum(prod)
}

func randn(rng *rand.Rand, n int, std float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64() * std
	}
	return v
}

// checkGrad compares the symbolic gradient of every input element with a central
// difference of the loss, at step 1e-6 in float64.
func checkGrad(t *testing.T, c gradCase) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	g := gorgonia.NewGraph()
	var in gorgonia.Nodes
	var vals [][]float64
	for i, s := range c.shapes {
		n := 1
		for _, d := range s {
			n *= d
		}
		v := randn(rng, n, 1)
		vals = append(vals, v)
		in = append(in, gorgonia.NewTensor(g, tensor.Float64, len(s), gorgonia.WithShape(s...),
			gorgonia.WithName(string(rune('a'+i))), gorgonia.WithValue(tensor.New(tensor.WithShape(s...), tensor.WithBacking(v)))))
	}
	loss, err := c.build(g, in)
	if err != nil {
		t.Fatalf("%s: build: %v", c.name, err)
	}
	grads, err := gorgonia.Grad(loss, in...)
	if err != nil {
		t.Fatalf("%s: grad: %v", c.name, err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	eval := func() float64 {
		t.Helper()
		if err := m.RunAll(); err != nil {
			t.Fatalf("%s: run: %v", c.name, err)
		}
		defer m.Reset()
		l, err := scalar(loss.Value())
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		return l
	}
	eval()
	if err := m.RunAll(); err != nil {
		t.Fatalf("%s: run: %v", c.name, err)
	}
	var sym [][]float64
	for _, gn := range grads {
		sym = append(sym, append([]float64(nil), gn.Value().Data().([]float64)...))
	}
	m.Reset()
	const h = 1e-6
	for i, v := range vals {
		var worst float64
		for j := range v {
			orig := v[j]
			v[j] = orig + h
			up := eval()
			v[j] = orig - h
			down := eval()
			v[j] = orig
			fd := (up - down) / (2 * h)
			err := math.Abs(fd-sym[i][j]) / math.Max(1, math.Abs(fd))
			worst = math.Max(worst, err)
		}
		if worst > 1e-6 {
			t.Errorf("%s: input %d: worst relative gradient error %.3g", c.name, i, worst)
		}
	}
}

func TestOpGradients(t *testing.T) {
	padded := &feed{batch: 2, seq: 5, valid: []float32{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}}
	tokens := &feed{batch: 2, seq: 3, tokens: []int32{1, 4, 1, 0, 2, 4}}
	lm := &feed{batch: 2, seq: 3, targets: []int32{2, -1, 0, 5, 1, -1}, weights: []float32{1, 0.5}}
	cls := &feed{batch: 3, seq: 1, labels: []int32{0, 3, 1}, weights: []float32{1, 2, 0.5},
		soft: []float32{0.7, 0.1, 0.2, 0, 0.25, 0.25, 0.25, 0.25, 0, 1, 0, 0}}
	one := func(f func(*gorgonia.Node) (*gorgonia.Node, error)) func(*gorgonia.ExprGraph, gorgonia.Nodes) (*gorgonia.Node, error) {
		return func(g *gorgonia.ExprGraph, in gorgonia.Nodes) (*gorgonia.Node, error) {
			out, err := f(in[0])
			if err != nil {
				return nil, err
			}
			return project(g, out, 3)
		}
	}
	cases := []gradCase{
		{"linear", [][]int{{5, 4}, {3, 4}, {2, 4}}, func(g *gorgonia.ExprGraph, in gorgonia.Nodes) (*gorgonia.Node, error) {
			out, err := linear(in[0], in[1], in[2])
			if err != nil {
				return nil, err
			}
			return project(g, out, 3)
		}},
		{"rmsnorm", [][]int{{4, 6}, {6}}, func(g *gorgonia.ExprGraph, in gorgonia.Nodes) (*gorgonia.Node, error) {
			out, err := rmsNorm(in[0], in[1], 1e-5)
			if err != nil {
				return nil, err
			}
			return project(g, out, 3)
		}},
		{"rope", [][]int{{6, 3 * 4}}, one(func(x *gorgonia.Node) (*gorgonia.Node, error) { return rope(x, 3, 4, 2, 10000) })},
		{"attention causal gqa", [][]int{{2 * 5, (4 + 2*2) * 2}}, one(func(x *gorgonia.Node) (*gorgonia.Node, error) {
			return attention(x, 5, 4, 2, 2, true, &feed{batch: 2, seq: 5})
		})},
		{"attention padded", [][]int{{2 * 5, (2 + 2*1) * 4}}, one(func(x *gorgonia.Node) (*gorgonia.Node, error) {
			return attention(x, 5, 2, 1, 4, false, padded)
		})},
		{"swiglu", [][]int{{3, 8}}, one(swiGLU)},
		{"embedding", [][]int{{5, 3}}, one(func(x *gorgonia.Node) (*gorgonia.Node, error) { return embedding(x, tokens) })},
		{"pool mean", [][]int{{10, 3}}, one(func(x *gorgonia.Node) (*gorgonia.Node, error) { return pool(x, false, padded) })},
		{"pool first", [][]int{{10, 3}}, one(func(x *gorgonia.Node) (*gorgonia.Node, error) { return pool(x, true, padded) })},
		{"bias", [][]int{{3, 4}, {4}}, func(g *gorgonia.ExprGraph, in gorgonia.Nodes) (*gorgonia.Node, error) {
			out, err := addBias(in[0], in[1])
			if err != nil {
				return nil, err
			}
			return project(g, out, 3)
		}},
		{"add", [][]int{{3, 4}, {3, 4}}, func(g *gorgonia.ExprGraph, in gorgonia.Nodes) (*gorgonia.Node, error) {
			out, err := gorgonia.ApplyOp(newAddOp(), in[0], in[1])
			if err != nil {
				return nil, err
			}
			return project(g, out, 3)
		}},
		{"token cross-entropy", [][]int{{6, 7}}, func(_ *gorgonia.ExprGraph, in gorgonia.Nodes) (*gorgonia.Node, error) {
			l, _, err := tokenCrossEntropy(in[0], lm)
			return l, err
		}},
		{"class cross-entropy", [][]int{{3, 4}}, func(_ *gorgonia.ExprGraph, in gorgonia.Nodes) (*gorgonia.Node, error) {
			l, _, err := classLoss(in[0], &feed{batch: 3, seq: 1, labels: cls.labels}, 0.7, 2, 0)
			return l, err
		}},
		{"class distillation", [][]int{{3, 4}}, func(_ *gorgonia.ExprGraph, in gorgonia.Nodes) (*gorgonia.Node, error) {
			l, _, err := classLoss(in[0], cls, 0.7, 2, 0)
			return l, err
		}},
		{"class cross-entropy, label smoothing", [][]int{{3, 4}}, func(_ *gorgonia.ExprGraph, in gorgonia.Nodes) (*gorgonia.Node, error) {
			l, _, err := classLoss(in[0], &feed{batch: 3, seq: 1, labels: cls.labels}, 0.7, 2, 0.2)
			return l, err
		}},
		{"class distillation, label smoothing", [][]int{{3, 4}}, func(_ *gorgonia.ExprGraph, in gorgonia.Nodes) (*gorgonia.Node, error) {
			l, _, err := classLoss(in[0], cls, 0.7, 2, 0.2)
			return l, err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}

// TestAttentionMasks checks the forward semantics the gradient test cannot: a causal
// query ignores later keys, a padded key changes nothing, and a row with no visible
// key is zero.
func TestAttentionMasks(t *testing.T) {
	const seq, hd = 4, 2
	width := 3 * hd
	rng := rand.New(rand.NewPCG(5, 6))
	run := func(x []float64, causal bool, f *feed) []float64 {
		g := gorgonia.NewGraph()
		in := gorgonia.NewTensor(g, tensor.Float64, 2, gorgonia.WithShape(seq, width), gorgonia.WithName("x"),
			gorgonia.WithValue(tensor.New(tensor.WithShape(seq, width), tensor.WithBacking(x))))
		out, err := attention(in, seq, 1, 1, hd, causal, f)
		if err != nil {
			t.Fatal(err)
		}
		m := gorgonia.NewTapeMachine(g)
		defer m.Close()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		return append([]float64(nil), out.Value().Data().([]float64)...)
	}
	x := randn(rng, seq*width, 1)
	base := run(x, true, &feed{batch: 1, seq: seq})
	y := append([]float64(nil), x...)
	y[3*width+hd] += 5 // key of the last position
	changed := run(y, true, &feed{batch: 1, seq: seq})
	for i := 0; i < 3*hd; i++ {
		if base[i] != changed[i] {
			t.Fatalf("causal: output %d changed when only the last key changed", i)
		}
	}
	valid := &feed{batch: 1, seq: seq, valid: []float32{0, 1, 1, 0}}
	a, b := run(x, false, valid), run(y, false, valid)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("padding: output %d changed when only a padded key changed", i)
		}
	}
	zero := run(x, true, valid) // query 0 sees only key 0, which is padding
	if zero[0] != 0 || zero[1] != 0 {
		t.Fatalf("fully masked row = %v, want zeros", zero[:hd])
	}
}

// TestLabelSmoothingLoss checks the smoothed cross-entropy's value against
// its definition, -sum_j y_j log softmax(z)_j with y = (1-eps) one-hot +
// eps/C, averaged over the batch.
func TestLabelSmoothingLoss(t *testing.T) {
	z := []float64{1, -2, 0.5, 3, 0.1, 0.2, -1, 2}
	labels := []int32{3, 0}
	const c, eps = 4, 0.1
	var want float64
	for r, y := range labels {
		row := z[r*c : (r+1)*c]
		var sum float64
		for _, v := range row {
			sum += math.Exp(v)
		}
		for j, v := range row {
			yj := eps / c
			if j == int(y) {
				yj += 1 - eps
			}
			want -= yj * (v - math.Log(sum)) / float64(len(labels))
		}
	}
	g := gorgonia.NewGraph()
	in := gorgonia.NewTensor(g, tensor.Float64, 2, gorgonia.WithShape(2, c), gorgonia.WithName("z"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(2, c), tensor.WithBacking(slices.Clone(z)))))
	l, _, err := classLoss(in, &feed{batch: 2, seq: 1, labels: labels}, 0, 1, eps)
	if err != nil {
		t.Fatal(err)
	}
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if got := l.Value().Data().(float64); math.Abs(got-want) > 1e-12 {
		t.Errorf("smoothed loss %.15g, want %.15g", got, want)
	}
}
