package export

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ollama/ollama/fs/ggml"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
)

// zeros writes n zero bytes: the data of a tensor whose content does not matter.
type zeros int

func (z zeros) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(make([]byte, int(z)))
	return int64(n), err
}

// customGGUF writes a GGUF of a tiny model after mutate changed its metadata or
// tensors, as a file from another converter might look.
func customGGUF(t *testing.T, mutate func(kv ggml.KV, ts []*ggml.Tensor) []*ggml.Tensor) string {
	t.Helper()
	m := tinyModel(t, true, 0, 4)
	kv, err := ggufKV(m, TypeF32, "")
	if err != nil {
		t.Fatal(err)
	}
	var ts []*ggml.Tensor
	for _, p := range m.Config.Params() {
		tn, err := ggufTensor(m.Config, p, m.Weights[p.Name], TypeF32)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tn)
	}
	ts = mutate(kv, ts)
	path := filepath.Join(t.TempDir(), "custom.gguf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := ggml.WriteGGUF(f, kv, ts); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadGGUFErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(kv ggml.KV, ts []*ggml.Tensor) []*ggml.Tensor
		want   []string
	}{
		{"not llama", func(kv ggml.KV, ts []*ggml.Tensor) []*ggml.Tensor {
			kv["general.architecture"] = "qwen2"
			for k, v := range kv {
				if after, ok := strings.CutPrefix(k, "llama."); ok {
					delete(kv, k)
					kv["qwen2."+after] = v
				}
			}
			return ts
		}, []string{`general.architecture "qwen2"`, "only llama"}},
		{"unsupported tensor type", func(kv ggml.KV, ts []*ggml.Tensor) []*ggml.Tensor {
			for _, tn := range ts {
				if tn.Name == "blk.1.ffn_up.weight" {
					tn.Kind = uint32(ggml.TensorTypeQ4_0)
					tn.WriterTo = zeros(tn.Size())
				}
			}
			return ts
		}, []string{"blk.1.ffn_up.weight", "Q4_0", "not supported"}},
		{"rope scaling", func(kv ggml.KV, ts []*ggml.Tensor) []*ggml.Tensor {
			kv["llama.rope.scaling.type"] = "linear"
			return ts
		}, []string{"llama.rope.scaling.type", "linear"}},
		{"rope freqs", func(kv ggml.KV, ts []*ggml.Tensor) []*ggml.Tensor {
			return append(ts, &ggml.Tensor{Name: "rope_freqs.weight", Kind: 0, Shape: []uint64{8}, WriterTo: zeros(32)})
		}, []string{"rope_freqs.weight", "not supported"}},
		{"missing key", func(kv ggml.KV, ts []*ggml.Tensor) []*ggml.Tensor {
			delete(kv, "llama.block_count")
			return ts
		}, []string{"llama.block_count: missing"}},
		{"sentencepiece tokenizer", func(kv ggml.KV, ts []*ggml.Tensor) []*ggml.Tensor {
			kv["tokenizer.ggml.model"] = "llama"
			return ts
		}, []string{`tokenizer.ggml.model "llama"`}},
		{"unknown pre-tokenizer", func(kv ggml.KV, ts []*ggml.Tensor) []*ggml.Tensor {
			kv["tokenizer.ggml.pre"] = "qwen2"
			return ts
		}, []string{`tokenizer.ggml.pre "qwen2"`}},
		{"unknown tensor", func(kv ggml.KV, ts []*ggml.Tensor) []*ggml.Tensor {
			return append(ts, &ggml.Tensor{Name: "blk.0.attn_q.bias", Kind: 0, Shape: []uint64{64}, WriterTo: zeros(256)})
		}, []string{"blk.0.attn_q.bias"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := customGGUF(t, tc.mutate)
			_, err := ReadGGUF(path)
			if err == nil {
				t.Fatal("ReadGGUF: no error")
			}
			t.Log(err)
			for _, w := range append(tc.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestReadGGUFUnmodified checks that customGGUF itself yields a readable file, so
// the failures above come from the mutations.
func TestReadGGUFUnmodified(t *testing.T) {
	path := customGGUF(t, func(kv ggml.KV, ts []*ggml.Tensor) []*ggml.Tensor { return ts })
	if _, err := ReadGGUF(path); err != nil {
		t.Fatal(err)
	}
}

func TestReadGGUFNotGGUF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.gguf")
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 64), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadGGUF(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one naming %s", err, path)
	}
}

// TestWriteGGUFStudentTokenizer checks that a student tokenizer, whose
// pre-tokenizer llama.cpp cannot reproduce, is refused with the way out rather
// than written as a GGUF that would tokenize differently.
func TestWriteGGUFStudentTokenizer(t *testing.T) {
	m := tinyModel(t, true, 0, 5)
	tok, err := tokenizer.Train(slices.Values([]string{`{"name":"Liam Ueda"}`, "Liam Ueda called"}),
		tokenizer.TrainConfig{VocabSize: 300, SpecialTokens: tokenizer.DefaultSpecialTokens(true), PreTokenizer: tokenizer.StudentPreTokenizer()})
	if err != nil {
		t.Fatal(err)
	}
	m.Tokenizer, m.Config.Vocab = tok, tok.VocabSize()
	m.Weights = model.Init(m.Config, 5)
	err = WriteGGUF(filepath.Join(t.TempDir(), "s.gguf"), m, GGUFOptions{})
	if err == nil || !strings.Contains(err.Error(), "llama.cpp has no pre-tokenizer") || !strings.Contains(err.Error(), "--format hf") {
		t.Fatalf("WriteGGUF of a student tokenizer: %v", err)
	}
}
