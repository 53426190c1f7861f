package export

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
)

// corpus trains the test tokenizer: a few lines in the students' prompt style.
var corpus = []string{
	"Extract the order as JSON: Alice ordered 3 apples and 12 pears on 2024-05-01.",
	"Classify the intent: what's the weather like in Paris tomorrow?",
	"Call the function: set an alarm for 7:30 am on weekdays, please.",
	"{\"name\": \"set_alarm\", \"arguments\": {\"time\": \"07:30\", \"days\": [\"mon\", \"tue\"]}}",
	"The quick brown fox jumps over the lazy dog; the dog sleeps.",
	"book a table for two at the italian restaurant tonight",
	"transfer 250 dollars from checking to savings account",
}

// sampleTexts are encoded by both tokenizers of a round trip.
var sampleTexts = []string{
	"Extract the order as JSON: Bob ordered 7 plums.",
	"what's the weather in Berlin? ünïcödé and\ttabs\n\nnewlines",
	"<|im_start|>user\nset an alarm<|im_end|>\n<|im_start|>assistant\n",
	"",
}

var (
	tokOnce sync.Once
	tok     *tokenizer.Tokenizer
	tokErr  error
)

// testTokenizer is a SmolLM2-style tokenizer of ~300 ids trained once per test binary.
func testTokenizer(t testing.TB) *tokenizer.Tokenizer {
	t.Helper()
	tokOnce.Do(func() {
		tok, tokErr = tokenizer.Train(slices.Values(corpus), tokenizer.TrainConfig{
			VocabSize: 300, SpecialTokens: tokenizer.DefaultSpecialTokens(true)})
	})
	if tokErr != nil {
		t.Fatalf("train tokenizer: %v", tokErr)
	}
	return tok
}

// tinyModel is a random 2-layer GQA decoder (d 64, 4 query heads, 2 KV heads) whose
// embedding has pad rows past the tokenizer. Weights are scaled up from model.Init and
// the norms randomised, so that attention is far from uniform and a wrong RoPE pairing
// or a swapped tensor shows in the logits.
func tinyModel(t testing.TB, tied bool, pad int, seed uint64) *Model {
	t.Helper()
	tk := testTokenizer(t)
	c := model.Config{Arch: model.ArchDecoder, Vocab: tk.VocabSize() + pad, Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2,
		Intermediate: 96, MaxSeq: 32, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: tied}
	w := model.Init(c, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for name, tn := range w {
		for i := range tn.Data {
			if strings.HasSuffix(name, "norm.weight") {
				tn.Data[i] = float32(0.5 + rng.Float64())
			} else {
				tn.Data[i] *= 8
			}
		}
	}
	return &Model{Config: c, Weights: w, Tokenizer: tk, Roles: tk.Roles()}
}

// withLineage gives m the lineage of a student trained on compact prompts.
func withLineage(m *Model) *Model {
	m.Lineage = map[string]string{"prompt_style": "compact", "dataset": "edgejson@v1", "teacher": "builtin"}
	return m
}

// tinyEncoder is a random encoder classifier with labels.
func tinyEncoder(t testing.TB) *Model {
	t.Helper()
	tk := testTokenizer(t)
	c := model.Config{Arch: model.ArchEncoder, Vocab: tk.VocabSize(), Hidden: 32, Layers: 2, Heads: 4, KVHeads: 2,
		Intermediate: 64, MaxSeq: 32, RopeTheta: 10000, NormEps: 1e-5, NumClasses: 3, Pooling: model.PoolMean}
	return &Model{Config: c, Weights: model.Init(c, 7), Tokenizer: tk, Labels: []string{"alarm", "weather", "other"}}
}

// requireSameWeights fails unless got holds exactly the tensors of want, bit for bit.
func requireSameWeights(t *testing.T, got, want model.Weights) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d tensors, want %d", len(got), len(want))
	}
	for name, wt := range want {
		gt, ok := got[name]
		if !ok {
			t.Fatalf("tensor %s: missing", name)
		}
		if !slices.Equal(gt.Shape, wt.Shape) {
			t.Fatalf("tensor %s: shape %v, want %v", name, gt.Shape, wt.Shape)
		}
		for i := range wt.Data {
			if math.Float32bits(gt.Data[i]) != math.Float32bits(wt.Data[i]) {
				t.Fatalf("tensor %s[%d] = %g, want %g (bit-exact)", name, i, gt.Data[i], wt.Data[i])
			}
		}
	}
}

// requireSameTokenizer fails unless both tokenizers give the same ids, vocabulary,
// merges and special tokens.
func requireSameTokenizer(t *testing.T, got, want *tokenizer.Tokenizer) {
	t.Helper()
	if got.VocabSize() != want.VocabSize() || got.NumMerges() != want.NumMerges() {
		t.Fatalf("vocab %d merges %d, want %d and %d", got.VocabSize(), got.NumMerges(), want.VocabSize(), want.NumMerges())
	}
	if !slices.Equal(got.AddedTokens(), want.AddedTokens()) {
		t.Fatalf("added tokens %+v, want %+v", got.AddedTokens(), want.AddedTokens())
	}
	if got.Roles() != want.Roles() {
		t.Fatalf("roles %+v, want %+v", got.Roles(), want.Roles())
	}
	for id := range want.VocabSize() {
		g, _ := got.Token(id)
		w, _ := want.Token(id)
		if g != w {
			t.Fatalf("token %d = %q, want %q", id, g, w)
		}
	}
	for _, s := range slices.Concat(sampleTexts, corpus) {
		if g, w := got.EncodeWithSpecial(s), want.EncodeWithSpecial(s); !slices.Equal(g, w) {
			t.Fatalf("encode %q: %v, want %v", s, g, w)
		}
	}
}

// maxAbsDiff is the largest |a[i] - b[i]|.
func maxAbsDiff(a, b []float64) float64 {
	var m float64
	for i := range a {
		m = max(m, math.Abs(a[i]-b[i]))
	}
	return m
}
