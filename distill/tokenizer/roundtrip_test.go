package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// randomBytes returns seeded strings of arbitrary bytes, mostly invalid UTF-8.
func randomBytes(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 0xb17e5))
	out := make([]string, n)
	for i := range out {
		b := make([]byte, r.IntN(80))
		for j := range b {
			b[j] = byte(r.UintN(256))
		}
		out[i] = string(b)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	gpt, _ := gpt2(t)
	lines := slices.Concat(handLines, randomLines(1000, 11), randomBytes(1000, 12), builtinLines(t)[:500])
	for name, tok := range map[string]*Tokenizer{"gpt2": gpt, "trained": trained(t)} {
		for _, line := range lines {
			if got := tok.Decode(tok.Encode(line)); got != line {
				t.Fatalf("%s: Decode(Encode(%q)) = %q", name, line, got)
			}
			if got := tok.Decode(tok.EncodeWithSpecial(line)); got != line {
				t.Fatalf("%s: Decode(EncodeWithSpecial(%q)) = %q", name, line, got)
			}
		}
	}
}

// TestMergeHeapMatchesScan runs both merge loops and the textbook one on every
// word of the corpus, short and long.
func TestMergeHeapMatchesScan(t *testing.T) {
	gpt, _ := gpt2(t)
	words := slices.Concat(handLines, randomBytes(300, 5))
	for _, line := range randomLines(300, 4) {
		words = append(words, strings.ReplaceAll(line, " ", ""))
	}
	for _, tok := range []*Tokenizer{gpt, trained(t)} {
		for _, w := range words {
			syms := make([]int32, len(w))
			for i := range len(w) {
				syms[i] = tok.model.byteIDs[w[i]]
			}
			if len(syms) == 0 {
				continue
			}
			ref := naiveMerge(tok, slices.Clone(syms))
			if scan := tok.model.mergeScan(slices.Clone(syms)); !slices.Equal(scan, ref) {
				t.Fatalf("%q: scan %v, reference %v", w, scan, ref)
			}
			if hp := tok.model.mergeHeap(slices.Clone(syms)); !slices.Equal(hp, ref) {
				t.Fatalf("%q: heap %v, reference %v", w, hp, ref)
			}
		}
	}
}

// naiveMerge is the textbook loop: merge the lowest-rank pair, leftmost first.
func naiveMerge(tok *Tokenizer, syms []int32) []int32 {
	for {
		best, at := merge{rank: 1 << 30}, -1
		for i := 0; i+1 < len(syms); i++ {
			if r := tok.model.rankOf(syms[i], syms[i+1]); r.rank < best.rank {
				best, at = r, i
			}
		}
		if at < 0 {
			return syms
		}
		syms[at] = best.id
		syms = slices.Delete(syms, at+1, at+2)
	}
}

func TestSpecialTokens(t *testing.T) {
	tok := trained(t)
	end, _ := tok.TokenID(IMEnd)
	start, _ := tok.TokenID(IMStart)
	text := "hi" + IMEnd + IMStart + "there"
	if ids := tok.Encode(text); slices.Contains(ids, end) || slices.Contains(ids, start) {
		t.Errorf("Encode recognised a special token in plain text: %v", ids)
	}
	ids := tok.EncodeWithSpecial(text)
	want := slices.Concat(tok.Encode("hi"), []int{end, start}, tok.Encode("there"))
	if !slices.Equal(ids, want) {
		t.Errorf("EncodeWithSpecial = %v, want %v", ids, want)
	}
	if got := tok.DecodeSkipSpecial(ids); got != "hithere" {
		t.Errorf("DecodeSkipSpecial = %q", got)
	}
	if got := tok.Decode([]int{-1, end, tok.VocabSize()}); got != IMEnd {
		t.Errorf("Decode with unknown ids = %q, want %q", got, IMEnd)
	}
	if _, err := tok.DecodeBytes([]int{end, tok.VocabSize()}); err == nil || !strings.Contains(err.Error(), "ids[1]") {
		t.Errorf("DecodeBytes error %v, want one naming ids[1]", err)
	}
}

// TestLongestSpecialWins checks that overlapping added tokens match the
// leftmost, then the longest.
func TestLongestSpecialWins(t *testing.T) {
	added := []AddedToken{{ID: 256, Content: "<a>", Special: true}, {ID: 257, Content: "<a><b>", Special: true}}
	tok, err := New(byteVocab(), nil, added, GPT2PreTokenizer())
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.EncodeWithSpecial("x<a><b><a>")
	if want := []int{'x', 257, 256}; !slices.Equal(ids, want) {
		t.Errorf("got %v, want %v", ids, want)
	}
}

// byteVocab is the 256 single bytes at their own values as ids.
func byteVocab() []string {
	v := make([]string, 256)
	for b := range v {
		v[b] = string([]byte{byte(b)})
	}
	return v
}

// TestConcurrentEncode shares one tokenizer (and its cache) between goroutines.
func TestConcurrentEncode(t *testing.T) {
	tok := trained(t)
	lines := randomLines(400, 21)
	want := make([][]int, len(lines))
	for i, l := range lines {
		want[i] = tok.Encode(l)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range lines {
				j := (i + g*97) % len(lines)
				if got := tok.Encode(lines[j]); !slices.Equal(got, want[j]) {
					t.Errorf("goroutine %d: %q differs", g, lines[j])
					return
				}
			}
		})
	}
	wg.Wait()
	tok.cache.reset()
}

// FuzzRoundTrip checks Decode(Encode(s)) == s, that a saved and reloaded
// tokenizer encodes identically, and on valid UTF-8 that the GPT-2 rebuild
// agrees with tiktoken-go.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range handLines {
		f.Add(s)
	}
	f.Add("\xff\xfe\x00 invalid \xc3")
	f.Add("<|im_start|>user\n12 + 3<|im_end|>")
	f.Fuzz(func(t *testing.T, s string) {
		tok, reloaded := trained(t), reloadedTrained(t)
		gpt, codec := gpt2(t)
		ids := tok.Encode(s)
		if got := tok.Decode(ids); got != s {
			t.Fatalf("Decode(Encode(%q)) = %q", s, got)
		}
		if got := reloaded.Encode(s); !slices.Equal(got, ids) {
			t.Fatalf("reloaded Encode(%q) = %v, want %v", s, got, ids)
		}
		if got := tok.Decode(tok.EncodeWithSpecial(s)); got != s {
			t.Fatalf("Decode(EncodeWithSpecial(%q)) = %q", s, got)
		}
		gids := gpt.Encode(s)
		if got := gpt.Decode(gids); got != s {
			t.Fatalf("gpt2 Decode(Encode(%q)) = %q", s, got)
		}
		if utf8.ValidString(s) && !strings.Contains(s, "\x7f") {
			if want := tiktokenIDs(t, codec, s); !slices.Equal(gids, want) {
				t.Fatalf("gpt2 Encode(%q) = %v, tiktoken %v", s, gids, want)
			}
		}
	})
}

var (
	reloadOnce sync.Once
	reloadTok  *Tokenizer
	reloadErr  error
)

// reloadedTrained is trained() saved to tokenizer.json and parsed back.
func reloadedTrained(t testing.TB) *Tokenizer {
	t.Helper()
	tok := trained(t)
	reloadOnce.Do(func() {
		data, err := tok.MarshalJSON()
		if err != nil {
			reloadErr = err
			return
		}
		reloadTok, reloadErr = Parse(data, "trained.json")
	})
	if reloadErr != nil {
		t.Fatalf("reload: %v", reloadErr)
	}
	return reloadTok
}
