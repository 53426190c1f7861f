package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// smolFile is a small tokenizer.json with the structure of SmolLM2's (the real
// file is not available offline): same sections, flags and key order; %s is
// the vocab's byte entries and %s the merges.
const smolFile = `{
  "version": "1.0",
  "truncation": null,
  "padding": null,
  "added_tokens": [
    {"id": 0, "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 1, "content": "<|im_start|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 2, "content": "<|im_end|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 3, "content": "<repo_name>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
  ],
  "normalizer": null,
  "pre_tokenizer": {
    "type": "Sequence",
    "pretokenizers": [
      {"type": "Digits", "individual_digits": true},
      {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}
    ]
  },
  "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
  "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
  "model": {
    "type": "BPE",
    "dropout": null,
    "unk_token": null,
    "continuing_subword_prefix": null,
    "end_of_word_suffix": null,
    "fuse_unk": false,
    "byte_fallback": false,
    "ignore_merges": false,
    "vocab": {"<|endoftext|>": 0, "<|im_start|>": 1, "<|im_end|>": 2, "<repo_name>": 3, %s, "he": 260, "ll": 261, "hell": 262, "hello": 263, "Ġw": 264},
    "merges": [%s]
  }
}`

var (
	smolPairs   = `["h", "e"], ["l", "l"], ["he", "ll"], ["hell", "o"], ["Ġ", "w"]`
	smolStrings = `"h e", "l l", "he ll", "hell o", "Ġ w"`
)

// smolJSON fills smolFile: bytes get ids 4.. in byte-level character order.
func smolJSON(merges string) []byte {
	var entries []string
	for i, r := range smolByteOrder() {
		entries = append(entries, fmt.Sprintf("%q: %d", string(r), 4+i))
	}
	return fmt.Appendf(nil, smolFile, strings.Join(entries, ", "), merges)
}

func smolByteOrder() []rune {
	rs := slices.Clone(byteToRune[:])
	slices.Sort(rs)
	return rs
}

// smolID is the id of a single byte in smolFile.
func smolID(b byte) int { return 4 + slices.Index(smolByteOrder(), byteToRune[b]) }

func TestLoadSmolLM2Structure(t *testing.T) {
	for name, merges := range map[string]string{"pairs": smolPairs, "strings": smolStrings} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokenizer.json")
			if err := os.WriteFile(path, smolJSON(merges), 0o644); err != nil {
				t.Fatal(err)
			}
			tok, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if tok.PreTokenizer() != SmolLM2PreTokenizer() || tok.VocabSize() != 265 || tok.NumMerges() != 5 {
				t.Fatalf("pre %+v, vocab %d, merges %d", tok.PreTokenizer(), tok.VocabSize(), tok.NumMerges())
			}
			got := tok.EncodeWithSpecial("<|im_start|>hello world 42<|im_end|>")
			want := []int{1, 263, 264, smolID('o'), smolID('r'), smolID('l'), smolID('d'), smolID(' '), smolID('4'), smolID('2'), 2}
			if !slices.Equal(got, want) {
				t.Errorf("ids %v, want %v", got, want)
			}
			if r := tok.Roles(); r != (Roles{BOS: 1, EOS: 2, PAD: 0}) {
				t.Errorf("roles %+v", r)
			}
			// Saving keeps the merges form and loads back to the same file.
			out := filepath.Join(t.TempDir(), "again.json")
			if err := tok.Save(out); err != nil {
				t.Fatal(err)
			}
			again, err := Load(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(mustJSON(t, tok), mustJSON(t, again)) {
				t.Error("save, load, save is not stable")
			}
			data, _ := os.ReadFile(out)
			if pairs := bytes.Contains(data, []byte(`"he",`)); pairs != (name == "pairs") {
				t.Errorf("merges written as pairs: %v", pairs)
			}
		})
	}
}

