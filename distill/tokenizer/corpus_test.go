package tokenizer

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/builtin"
	"github.com/cyclecore/mlmforge/schemas"
)

// handLines are the pre-tokenizer's corner cases, one per line.
// jsonLines exercise StudentPreTokenizer's structure split: quotes, the `":"` and
// `","` separators next to letters, digits, other punctuation and spaces.
var jsonLines = []string{
	`{"full_name":"Liam Ueda","phone":"(194) 555-0132","tags":["a","b"]}`, `"":""`, `""":"`, `",":",`, `":",""`,
	`{"a": "b", "c" : "d"}`, `say "hi"`, `"\"quoted\""`, "\"a\u00a0b\"", `{"n":5.0,"e":1e-3}`, `"x":"`, `,"`, `":`,
}

var handLines = []string{
	"", " ", "  ", "\n", "\n\n", " \n ", "\t\t x", "a  b   c    d", "trailing spaces   ", "   leading",
	"don't", "I'll", "we're", "they've", "I'm", "he'd", "it's", "'s", "'", "''", "'''s", " 's", "x's'", "DON'T", "'re've",
	"rock 'n' roll", "O'Neil's", "’s curly", "3.14159", "Total: 2211. The total is 3150.05 (v1.2.30..4, ٣.٤, ½.5, x.5 .5 5-.5)", "1,000,000", "2024-05-01T10:30:00Z", "0x1F", "+1 (555) 010-9999",
	"x1y2z3", "abc123def", "１２３ fullwidth", "Ⅻ roman", "½ ¾ ²", "٣٤٥ arabic digits", "...", "!!!", "?!?", "--", "(){}[]",
	"a\u00a0b", "a\u3000b", "a\u2028b", "a\u0085b", "a\r\nb", "\u200d", "e\u0301", "é", "ß", "Ω≈ç√∫", "Привет, мир!",
	"مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "你好，世界！", "日本語のテキスト", "한국어 텍스트", "ภาษาไทย",
	"😀", "👍🏽", "👨\u200d👩\u200d👧", "🇫🇷🇩🇪", "I ❤️ Go", "emoji😀in😀words", "\uFFFD", "\x00\x01\x7f",
	"func main() {\n\tfmt.Println(\"hi\")\n}", "x := map[string]int{\"a\": 1}", "if (a && b) || !c { return }",
	`{"intent": "set_alarm", "slots": {"time": "7:30 am"}}`, `[{"name":"get_weather","arguments":{"city":"Paris"}}]`,
	"<|endoftext|>", "<|im_start|>user\nhi<|im_end|>", "a<|im_end|>b", "    indented code", "\t\ttabs",
	"https://example.com/path?q=1&r=two#frag", "user@example.com", "C:\\Users\\me", "$100.00 €50 £3 ¥4",
	// Words of 48 bytes and more take the heap merge path.
	strings.Repeat("a", 300), strings.Repeat("ab", 97), strings.Repeat("-", 120), strings.Repeat("=+", 40),
	strings.Repeat("1234567890", 9), strings.Repeat(" ", 70) + "x", strings.Repeat("\n", 64), strings.Repeat("\t ", 33),
	"Pneumonoultramicroscopicsilicovolcanoconiosis" + "Supercalifragilisticexpialidocious" + "antidisestablishmentarianism",
	strings.Repeat("中文字符", 20), strings.Repeat("😀", 30), strings.Repeat("éèê", 25) + "!",
}

// fragments feed randomLines; mixing them makes the boundaries the hand lines miss.
var fragments = [][]string{
	{"hello", "world", "The", "quick", "brown", "fox", "don't", "can't", "it's", "we'll", "they're", "I'd",
		"naïve", "café", "Straße", "über", "résumé", "ÀÉÎ", "Ελληνικά", "кошка", "数据", "テスト", "한글", "ไทย"},
	{"0", "7", "42", "3.14", "1,000", "2024", "-17", "1e-9", "0x2A", "12:30", "99%", "#3", "v1.2.3", "٣", "５"},
	{".", ",", "!", "?", "...", "--", "'", "\"", "(", ")", "[", "]", "{", "}", ":", ";", "/", "\\", "@", "#", "&&",
		"=>", "->", "::", "!=", "`", "~", "^", "*", "<", ">", "|", "$", "%", "+", "=", "«", "»", "—", "…", "’"},
	{" ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\n ", "\u00a0", "\u3000", "\u2009", "\v", "\f"},
	{"😀", "👍", "👍🏽", "🚀", "❤️", "🇯🇵", "👩\u200d💻", "✓", "★", "∑", "∞", "€", "©"},
	{"func", "return", "err != nil", "x := y", "fmt.Sprintf(\"%d\", n)", "for i := 0; i < n; i++", "if", "else",
		"def f(x):", "print(x)", "int main(void)", "SELECT * FROM t;", "<div class=\"a\">", "});", "/* c */", "// note"},
}

