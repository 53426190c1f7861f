package model

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"testing"
)

// sameWeights compares weights bit for bit (NaN payloads included).
func sameWeights(a, b Weights) bool {
	if len(a) != len(b) {
		return false
	}
	for name, ta := range a {
		tb, ok := b[name]
		if !ok || !slices.Equal(ta.Shape, tb.Shape) || len(ta.Data) != len(tb.Data) {
			return false
		}
		for i := range ta.Data {
			if math.Float32bits(ta.Data[i]) != math.Float32bits(tb.Data[i]) {
				return false
			}
		}
	}
	return true
}

// FuzzDecodeSafetensors feeds arbitrary bytes to the safetensors reader that
// loads checkpoints and Hugging Face exports. It must not panic, every tensor
// it returns holds exactly prod(shape) values, and what it decodes encodes
// and decodes back to the same tensors and metadata.
func FuzzDecodeSafetensors(f *testing.F) {
	var buf bytes.Buffer
	w := Weights{
		"model.embed_tokens.weight": {Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, float32(math.Inf(1)), 1e-30}},
		"model.norm.weight":         {Shape: []int{3}, Data: []float32{1, 1, 1}},
		"scalar":                    {Shape: []int{}, Data: []float32{7}},
	}
	if err := EncodeSafetensors(&buf, w, map[string]string{"format": "pt"}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	// An F16 and a BF16 tensor, written by hand.
	hdr := []byte(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1,1],"data_offsets":[4,6]}}`)
	raw := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	raw = append(append(raw, hdr...), 0x00, 0x3c, 0x00, 0x7c, 0x80, 0x3f)
	f.Add(raw)
	f.Add([]byte{})
	f.Add(binary.LittleEndian.AppendUint64(nil, 1<<62))
	f.Add(append(binary.LittleEndian.AppendUint64(nil, 2), "{}"...))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, meta, err := DecodeSafetensors(data)
		if err != nil {
			return
		}
		for name, tn := range w {
			n := 1
			for _, d := range tn.Shape {
				if d < 0 {
					t.Fatalf("tensor %s: negative dim in %v", name, tn.Shape)
				}
				n *= d
			}
			if len(tn.Data) != n {
				t.Fatalf("tensor %s: shape %v but %d values", name, tn.Shape, len(tn.Data))
			}
		}
		var out bytes.Buffer
		if err := EncodeSafetensors(&out, w, meta); err != nil {
			return // e.g. metadata or names the writer refuses to write
		}
		w2, meta2, err := DecodeSafetensors(out.Bytes())
		if err != nil {
			t.Fatalf("decode of what the encoder wrote: %v", err)
		}
		if !sameWeights(w, w2) {
			t.Fatal("tensors changed across encode and decode")
		}
		if len(meta) != len(meta2) {
			t.Fatalf("metadata %v became %v", meta, meta2)
		}
		for k, v := range meta {
			if meta2[k] != v {
				t.Fatalf("metadata %v became %v", meta, meta2)
			}
		}
	})
}