// TestLoadKeepsUnknownSections loads a file with a normalizer, a template
// post-processor and keys this package does not know, and saves them back.
func TestLoadKeepsUnknownSections(t *testing.T) {
	var f map[string]any
	if err := json.Unmarshal(smolJSON(smolPairs), &f); err != nil {
		t.Fatal(err)
	}
	f["normalizer"] = map[string]any{"type": "NFC"}
	f["post_processor"] = map[string]any{"type": "TemplateProcessing", "single": []any{map[string]any{"SpecialToken": map[string]any{"id": "<|im_start|>", "type_id": 0}}}}
	f["future_key"] = 1
	f["model"].(map[string]any)["future_model_key"] = true
	data, _ := json.Marshal(f)
	tok, err := Parse(data, "extra.json")
	if err != nil {
		t.Fatal(err)
	}
	saved := mustJSON(t, tok)
	for _, s := range []string{`"NFC"`, `"TemplateProcessing"`} {
		if !bytes.Contains(saved, []byte(s)) {
			t.Errorf("saved file lost %s", s)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(f map[string]any)
		want   string
	}{
		{"model type", func(f map[string]any) { model(f)["type"] = "WordPiece" }, "model.type"},
		{"bad merge string", func(f map[string]any) { model(f)["merges"] = []any{"h e", "hex"} }, "model.merges[1]"},
		{"merge not in vocab", func(f map[string]any) { model(f)["merges"] = []any{"h e", "e h"} }, "model.merges[1]"},
		{"merge shape", func(f map[string]any) { model(f)["merges"] = []any{[]any{"h"}} }, "model.merges[0]"},
		{"vocab key", func(f map[string]any) { model(f)["vocab"].(map[string]any)["a b"] = 300 }, `model.vocab["a b"]`},
		{"vocab id", func(f map[string]any) { model(f)["vocab"].(map[string]any)["Ġw"] = 263 }, "share id 263"},
		{"vocab missing", func(f map[string]any) { delete(model(f), "vocab") }, "model.vocab"},
		{"suffix", func(f map[string]any) { model(f)["end_of_word_suffix"] = "</w>" }, "model.end_of_word_suffix"},
		{"byte fallback", func(f map[string]any) { model(f)["byte_fallback"] = true }, "model.byte_fallback"},
		{"unk", func(f map[string]any) { model(f)["unk_token"] = "<unk>" }, "model.unk_token"},
		{"pre-tokenizer", func(f map[string]any) { f["pre_tokenizer"] = map[string]any{"type": "Split"} }, "pre_tokenizer.type"},
		{"pre-tokenizer step", func(f map[string]any) {
			f["pre_tokenizer"] = map[string]any{"type": "Sequence", "pretokenizers": []any{map[string]any{"type": "Metaspace"}}}
		}, "pre_tokenizer.pretokenizers[0].type"},
		{"no pre-tokenizer", func(f map[string]any) { f["pre_tokenizer"] = nil }, "pre_tokenizer"},
		{"decoder", func(f map[string]any) { f["decoder"] = map[string]any{"type": "WordPiece"} }, "decoder.type"},
		{"added token id", func(f map[string]any) {
			f["added_tokens"] = []any{map[string]any{"id": 5, "content": "<x>", "special": true}}
		}, "added_tokens[0]"},
		{"not json", nil, "parse json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte("{not json")
			if tc.mutate != nil {
				var f map[string]any
				if err := json.Unmarshal(smolJSON(smolPairs), &f); err != nil {
					t.Fatal(err)
				}
				tc.mutate(f)
				data, _ = json.Marshal(f)
			}
			_, err := Parse(data, "bad.json")
			if err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming bad.json and %s", err, tc.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

func model(f map[string]any) map[string]any { return f["model"].(map[string]any) }

// TestSaveLoadGPT2 saves the GPT-2 rebuild and checks the reloaded file
// encodes the corpus identically, in both merge forms.
func TestSaveLoadGPT2(t *testing.T) {
	gpt, _ := gpt2(t)
	lines := slices.Concat(handLines, randomLines(300, 13))
	for _, pairs := range []bool{false, true} {
		data := mustJSON(t, gpt)
		if pairs {
			var f map[string]any
			if err := json.Unmarshal(data, &f); err != nil {
				t.Fatal(err)
			}
			var arr []any
			for _, m := range model(f)["merges"].([]any) {
				a, b, _ := strings.Cut(m.(string), " ")
				arr = append(arr, []any{a, b})
			}
			model(f)["merges"] = arr
			data, _ = json.Marshal(f)
		}
		again, err := Parse(data, "gpt2.json")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range lines {
			if got, want := again.Encode(line), gpt.Encode(line); !slices.Equal(got, want) {
				t.Fatalf("pairs=%v: reloaded Encode(%q) = %v, want %v", pairs, line, got, want)
			}
		}
		if id, ok := again.TokenID(EndOfText); !ok || id != gpt2Vocab || !again.IsSpecial(id) {
			t.Errorf("reloaded %s: id %d", EndOfText, id)
		}
	}
	if !bytes.Contains(mustJSON(t, gpt), []byte(`"<|endoftext|>": 50256`)) {
		t.Error("saved vocab does not hold <|endoftext|> literally")
	}
}
