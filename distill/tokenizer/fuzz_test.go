package tokenizer

import (
	"slices"
	"testing"
)

// FuzzParse feeds arbitrary tokenizer.json files (a model directory a user
// brings, or an export of another tool) to the parser, and encodes text with
// what it accepts. Parsing must not panic; encoding returns only ids of the
// vocabulary and, when every byte has a token, decodes back to the text; and
// the tokenizer saved and parsed again encodes the same.
func FuzzParse(f *testing.F) {
	corpus := []string{"set an alarm for seven am", "what is the weather in paris tomorrow", "turn on the kitchen lights",
		`{"intent": "set_timer"}`, "Zoë Ångström ordered 2× crème brûlée 🚚"}
	tok, err := Train(slices.Values(corpus), TrainConfig{VocabSize: 300, SpecialTokens: DefaultSpecialTokens(true)})
	if err != nil {
		f.Fatal(err)
	}
	data, err := tok.MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data, "set the kitchen lights to 7 <|im_start|>")
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}, "added_tokens": [{"id": 3, "content": "<s>", "special": true}]}`), "abab<s>")
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "a"]]}}`), "aaa")
	f.Add([]byte(`{"model": {"type": "WordPiece"}}`), "")
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		tok, err := Parse(data, "tokenizer.json")
		if err != nil {
			return
		}
		ids := tok.Encode(text)
		for _, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("Encode(%q) gave id %d, vocabulary has %d", text, id, tok.VocabSize())
			}
		}
		special := tok.EncodeWithSpecial(text)
		for _, id := range special {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("EncodeWithSpecial(%q) gave id %d, vocabulary has %d", text, id, tok.VocabSize())
			}
		}
		allBytes := !slices.Contains(tok.model.byteIDs[:], -1)
		if got := tok.Decode(ids); allBytes && got != text {
			t.Fatalf("Decode(Encode(%q)) = %q", text, got)
		}
		_ = tok.DecodeSkipSpecial(special)
		out, err := tok.MarshalJSON()
		if err != nil {
			t.Fatalf("marshal a parsed tokenizer: %v", err)
		}
		back, err := Parse(out, "saved")
		if err != nil {
			t.Fatalf("parse of a saved tokenizer: %v", err)
		}
		if got := back.Encode(text); !slices.Equal(got, ids) {
			t.Fatalf("saved tokenizer encodes %q as %v, want %v", text, got, ids)
		}
	})
}
