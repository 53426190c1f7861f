package tokenizer

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/cyclecore/mlmforge/internal/testutil/extproc"
)

// TestHuggingFaceTokenizersAgree saves our tokenizers (the GPT-2 rebuild, a
// trained SmolLM2-style one in both merge forms, the SmolLM2-structured mini
// file), loads them with Hugging Face's tokenizers, and requires the same ids
// (special tokens recognised) and decodings on every corpus line.
func TestHuggingFaceTokenizersAgree(t *testing.T) {
	node := extproc.HFTokenizers.Require(t)
	script := extproc.Script(t, "hf_tokenizers_check.js")
	casesPath, names, nLines := writeHFCases(t, t.TempDir())
	out, err := node.Command(script, casesPath).Output()
	if err != nil {
		t.Fatalf("node %s: %v", script, err)
	}
	var report map[string]struct {
		Lines            int   `json:"lines"`
		EncodeMismatches int   `json:"encode_mismatches"`
		DecodeMismatches int   `json:"decode_mismatches"`
		VocabSize        int   `json:"vocab_size"`
		Examples         []any `json:"examples"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("parse report %q: %v", out, err)
	}
	for _, name := range names {
		r, ok := report[name]
		switch {
		case !ok || r.Lines != nLines:
			t.Errorf("%s: report %+v, want %d lines", name, r, nLines)
		case r.EncodeMismatches > 0 || r.DecodeMismatches > 0:
			t.Errorf("%s: %d encode and %d decode mismatches of %d lines, e.g. %v", name, r.EncodeMismatches, r.DecodeMismatches, r.Lines, r.Examples)
		default:
			t.Logf("%s: %d lines identical, vocab %d", name, r.Lines, r.VocabSize)
		}
	}
}

// writeHFCases saves the tokenizers under dir and writes cases.json: the
// corpus lines and our ids for each; it returns its path, the tokenizer names
// and the number of lines.
func writeHFCases(t *testing.T, dir string) (string, []string, int) {
	t.Helper()
	gpt, _ := gpt2(t)
	pairs, err := Parse(mustJSON(t, trained(t)), "trained.json")
	if err != nil {
		t.Fatal(err)
	}
	pairs.SetMergesAsPairs(true)
	smol, err := Parse(smolJSON(smolPairs), "smol.json")
	if err != nil {
		t.Fatal(err)
	}
	student, err := Train(slices.Values(trainCorpus(t)), TrainConfig{VocabSize: 2048, SpecialTokens: DefaultSpecialTokens(true),
		PreTokenizer: StudentPreTokenizer()})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	// Hugging Face takes text as Rust strings: valid UTF-8 only.
	for _, l := range slices.Concat(handLines, jsonLines, randomLines(2000, 51), builtinLines(t), clincLines(t)) {
		if utf8.ValidString(l) {
			lines = append(lines, l)
		}
	}
	type tokCase struct {
		File    string  `json:"file"`
		Plain   [][]int `json:"plain"`
		Special [][]int `json:"special"`
	}
	cases := map[string]*tokCase{}
	for name, tok := range map[string]*Tokenizer{"gpt2": gpt, "trained": trained(t), "trained_pairs": pairs, "smol": smol,
		"student": student} {
		c := &tokCase{File: filepath.Join(dir, name+".json")}
		if err := tok.Save(c.File); err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			c.Plain = append(c.Plain, orEmpty(tok.Encode(l)))
			c.Special = append(c.Special, orEmpty(tok.EncodeWithSpecial(l)))
		}
		cases[name] = c
	}
	data, err := json.Marshal(map[string]any{"lines": lines, "tokenizers": cases})
	if err != nil {
		t.Fatal(err)
	}
	casesPath := filepath.Join(dir, "cases.json")
	if err := os.WriteFile(casesPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return casesPath, slices.Sorted(maps.Keys(cases)), len(lines)
}
