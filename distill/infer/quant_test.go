package infer

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/internal/kernels"
)

func TestQuantizeTensor(t *testing.T) {
	src := &model.Tensor{Shape: []int{3, 4}, Data: []float32{
		1, -0.5, 0.25, 0,
		0, 0, 0, 0,
		-254, 127, 1, 0.4,
	}}
	q := QuantizeTensor(src)
	if want := []int8{127, -64, 32, 0, 0, 0, 0, 0, -127, 64, 1, 0}; !slices.Equal(q.Data, want) {
		t.Errorf("data %v, want %v", q.Data, want)
	}
	if want := []float32{1.0 / 127, 0, 2}; !slices.Equal(q.Scales, want) {
		t.Errorf("scales %v, want %v", q.Scales, want)
	}
	// Round to nearest: every value is within half a step of the original.
	w := model.Init(tinyDecoder(true), 3)["model.layers.0.mlp.up_proj.weight"]
	qt := QuantizeTensor(w)
	back := qt.Dequantize()
	cols := w.Shape[1]
	for i, v := range w.Data {
		if err := math.Abs(float64(back.Data[i] - v)); err > float64(qt.Scales[i/cols])/2*1.0001 {
			t.Fatalf("value %d: %g -> %g, step %g", i, v, back.Data[i], qt.Scales[i/cols])
		}
	}
}

func TestQuantizedWeightsSizeAndCheck(t *testing.T) {
	c := tinyDecoder(false)
	w := model.Init(c, 4)
	q := Quantize(w)
	if err := q.Check(c); err != nil {
		t.Fatal(err)
	}
	// Norms stay float32: L*2 + 1 vectors of d values.
	norms := int64((2*c.Layers + 1) * c.Hidden * 4)
	matrices := int64(c.NumParams()) - norms/4
	if got, want := q.SizeBytes(), matrices+norms+4*int64(q.rows()); got != want {
		t.Errorf("SizeBytes = %d, want %d", got, want)
	}
	if got := SizeBytes(w); got != 4*int64(c.NumParams()) {
		t.Errorf("float SizeBytes = %d, want %d", got, 4*c.NumParams())
	}
	t.Logf("tiny decoder: float32 %d bytes, int8 %d bytes (%.2fx)", SizeBytes(w), q.SizeBytes(),
		float64(SizeBytes(w))/float64(q.SizeBytes()))

	q.Float["model.layers.0.self_attn.q_proj.weight"] = w["model.layers.0.self_attn.q_proj.weight"]
	delete(q.Int8, "model.layers.0.self_attn.q_proj.weight")
	q.Int8["model.layers.1.mlp.up_proj.weight"].Scales = nil
	if err := q.Check(c); err == nil {
		t.Error("float q_proj and scale-less up_proj: no error")
	}
	if _, err := NewDecoderQuantized(c, q); err == nil {
		t.Error("NewDecoderQuantized accepted broken weights")
	}
}

// rows counts the scales of every quantized tensor.
func (q QuantizedWeights) rows() int {
	n := 0
	for _, t := range q.Int8 {
		n += t.Shape[0]
	}
	return n
}

