package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

func pieces(p PreTokenizer, s string) []string {
	var out []string
	p.split(s, func(w string) { out = append(out, w) })
	return out
}

func TestPreTokenizerSplits(t *testing.T) {
	gpt2, smol := GPT2PreTokenizer(), SmolLM2PreTokenizer()
	runs := PreTokenizer{SplitDigits: true, UseRegex: true}
	prefix := PreTokenizer{AddPrefixSpace: true, UseRegex: true}
	whole := PreTokenizer{}
	student := StudentPreTokenizer()
	tests := []struct {
		name string
		pre  PreTokenizer
		in   string
		want []string
	}{
		{"words", gpt2, "Hello world", []string{"Hello", " world"}},
		{"contractions", gpt2, "I'm sure they'll", []string{"I", "'m", " sure", " they", "'ll"}},
		{"apostrophe after space", gpt2, "rock 'n' roll", []string{"rock", " '", "n", "'", " roll"}},
		{"apostrophe in punctuation run", gpt2, "?'s", []string{"?'", "s"}},
		{"numbers keep one space", gpt2, "pay 1234 now", []string{"pay", " 1234", " now"}},
		{"letters then digits", gpt2, "abc123", []string{"abc", "123"}},
		{"punctuation run", gpt2, "wait...!? ok", []string{"wait", "...!?", " ok"}},
		{"space run gives back last space", gpt2, "a   b", []string{"a", "  ", " b"}},
		{"trailing spaces stay together", gpt2, "a   ", []string{"a", "   "}},
		{"newline then word", gpt2, "a\nb", []string{"a", "\n", "b"}},
		{"newline and space before word", gpt2, "a\n b", []string{"a", "\n", " b"}},
		{"tab is not the optional space", gpt2, "\tb", []string{"\t", "b"}},
		{"no-break space is whitespace", gpt2, "a\u00a0b", []string{"a", "\u00a0", "b"}},
		{"unicode letters", gpt2, "naïve café Привет", []string{"naïve", " café", " Привет"}},
		{"cjk", gpt2, "你好，世界", []string{"你好", "，", "世界"}},
		{"emoji are punctuation", gpt2, "hi 😀😀!", []string{"hi", " 😀😀!"}},
		{"invalid byte is punctuation", gpt2, "a\xff\xfeb", []string{"a", "\xff\xfe", "b"}},
		{"individual digits", smol, "abc123 def", []string{"abc", "1", "2", "3", " def"}},
		{"digits lose their space", smol, "call 555-12", []string{"call", " ", "5", "5", "5", "-", "1", "2"}},
		{"digit runs", runs, "v12.345x", []string{"v", "12", ".", "345", "x"}},
		{"non-ascii digits", smol, "٣٤", []string{"٣", "٤"}},
		{"prefix space", prefix, "hello world", []string{" hello", " world"}},
		{"no regex", whole, "a b  c", []string{"a b  c"}},
		{"empty", gpt2, "", nil},
		{"decimal point", student, "Total is 3150.05 now", []string{"Total", " ", "is", " ", "3", "1", "5", "0", ".0", "5", " ", "now"}},
		{"full stop after a number", student, "Total: 2211. The", []string{"Total", ":", " ", "2", "2", "1", "1", ".", " ", "The"}},
		{"decimal in json", student, `{"total":3150.05,"x":1.}`, []string{"{", `"`, "total", `"`, ":", "3", "1", "5", "0", ".0", "5", ",", `"`, "x", `"`, ":", "1", ".}"}},
		{"points in a row", student, "v1.2.30..4", []string{"v", "1", ".2", ".3", "0", "..", "4"}},
		{"point without a digit before", student, "x.5 .5", []string{"x", ".", "5", " ", ".", "5"}},
		{"non-ascii decimal", student, "٣.٤", []string{"٣", ".٤"}},
		{"point after punctuation", student, "5-.5", []string{"5", "-.", "5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pieces(tc.pre, tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("split(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestPreTokenizerCoversInput checks that words concatenate back to the input
// on the whole test corpus, for both presets.
func TestPreTokenizerCoversInput(t *testing.T) {
	lines := append(append(slices.Clone(handLines), randomLines(500, 7)...), "\xff\xc3(\xe2\x82 broken \xf0\x9f")
	for _, pre := range []PreTokenizer{GPT2PreTokenizer(), SmolLM2PreTokenizer(), StudentPreTokenizer()} {
		for _, line := range lines {
			if got := strings.Join(pieces(pre, line), ""); got != line {
				t.Fatalf("%+v: words of %q join to %q", pre, line, got)
			}
			for _, w := range pieces(pre, line) {
				if w == "" {
					t.Fatalf("%+v: empty word in %q", pre, line)
				}
			}
		}
	}
}
