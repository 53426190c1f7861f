package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// TestLlamaCppInterop is the end-to-end check that llama.cpp itself loads our GGUF
// files: the same token ids for our sample texts (special tokens, digits, unicode)
// and the same next-token probabilities as the Go reference forward pass. It needs
// the prebuilt llama.cpp of the npm package node-llama-cpp, so it runs only when
// MLMFORGE_NODE_LLAMA_CPP names a directory where `npm i -E node-llama-cpp@3.21.1`
// was run (llama.cpp defaults to a float16 KV cache, hence the F32 tolerance).
func TestLlamaCppInterop(t *testing.T) {
	install := os.Getenv("MLMFORGE_NODE_LLAMA_CPP")
	if install == "" {
		t.Skip("MLMFORGE_NODE_LLAMA_CPP not set (a directory with node_modules/node-llama-cpp)")
	}
	dir := t.TempDir()
	tol := map[string]float64{}
	var names []string
	for _, typ := range []string{TypeF32, TypeF16, TypeQ8_0} {
		for _, tied := range []bool{true, false} {
			m := tinyModel(t, tied, 5, 11)
			name := typ + map[bool]string{true: "-tied", false: "-untied"}[tied]
			writeInteropCase(t, dir, name, m, typ)
			names = append(names, name)
			tol[name] = map[string]float64{TypeF32: 2e-3, TypeF16: 5e-3, TypeQ8_0: 5e-2}[typ]
		}
	}
	script, err := filepath.Abs(filepath.Join("testdata", "llamacpp_check.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", append([]string{script, install, dir}, names...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	seen := 0
	for sc.Scan() {
		var r struct {
			Name               string
			BOS, EOS           int
			TokenizeMismatches []any
			MaxProbDiff        float64
			ArgmaxAgree        int
			Positions          int
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("node output %q: %v", sc.Text(), err)
		}
		seen++
		t.Logf("%s: max |prob diff| %.2e, argmax agrees at %d/%d positions", r.Name, r.MaxProbDiff, r.ArgmaxAgree, r.Positions)
		tk := testTokenizer(t)
		if len(r.TokenizeMismatches) > 0 || r.BOS != tk.BOS() || r.EOS != tk.EOS() {
			t.Errorf("%s: bos %d eos %d, tokenization differs: %v", r.Name, r.BOS, r.EOS, r.TokenizeMismatches)
		}
		if r.MaxProbDiff > tol[r.Name] {
			t.Errorf("%s: max |prob diff| %g > %g", r.Name, r.MaxProbDiff, tol[r.Name])
		}
	}
	if seen != len(names) {
		t.Fatalf("node reported %d models, want %d\n%s", seen, len(names), stderr.String())
	}
}

// writeInteropCase writes name.gguf and name.json: the token ids of the sample texts
// and the reference next-token probabilities of one prompt.
func writeInteropCase(t *testing.T, dir, name string, m *Model, typ string) {
	t.Helper()
	if err := WriteGGUF(filepath.Join(dir, name+".gguf"), m, GGUFOptions{Type: typ}); err != nil {
		t.Fatal(err)
	}
	ids := m.Tokenizer.EncodeWithSpecial(sampleTexts[2] + "set an alarm for 7:30")
	logits, V := refLogits(m.Config, m.Weights, ids, false), m.Config.Vocab
	probs := make([][]float64, len(ids))
	for i := range ids {
		probs[i] = slices.Clone(logits[i*V : (i+1)*V])
		softmax(probs[i])
	}
	texts := slices.Concat(sampleTexts, corpus)
	enc := make([][]int, len(texts))
	for i, s := range texts {
		enc[i] = append([]int{}, m.Tokenizer.EncodeWithSpecial(s)...)
	}
	data, err := json.Marshal(map[string]any{"ids": ids, "probs": probs, "texts": texts, "enc": enc})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}
