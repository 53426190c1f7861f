package export

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

// FuzzReadGGUF feeds arbitrary bytes to the GGUF reader (import of a model
// file from llama.cpp, Ollama or another converter). It must not panic or
// exhaust memory; a model it returns is valid; and written back as GGUF it
// reads again with the same config and weights.
func FuzzReadGGUF(f *testing.F) {
	tk := testTokenizer(f)
	c := model.Config{Arch: model.ArchDecoder, Vocab: tk.VocabSize(), Hidden: 8, Layers: 1, Heads: 2, KVHeads: 1,
		Intermediate: 8, MaxSeq: 16, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: true}
	m := &Model{Config: c, Weights: model.Init(c, 3), Tokenizer: tk, Roles: tk.Roles()}
	dir := f.TempDir()
	for _, typ := range []string{TypeF32, TypeF16} {
		path := filepath.Join(dir, typ+".gguf")
		if err := WriteGGUF(path, m, GGUFOptions{Type: typ}); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/3])
	}
	f.Add([]byte("GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x7f\xff\xff\xff\xff\xff\xff\xff\x7f"))
	f.Add([]byte("GGUF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "in.gguf")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := ReadGGUF(path)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("ReadGGUF returned an invalid model: %v", err)
		}
		out := filepath.Join(dir, "out.gguf")
		if err := WriteGGUF(out, m, GGUFOptions{}); err != nil {
			return
		}
		m2, err := ReadGGUF(out)
		if err != nil {
			t.Fatalf("read back a written GGUF: %v", err)
		}
		if m2.Config != m.Config {
			t.Fatalf("config changed: %+v -> %+v", m.Config, m2.Config)
		}
		requireSameWeights(t, m2.Weights, m.Weights)
	})
}
