package quant

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

// splitFile parses a safetensors file into its header entries (metadata dropped) and
// its data section.
func splitFile(t *testing.T, path string) (map[string]entry, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw)
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &hdr); err != nil {
		t.Fatal(err)
	}
	delete(hdr, "__metadata__")
	out := map[string]entry{}
	for name, r := range hdr {
		var e entry
		if err := json.Unmarshal(r, &e); err != nil {
			t.Fatal(err)
		}
		out[name] = e
	}
	return out, raw[8+n:]
}

// joinFile writes a safetensors file from header entries and a data section.
func joinFile(t *testing.T, path string, header map[string]entry, body []byte) {
	t.Helper()
	hj, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hj)))
	out = append(append(out, hj...), body...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptFiles(t *testing.T) {
	const (
		q    = "model.layers.1.self_attn.q_proj.weight"
		up   = "model.layers.0.mlp.up_proj.weight" // [48, 32]: transposing it changes the rows
		norm = "model.norm.weight"
	)
	src := filepath.Join(t.TempDir(), "src")
	if err := SaveInt8(src, tinyCheckpoint(model.ArchEncoder, 9), testTokenizer(t)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(h map[string]entry, body []byte) []byte
		want   []string // besides the file's path and a tensor name
	}{
		{"unknown dtype", func(h map[string]entry, b []byte) []byte {
			e := h[q]
			e.DType = "I16"
			h[q] = e
			return b
		}, []string{q, `dtype "I16"`}},
		{"truncated data", func(h map[string]entry, b []byte) []byte { return b[:len(b)-7] },
			[]string{"model.layers.1.self_attn.v_proj.weight", "data_offsets", "outside"}},
		{"scales missing", func(h map[string]entry, b []byte) []byte {
			h[q+".scales"] = h[q+ScaleSuffix]
			delete(h, q+ScaleSuffix)
			return b
		}, []string{q, "per-row scales"}},
		{"scales shaped wrong", func(h map[string]entry, b []byte) []byte {
			e := h[up]
			e.Shape = []int{e.Shape[1], e.Shape[0]}
			h[up] = e
			return b
		}, []string{up + ScaleSuffix, "one scale per row"}},
		{"NaN scale", func(h map[string]entry, b []byte) []byte {
			o := h[q+ScaleSuffix].Offsets[0] + 4*3
			binary.LittleEndian.PutUint32(b[o:], math.Float32bits(float32(math.NaN())))
			return b
		}, []string{q + ScaleSuffix, "row 3"}},
		{"overlap", func(h map[string]entry, b []byte) []byte {
			e := h[norm]
			e.Offsets[0], e.Offsets[1] = e.Offsets[0]-4, e.Offsets[1]-4
			h[norm] = e
			return b
		}, []string{"tensor model.", "gap or overlap"}},
		{"renamed tensor", func(h map[string]entry, b []byte) []byte {
			h["model.final_norm.weight"] = h[norm]
			delete(h, norm)
			return b
		}, []string{norm + ": missing", "model.final_norm.weight: not part of this config"}},
		{"orphan scales", func(h map[string]entry, b []byte) []byte {
			h[norm+ScaleSuffix] = h[norm]
			delete(h, norm)
			return b
		}, []string{norm + ScaleSuffix, "not an I8 tensor"}},
		{"I8 vector", func(h map[string]entry, b []byte) []byte {
			e := h[q]
			e.Shape = []int{e.Shape[0] * e.Shape[1]}
			h[q] = e
			return b
		}, []string{q, "want [rows, cols]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyCheckpoint(t, src)
			path := filepath.Join(dir, Int8WeightsFile)
			h, body := splitFile(t, path)
			joinFile(t, path, h, tt.mutate(h, body))
			_, _, _, err := LoadInt8(dir)
			if err == nil {
				t.Fatal("corrupt file loaded")
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestCorruptFileFraming(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := SaveInt8(src, tinyCheckpoint(model.ArchEncoder, 9), testTokenizer(t)); err != nil {
		t.Fatal(err)
	}
	huge := binary.LittleEndian.AppendUint64(nil, 1<<40)
	tests := []struct {
		name, file string
		data       []byte
		want       string
	}{
		{"empty weights", Int8WeightsFile, nil, "truncated: 0 bytes"},
		{"huge header length", Int8WeightsFile, huge, "exceeds"},
		{"bad header JSON", Int8WeightsFile, append(binary.LittleEndian.AppendUint64(nil, 3), "{x}"...), "header JSON"},
		{"bad config", model.ConfigFile, []byte("{"), "unexpected end of JSON"},
		{"wrong version", model.ConfigFile, []byte(`{"format_version": 7, "quantization": "int8"}`), "format_version 7"},
		{"invalid config", model.ConfigFile, []byte(`{"format_version": 1, "quantization": "int8", "arch": "rnn"}`), `config arch: "rnn"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyCheckpoint(t, src)
			path := filepath.Join(dir, tt.file)
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, _, err := LoadInt8(dir)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q and the path %s", err, tt.want, path)
			}
		})
	}
	dir := copyCheckpoint(t, src)
	path := filepath.Join(dir, Int8WeightsFile)
	os.Remove(path)
	if _, _, _, err := LoadInt8(dir); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("missing weights: err = %v, want the path %s", err, path)
	}
}

// copyCheckpoint copies the files of the checkpoint directory src to a fresh one.
func copyCheckpoint(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	for _, f := range []string{model.ConfigFile, Int8WeightsFile, model.TokenizerFile} {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
