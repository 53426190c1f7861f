package quant

import (
	"bytes"
	"slices"
	"testing"

	"github.com/cyclecore/mlmforge/distill/infer"
	"github.com/cyclecore/mlmforge/distill/model"
)

// FuzzDecodeInt8 feeds arbitrary bytes to the INT8 safetensors reader behind
// LoadInt8. It must not panic; every matrix it returns has rows*cols values
// and one scale per row; and what it decodes encodes and decodes back the same.
func FuzzDecodeInt8(f *testing.F) {
	q := infer.QuantizedWeights{
		Int8: map[string]*infer.QuantizedTensor{
			"model.layers.0.mlp.up_proj.weight": {Shape: []int{2, 3}, Data: []int8{1, -128, 127, 0, 5, -5}, Scales: []float32{0.5, 0.25}},
		},
		Float: model.Weights{"model.norm.weight": {Shape: []int{3}, Data: []float32{1, 2, 3}}},
	}
	var buf bytes.Buffer
	if err := encode(&buf, q, map[string]string{"format": "pt", "quantization": "int8"}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()-3])
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":{\"dtype\":\"I8\"}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		q, meta, err := decode(data)
		if err != nil {
			return
		}
		for name, qt := range q.Int8 {
			if len(qt.Shape) != 2 || qt.Shape[0] < 0 || qt.Shape[1] < 0 ||
				len(qt.Data) != qt.Shape[0]*qt.Shape[1] || len(qt.Scales) != qt.Shape[0] {
				t.Fatalf("tensor %s: shape %v, %d values, %d scales", name, qt.Shape, len(qt.Data), len(qt.Scales))
			}
		}
		var out bytes.Buffer
		if err := encode(&out, q, meta); err != nil {
			return
		}
		q2, meta2, err := decode(out.Bytes())
		if err != nil {
			t.Fatalf("decode of what encode wrote: %v", err)
		}
		if len(q2.Int8) != len(q.Int8) || len(q2.Float) != len(q.Float) || len(meta2) != len(meta) {
			t.Fatalf("tensor or metadata count changed: %d/%d/%d -> %d/%d/%d",
				len(q.Int8), len(q.Float), len(meta), len(q2.Int8), len(q2.Float), len(meta2))
		}
		for name, a := range q.Int8 {
			b := q2.Int8[name]
			if b == nil || !slices.Equal(a.Shape, b.Shape) || !slices.Equal(a.Data, b.Data) || !sameBits(a.Scales, b.Scales) {
				t.Fatalf("tensor %s changed", name)
			}
		}
		for name, a := range q.Float {
			b := q2.Float[name]
			if b == nil || !slices.Equal(a.Shape, b.Shape) || !sameBits(a.Data, b.Data) {
				t.Fatalf("tensor %s changed", name)
			}
		}
	})
}
