package tokenizer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var (
	trainedOnce sync.Once
	trainedTok  *Tokenizer
	trainedErr  error
)

// trainCorpus is the test training corpus: builtin datasets, random mixes and
// the hand-made corner cases.
func trainCorpus(t testing.TB) []string {
	return slices.Concat(builtinLines(t), randomLines(2000, 3), handLines)
}

// trained returns a SmolLM2-style tokenizer of 2048 ids trained once per test
// binary on trainCorpus, with <pad>.
func trained(t testing.TB) *Tokenizer {
	t.Helper()
	corpus := trainCorpus(t)
	trainedOnce.Do(func() {
		trainedTok, trainedErr = Train(slices.Values(corpus), TrainConfig{VocabSize: 2048, SpecialTokens: DefaultSpecialTokens(true)})
	})
	if trainedErr != nil {
		t.Fatalf("train: %v", trainedErr)
	}
	return trainedTok
}

func mustJSON(t testing.TB, tok *Tokenizer) []byte {
	t.Helper()
	data, err := tok.MarshalJSON()
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return data
}

// TestTrainTextbook is the worked example of the Hugging Face course:
// hug×10 pug×5 pun×12 bun×4 hugs×5 merges (u,g), (u,n), (h,ug) first.
func TestTrainTextbook(t *testing.T) {
	var corpus []string
	for w, n := range map[string]int{"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5} {
		for range n {
			corpus = append(corpus, w)
		}
	}
	tok, err := Train(slices.Values(corpus), TrainConfig{VocabSize: 256 + 3, PreTokenizer: GPT2PreTokenizer()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range tok.model.mergeList {
		got = append(got, tok.model.tokens[m[0]]+" "+tok.model.tokens[m[1]])
	}
	if want := []string{"u g", "u n", "h ug"}; !slices.Equal(got, want) {
		t.Errorf("merges %q, want %q", got, want)
	}
	if ids := tok.Encode("hugs"); len(ids) != 2 || tok.Decode(ids[:1]) != "hug" {
		t.Errorf("Encode(hugs) = %v", ids)
	}
}

// TestTrainTies checks that equal counts go to the smaller pair of ids.
func TestTrainTies(t *testing.T) {
	tok, err := Train(slices.Values([]string{"cd", "ab", "yz"}), TrainConfig{VocabSize: 257, PreTokenizer: GPT2PreTokenizer()})
	if err != nil {
		t.Fatal(err)
	}
	if tok.NumMerges() != 1 || tok.model.tokens[256] != "ab" {
		t.Errorf("first merge makes %q, want \"ab\"", tok.model.tokens[256:])
	}
}

func TestTrainDeterministic(t *testing.T) {
	corpus := slices.Concat(builtinLines(t)[:1500], randomLines(500, 9))
	cfg := TrainConfig{VocabSize: 1024, SpecialTokens: DefaultSpecialTokens(false)}
	a, err := Train(slices.Values(corpus), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Word counts do not depend on line order, so neither may the result.
	shuffled := slices.Clone(corpus)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b, err := Train(slices.Values(shuffled), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustJSON(t, a), mustJSON(t, b)) {
		t.Error("training on the same lines in another order gives another tokenizer")
	}
}

func TestTrainVocabAndSpecials(t *testing.T) {
	tok := trained(t)
	if got := tok.VocabSize(); got != 2048 {
		t.Errorf("vocab size %d, want 2048", got)
	}
	for i, s := range DefaultSpecialTokens(true) {
		if id, ok := tok.TokenID(s); !ok || id != i || !tok.IsSpecial(id) {
			t.Errorf("%s: id %d special %v, want id %d special", s, id, tok.IsSpecial(id), i)
		}
		if ids := tok.EncodeWithSpecial("x" + s + "y"); !slices.Contains(ids, i) {
			t.Errorf("EncodeWithSpecial keeps %s apart: %v", s, ids)
		}
	}
	// The corpus holds "<|im_end|>" as text; no merge may rebuild it.
	for id := range tok.VocabSize() {
		if s, _ := tok.Token(id); strings.Contains(s, "<|") && !tok.IsSpecial(id) {
			t.Errorf("token %d %q contains a special token's start", id, s)
		}
	}
	for b := range 256 {
		if tok.model.byteIDs[b] < 0 {
			t.Errorf("byte %#x missing", b)
		}
	}
}

// TestTrainCompresses checks that the trained tokenizer needs far fewer
// tokens than bytes on its own corpus (individual digits keep JSON numbers at
// one token per digit), and fewer than one of a quarter size.
func TestTrainCompresses(t *testing.T) {
	corpus := builtinLines(t)
	tok := trained(t)
	small, err := Train(slices.Values(trainCorpus(t)), TrainConfig{VocabSize: 512, SpecialTokens: DefaultSpecialTokens(true)})
	if err != nil {
		t.Fatal(err)
	}
	nBytes, nBig, nSmall := 0, 0, 0
	for _, line := range corpus {
		nBytes += len(line)
		nBig += len(tok.Encode(line))
		nSmall += len(small.Encode(line))
	}
	t.Logf("%d bytes: %d tokens at 2048 ids (%.2f bytes/token), %d at 512", nBytes, nBig, float64(nBytes)/float64(nBig), nSmall)
	if float64(nBytes)/float64(nBig) < 2.2 {
		t.Errorf("%.2f bytes per token, want at least 2.2", float64(nBytes)/float64(nBig))
	}
	if nBig >= nSmall {
		t.Errorf("2048 ids give %d tokens, 512 ids %d", nBig, nSmall)
	}
}

func TestTrainMinFrequency(t *testing.T) {
	corpus := slices.Concat(slices.Repeat([]string{"alpha beta"}, 5), []string{"gamma delta"})
	tok, err := Train(slices.Values(corpus), TrainConfig{VocabSize: 1000, MinFrequency: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode(" beta"); len(got) != 1 {
		t.Errorf("frequent word split into %v", got)
	}
	if got := tok.Encode("gamma"); len(got) != 5 {
		t.Errorf("rare word merged: %v", got)
	}
	if tok.VocabSize() >= 1000 {
		t.Errorf("min frequency did not stop training: %d ids", tok.VocabSize())
	}
}

func TestTrainErrors(t *testing.T) {
	for _, cfg := range []TrainConfig{
		{VocabSize: 258, SpecialTokens: DefaultSpecialTokens(true)},
		{VocabSize: 1000, SpecialTokens: []string{"<a>", "<a>"}},
		{VocabSize: 1000, SpecialTokens: []string{""}},
	} {
		if _, err := Train(slices.Values([]string{"x"}), cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

// TestStudentDecimalPoints: with StudentPreTokenizer a trained vocabulary
// holds the decimal points as tokens of their own (".0" to ".9"), so the
// full stop after "2211." and the point of "3150.05" get different ids; the
// setting survives a save and load, and a combination it cannot honour is
// refused.
func TestStudentDecimalPoints(t *testing.T) {
	var corpus []string
	for i := range 400 {
		corpus = append(corpus, fmt.Sprintf("The total is %d.%02d. Paid %d. The end.", 100+i, i%100, 7*i))
	}
	tok, err := Train(slices.Values(corpus), TrainConfig{VocabSize: 400, SpecialTokens: DefaultSpecialTokens(true),
		PreTokenizer: StudentPreTokenizer()})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := tok.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range []*Tokenizer{tok, loaded} {
		text := func(ids []int) []string {
			var out []string
			for _, id := range ids {
				out = append(out, tk.Decode([]int{id}))
			}
			return out
		}
		if got, want := text(tk.Encode("3150.05")), []string{"3", "1", "5", "0", ".0", "5"}; !slices.Equal(got, want) {
			t.Errorf("3150.05 = %q, want %q", got, want)
		}
		if got, want := text(tk.Encode("2211. The")), []string{"2", "2", "1", "1", ".", " ", "The"}; !slices.Equal(got, want) {
			t.Errorf("2211. The = %q, want %q", got, want)
		}
	}
	if loaded.pre != tok.pre || !loaded.pre.DecimalPoints {
		t.Errorf("loaded pre-tokenizer %+v, saved %+v", loaded.pre, tok.pre)
	}
	bad := StudentPreTokenizer()
	bad.IsolateStructure = false
	if _, err := New([]string{"a"}, nil, nil, bad); err == nil || !strings.Contains(err.Error(), "decimal_points") {
		t.Errorf("decimal points without the structure split: %v, want an error naming decimal_points", err)
	}
}