// randomLines returns n seeded random mixes of fragments.
func randomLines(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 0x70c))
	lines := make([]string, n)
	for i := range lines {
		var sb strings.Builder
		for range 1 + r.IntN(24) {
			group := fragments[r.IntN(len(fragments))]
			sb.WriteString(group[r.IntN(len(group))])
			if r.IntN(3) > 0 {
				sb.WriteByte(' ')
			}
		}
		lines[i] = sb.String()
	}
	return lines
}

var (
	builtinOnce  sync.Once
	builtinCache []string
	builtinErr   error
)

// builtinLines returns the inputs and targets of small datasets that the
// builtin teacher writes for all three tasks (computed once per test binary).
func builtinLines(t testing.TB) []string {
	t.Helper()
	builtinOnce.Do(func() { builtinCache, builtinErr = makeBuiltinLines() })
	if builtinErr != nil {
		t.Fatalf("builtin corpus: %v", builtinErr)
	}
	return builtinCache
}

func makeBuiltinLines() ([]string, error) {
	cat, err := schemas.Load()
	if err != nil {
		return nil, err
	}
	teacher := builtin.New(cat)
	var lines []string
	specs := []generator.Spec{
		{Task: schemas.EdgeJSON, Counts: map[string]int{"train": 600}, Seed: 1},
		{Task: schemas.EdgeIntent, Variant: "50", Counts: map[string]int{"train": 600}, Seed: 2},
		{Task: schemas.EdgeFuncCall, Counts: map[string]int{"train": 600}, Seed: 3},
	}
	for _, spec := range specs {
		plan, err := generator.NewPlan(cat, spec)
		if err != nil {
			return nil, err
		}
		for i, cq := range plan.Cells {
			r := rand.New(rand.NewPCG(uint64(spec.Seed), uint64(i)))
			for k := range cq.Quota["train"] {
				s, err := generator.SampleTarget(cat, cq.Cell, r)
				if err != nil {
					continue // a scenario some functions cannot have
				}
				req := generator.Request{Mode: generator.LabelFirst, Sample: s, Seed: int64(i*1000 + k)}
				resp, err := teacher.Write(context.Background(), req)
				if err != nil {
					continue
				}
				lines = append(lines, resp.Input, string(s.Target))
			}
		}
	}
	return lines, nil
}

// sourceLines returns the lines of this repository's Go sources in dirs
// (relative to the package), as a code corpus.
func sourceLines(t testing.TB, dirs ...string) []string {
	t.Helper()
	var lines []string
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*.go"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatalf("read %s: %v", f, err)
			}
			lines = append(lines, strings.Split(string(data), "\n")...)
		}
	}
	return lines
}

// clincLines returns CLINC150's utterances when MLMFORGE_EXTERNAL_DATA is set,
// else nil.
func clincLines(t testing.TB) []string {
	t.Helper()
	dir := os.Getenv("MLMFORGE_EXTERNAL_DATA")
	if dir == "" {
		return nil
	}
	path := filepath.Join(dir, "clinc150", "data_full.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var splits map[string][][2]json.RawMessage
	if err := json.Unmarshal(data, &splits); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	var lines []string
	for _, name := range []string{"train", "val", "test", "oos_train", "oos_val", "oos_test"} {
		for _, ex := range splits[name] {
			var s string
			if err := json.Unmarshal(ex[0], &s); err != nil {
				t.Fatalf("%s: %s: %v", path, name, err)
			}
			lines = append(lines, s)
		}
	}
	return lines
}
