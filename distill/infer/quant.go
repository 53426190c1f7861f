package infer

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/distill/model"
)

// QuantizedTensor is a matrix [rows, cols] in INT8 with one symmetric scale per row:
// value[r][c] ~ Data[r*cols+c] * Scales[r], Data in [-127, 127].
type QuantizedTensor struct {
	// Shape is [rows, cols] ([out, in] for a linear layer).
	Shape []int
	// Data holds rows*cols quantized values.
	Data []int8
	// Scales holds one scale per row: the row's largest magnitude / 127.
	Scales []float32
}

// QuantizedWeights is a student with INT8 weight-only quantization: every linear and
// embedding matrix in Int8, norms and biases (a tiny fraction of the size, and the most
// sensitive to rounding) still float32 in Float.
type QuantizedWeights struct {
	// Int8 holds the quantized matrices by Hugging Face name.
	Int8 map[string]*QuantizedTensor
	// Float holds the tensors kept in float32 by name.
	Float model.Weights
}

// quantizable says whether a tensor is stored in INT8: 2-D weights except norms.
func quantizable(name string, t *model.Tensor) bool {
	return len(t.Shape) == 2 && strings.HasSuffix(name, ".weight") && !strings.HasSuffix(name, "norm.weight")
}

// Quantize converts every linear and embedding matrix of w to INT8 with per-output-row
// symmetric scales; other tensors are shared with w, not copied.
func Quantize(w model.Weights) QuantizedWeights {
	q := QuantizedWeights{Int8: map[string]*QuantizedTensor{}, Float: model.Weights{}}
	for name, t := range w {
		if quantizable(name, t) {
			q.Int8[name] = QuantizeTensor(t)
		} else {
			q.Float[name] = t
		}
	}
	return q
}

// QuantizeTensor quantizes a 2-D tensor row by row: scale = max|row| / 127 and
// q = round(x / scale). An all-zero row gets scale 0.
func QuantizeTensor(t *model.Tensor) *QuantizedTensor {
	rows, cols := t.Shape[0], t.Shape[1]
	q := &QuantizedTensor{Shape: slices.Clone(t.Shape), Data: make([]int8, rows*cols), Scales: make([]float32, rows)}
	for r := 0; r < rows; r++ {
		row := t.Data[r*cols : (r+1)*cols]
		var amax float32
		for _, v := range row {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		if amax == 0 {
			continue
		}
		scale := amax / 127
		inv := 1 / float64(scale)
		dst := q.Data[r*cols : (r+1)*cols]
		for i, v := range row {
			dst[i] = int8(max(-127, min(127, math.Round(float64(v)*inv))))
		}
		q.Scales[r] = scale
	}
	return q
}

// Dequantize returns the float32 tensor the quantized one stands for.
func (q *QuantizedTensor) Dequantize() *model.Tensor {
	rows, cols := q.Shape[0], q.Shape[1]
	t := &model.Tensor{Shape: slices.Clone(q.Shape), Data: make([]float32, rows*cols)}
	for r := 0; r < rows; r++ {
		dequantRow(t.Data[r*cols:(r+1)*cols], q.Data[r*cols:(r+1)*cols], q.Scales[r])
	}
	return t
}

// Dequantize returns float32 weights equal to what the quantized model computes with.
func (q QuantizedWeights) Dequantize() model.Weights {
	w := model.Weights{}
	for name, t := range q.Int8 {
		w[name] = t.Dequantize()
	}
	maps.Copy(w, q.Float)
	return w
}

// Check reports every tensor of c that q lacks, holds with the wrong shape or size, or
// holds in the wrong precision, and every tensor c does not know.
func (q QuantizedWeights) Check(c model.Config) error {
	var errs []error
	known := map[string]bool{}
	for _, p := range c.Params() {
		known[p.Name] = true
		ft, isFloat := q.Float[p.Name]
		qt, isInt8 := q.Int8[p.Name]
		wantInt8 := quantizable(p.Name, &model.Tensor{Shape: p.Shape})
		switch {
		case !isFloat && !isInt8:
			errs = append(errs, fmt.Errorf("tensor %s: missing", p.Name))
		case isInt8 != wantInt8:
			errs = append(errs, fmt.Errorf("tensor %s: int8 is %t, want %t", p.Name, isInt8, wantInt8))
		case isInt8 && (!slices.Equal(qt.Shape, p.Shape) || len(qt.Data) != p.Size() || len(qt.Scales) != p.Shape[0]):
			errs = append(errs, fmt.Errorf("tensor %s: shape %v with %d values and %d scales, config wants %v",
				p.Name, qt.Shape, len(qt.Data), len(qt.Scales), p.Shape))
		case isFloat && (!slices.Equal(ft.Shape, p.Shape) || len(ft.Data) != p.Size()):
			errs = append(errs, fmt.Errorf("tensor %s: shape %v with %d values, config wants %v",
				p.Name, ft.Shape, len(ft.Data), p.Shape))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(q.Int8)) {
		if !known[name] {
			errs = append(errs, fmt.Errorf("tensor %s: not part of this config", name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(q.Float)) {
		if !known[name] {
			errs = append(errs, fmt.Errorf("tensor %s: not part of this config", name))
		}
	}
	return errors.Join(errs...)
}

// SizeBytes is the payload size of q on disk: one byte per INT8 value, four per scale
// and per float32 value (tensor names and shapes, a few KB, not counted).
func (q QuantizedWeights) SizeBytes() int64 {
	var n int64
	for _, t := range q.Int8 {
		n += int64(len(t.Data)) + 4*int64(len(t.Scales))
	}
	return n + SizeBytes(q.Float)
}

// SizeBytes is the payload size of float32 weights on disk, for comparison with
// QuantizedWeights.SizeBytes.
func SizeBytes(w model.Weights) int64 {
	var n int64
	for _, t := range w {
		n += 4 * int64(len(t.Data))
	}
	return n
}

// NewDecoderQuantized checks cfg and q and builds a decoder that computes from the INT8
// weights (integer products on quantized activations where the CPU has AVX-512 VNNI;
// elsewhere one-row steps use int8 dot products and prompts dequantize a tile of weight
// rows at a time; see the package comment).
func NewDecoderQuantized(cfg model.Config, q QuantizedWeights) (*Decoder, error) {
	if err := checkArch(cfg, model.ArchDecoder); err != nil {
		return nil, fmt.Errorf("new quantized decoder: %w", err)
	}
	if err := q.Check(cfg); err != nil {
		return nil, fmt.Errorf("new quantized decoder: %w", err)
	}
	return newDecoder(cfg, quantSource(q)), nil
}

// NewClassifierQuantized checks cfg and q and builds a classifier that computes from the
// INT8 weights.
func NewClassifierQuantized(cfg model.Config, q QuantizedWeights) (*Classifier, error) {
	if err := checkArch(cfg, model.ArchEncoder); err != nil {
		return nil, fmt.Errorf("new quantized classifier: %w", err)
	}
	if err := q.Check(cfg); err != nil {
		return nil, fmt.Errorf("new quantized classifier: %w", err)
	}
	return newClassifier(cfg, quantSource(q)), nil
}