func TestQuantizedDecoder(t *testing.T) {
	c := tinyDecoder(true)
	w := testWeights(c, 31, 8)
	q := Quantize(w)
	qd, err := NewDecoderQuantized(c, q)
	if err != nil {
		t.Fatal(err)
	}
	tokens := randTokens(rand.New(rand.NewPCG(8, 8)), 70, c.Vocab)
	// Exactness of the int8 kernels: with float32 activations the quantized model is the
	// float model of the dequantized weights; the integer path quantizes activations too
	// (two 8-bit passes, ~15 bits), a few 1e-4 of the logits' range away.
	want := refLogits(c, q.Dequantize(), tokens)
	forEachInt8Path(t, func(path string, intPath bool) {
		tol := 1e-4
		if intPath {
			tol = 2e-3
		}
		if diff, _ := maxDiff(qd.Forward(tokens), want); diff > tol {
			t.Errorf("%s: quantized Forward differs from the reference on dequantized weights by %.2e", path, diff)
		}
	})
	// Against float: gain 1 is model.Init as is, gain 8 the sharp test model.
	for _, gain := range []float32{1, 8} {
		w := testWeights(c, 31, gain)
		qd, err := NewDecoderQuantized(c, Quantize(w))
		if err != nil {
			t.Fatal(err)
		}
		diff, scale := maxDiff(qd.Forward(tokens), refLogits(c, w, tokens))
		t.Logf("gain %g: INT8 vs float reference: max |logit error| %.3e (max |logit| %.2f)", gain, diff, scale)
		if diff > 0.05*scale {
			t.Errorf("gain %g: quantization error %.3e is more than 5%% of the logit range %.2f", gain, diff, scale)
		}
	}
	// One-row steps run int8 dot products, prompts dequantized tiles: both must agree.
	prompt := tokens[:7]
	gen, _, err := qd.Generate(context.Background(), prompt, GenerateOptions{MaxNewTokens: 16})
	if err != nil {
		t.Fatal(err)
	}
	if want := greedyByForward(qd, prompt, 16, nil); !slices.Equal(gen, want) {
		t.Errorf("quantized Generate %v, repeated Forward %v", gen, want)
	}
}

func TestQuantizedClassifier(t *testing.T) {
	c := tinyEncoder(model.PoolMean)
	w := testWeights(c, 32, 6)
	q := Quantize(w)
	qc, err := NewClassifierQuantized(c, q)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := NewClassifier(c, w)
	if err != nil {
		t.Fatal(err)
	}
	batch := raggedBatch(rand.New(rand.NewPCG(9, 9)), 12, c.MaxSeq, c.Vocab)
	exact := make([][]float64, len(batch))
	for i, seq := range batch {
		exact[i] = refClassify(c, q.Dequantize(), seq)
	}
	forEachInt8Path(t, func(path string, intPath bool) {
		tol := 1e-5
		if intPath {
			tol = 2e-4
		}
		got, err := qc.Classify(batch)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxProbDiff(got, exact); d > tol {
			t.Errorf("%s: quantized Classify differs from the reference on dequantized weights by %.2e", path, d)
		}
	})
	got, err := qc.Classify(batch)
	if err != nil {
		t.Fatal(err)
	}
	float, err := fc.Classify(batch)
	if err != nil {
		t.Fatal(err)
	}
	var diff float64
	for i := range batch {
		for j := range got[i] {
			diff = math.Max(diff, math.Abs(float64(got[i][j]-float[i][j])))
		}
	}
	t.Logf("INT8 vs float classifier: max |probability error| %.3e", diff)
	if diff > 0.02 {
		t.Errorf("quantization moves a probability by %.3e", diff)
	}
	if _, err := NewClassifierQuantized(tinyDecoder(true), Quantize(model.Init(tinyDecoder(true), 1))); err == nil {
		t.Error("decoder config: no error")
	}
}

// forEachInt8Path runs f on the quantized layers' paths this build has: float32
// activations (weight-only), then the integer kernels for every row count: this CPU's,
// the AVX2 ones where it has AVX-512 too (kernels.SetAVX2Only), and the pure-Go loops;
// the default after.
func forEachInt8Path(t *testing.T, f func(path string, intPath bool)) {
	t.Helper()
	defer func(old func(int) bool) { intActs = old }(intActs)
	intActs = neverInt
	f("weight-only", false)
	intActs = alwaysInt
	def := kernels.Int8Implementation()
	f("integer, "+def, true)
	oldAVX2 := kernels.SetAVX2Only(true)
	if k := kernels.Int8Implementation(); k != def {
		f("integer, "+k, true)
	}
	kernels.SetAVX2Only(oldAVX2)
	oldSIMD := kernels.SetInt8SIMD(false)
	if def != "go" {
		f("integer, go", true)
	}
	kernels.SetInt8SIMD(oldSIMD)
}

// alwaysInt and neverInt replace intActs to run one path for every row count.
func alwaysInt(int) bool { return true }
func neverInt(int) bool  { return false }
