package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSafetensorsRoundTrip checks that F32 tensors survive a write and read bit for bit,
// odd values included, and that the header is padded so the data is 8-byte aligned.
func TestSafetensorsRoundTrip(t *testing.T) {
	odd := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -3.4028235e38, float32(math.Inf(1)),
		math.Float32frombits(0x7fc00001), 1.5, -2.25}
	w := Weights{
		"a.weight": {Shape: []int{2, 4}, Data: odd},
		"b.bias":   {Shape: []int{3}, Data: []float32{1, 2, 3}},
		"empty":    {Shape: []int{0, 5}, Data: []float32{}},
		"scalar":   {Shape: []int{}, Data: []float32{7}},
	}
	meta := map[string]string{"format": "pt", "step": "12"}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := WriteSafetensors(path, w, meta); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(raw); n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	got, gotMeta, err := ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	if gotMeta["format"] != "pt" || gotMeta["step"] != "12" || len(gotMeta) != 2 {
		t.Errorf("metadata %v, want %v", gotMeta, meta)
	}
	if len(got) != len(w) {
		t.Fatalf("%d tensors, want %d", len(got), len(w))
	}
	for name, want := range w {
		g := got[name]
		if g == nil {
			t.Fatalf("tensor %s missing", name)
		}
		if len(g.Shape) != len(want.Shape) || len(g.Data) != len(want.Data) {
			t.Fatalf("tensor %s: shape %v, want %v", name, g.Shape, want.Shape)
		}
		for i := range want.Data {
			if math.Float32bits(g.Data[i]) != math.Float32bits(want.Data[i]) {
				t.Errorf("tensor %s[%d]: bits %08x, want %08x", name, i, math.Float32bits(g.Data[i]), math.Float32bits(want.Data[i]))
			}
		}
	}
}

// handBuilt assembles a safetensors file from a header map and a data section, the way a
// third-party writer would (no padding).
func handBuilt(t *testing.T, header map[string]any, body []byte) []byte {
	t.Helper()
	hj, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hj)))
	out = append(out, hj...)
	return append(out, body...)
}

// TestSafetensorsHandBuilt reads a file written byte by byte with F32, F16 and BF16
// tensors, as found in Hugging Face exports, and checks the widened values.
func TestSafetensorsHandBuilt(t *testing.T) {
	var body []byte
	f16 := []uint16{0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00, 0x8000}
	for _, h := range f16 {
		body = binary.LittleEndian.AppendUint16(body, h)
	}
	bf16 := []uint16{0x3F80, 0xC040}
	for _, h := range bf16 {
		body = binary.LittleEndian.AppendUint16(body, h)
	}
	body = binary.LittleEndian.AppendUint32(body, math.Float32bits(0.125))
	header := map[string]any{
		"__metadata__": map[string]string{"format": "pt"},
		"h":            map[string]any{"dtype": "F16", "shape": []int{7}, "data_offsets": []int{0, 14}},
		"b":            map[string]any{"dtype": "BF16", "shape": []int{1, 2}, "data_offsets": []int{14, 18}},
		"f":            map[string]any{"dtype": "F32", "shape": []int{1}, "data_offsets": []int{18, 22}},
	}
	w, meta, err := DecodeSafetensors(handBuilt(t, header, body))
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" {
		t.Errorf("metadata %v", meta)
	}
	wantH := []float32{1, -2, 0.5, 65504, 1.0 / (1 << 24), float32(math.Inf(1)), 0}
	for i, v := range wantH {
		if w["h"].Data[i] != v {
			t.Errorf("F16[%d] = %g, want %g", i, w["h"].Data[i], v)
		}
	}
	if !math.Signbit(float64(w["h"].Data[6])) {
		t.Error("F16 -0 lost its sign")
	}
	if w["b"].Data[0] != 1 || w["b"].Data[1] != -3 || len(w["b"].Shape) != 2 {
		t.Errorf("BF16 = %v shape %v, want [1 -3] shape [1 2]", w["b"].Data, w["b"].Shape)
	}
	if w["f"].Data[0] != 0.125 {
		t.Errorf("F32 = %v", w["f"].Data)
	}
	if v := F16ToF32(0x7E00); !math.IsNaN(float64(v)) {
		t.Errorf("F16 NaN widened to %g", v)
	}
}

// TestSafetensorsCorrupt checks that damaged files fail with errors that say what is wrong
// and name the file and the tensor.
func TestSafetensorsCorrupt(t *testing.T) {
	good := handBuilt(t, map[string]any{
		"x": map[string]any{"dtype": "F32", "shape": []int{2}, "data_offsets": []int{0, 8}},
		"y": map[string]any{"dtype": "F32", "shape": []int{1}, "data_offsets": []int{8, 12}},
	}, make([]byte, 12))
	entry := func(dtype string, shape []int, b, e int) map[string]any {
		return map[string]any{"dtype": dtype, "shape": shape, "data_offsets": []int{b, e}}
	}
	hugeLen := binary.LittleEndian.AppendUint64(nil, 1<<40)
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"empty", nil, []string{"truncated"}},
		{"truncated data", good[:len(good)-3], []string{"tensor y", "beyond"}},
		{"truncated header", good[:20], []string{"truncated: header length"}},
		{"huge header length", append(hugeLen, good[8:]...), []string{"exceeds"}},
		{"bad json", append(binary.LittleEndian.AppendUint64(nil, 4), []byte("{no}")...), []string{"header JSON"}},
		{"unknown dtype", handBuilt(t, map[string]any{"ids": entry("I64", []int{1}, 0, 8)}, make([]byte, 8)),
			[]string{"tensor ids", `"I64" not supported`}},
		{"size mismatch", handBuilt(t, map[string]any{"w": entry("F32", []int{3}, 0, 8)}, make([]byte, 8)),
			[]string{"tensor w", "want 12"}},
		{"gap", handBuilt(t, map[string]any{"w": entry("F32", []int{1}, 4, 8)}, make([]byte, 8)),
			[]string{"tensor w", "gap or overlap"}},
		{"trailing bytes", handBuilt(t, map[string]any{"w": entry("F32", []int{1}, 0, 4)}, make([]byte, 8)),
			[]string{"cover 4"}},
		{"negative dim", handBuilt(t, map[string]any{"w": entry("F32", []int{-1}, 0, 4)}, make([]byte, 4)),
			[]string{"tensor w", "negative"}},
		{"unknown key", handBuilt(t, map[string]any{"w": map[string]any{"dtype": "F32", "shape": []int{1},
			"data_offsets": []int{0, 4}, "extra": 1}}, make([]byte, 4)), []string{"tensor w", "extra"}},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".safetensors")
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := ReadSafetensors(path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(c.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestSafetensorsEncodeErrors checks that inconsistent tensors are refused before writing.
func TestSafetensorsEncodeErrors(t *testing.T) {
	var buf bytes.Buffer
	err := EncodeSafetensors(&buf, Weights{"w": {Shape: []int{2, 2}, Data: []float32{1}}}, nil)
	if err == nil || !strings.Contains(err.Error(), "tensor w") {
		t.Errorf("error %v, want one naming tensor w", err)
	}
	err = EncodeSafetensors(&buf, Weights{"__metadata__": {Shape: []int{1}, Data: []float32{1}}}, nil)
	if err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("error %v, want reserved name", err)
	}
}
