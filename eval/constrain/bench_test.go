package constrain

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"

	tiktoken "github.com/tiktoken-go/tokenizer"

	"github.com/cyclecore/mlmforge/distill/tokenizer"
	"github.com/cyclecore/mlmforge/internal/testutil/records"
	"github.com/cyclecore/mlmforge/schemas"
)

// gpt2Vocab49152 is a 49152-token vocabulary (SmolLM2's size): GPT-2's first
// 49151 tokens (r50k_base, from tiktoken-go) and an EOS control token.
var gpt2Vocab49152 = sync.OnceValues(func() (*fakeVocab, error) {
	codec, err := tiktoken.Get(tiktoken.R50kBase)
	if err != nil {
		return nil, err
	}
	const size = 49152
	v := &fakeVocab{toks: make([]string, size), special: map[int]bool{size - 1: true}, eos: size - 1}
	for id := range size - 1 {
		if v.toks[id], err = codec.Decode([]uint{uint(id)}); err != nil {
			return nil, err
		}
	}
	v.toks[size-1] = tokenizer.EndOfText
	return v, nil
})

// greedyEncode tokenizes s by longest match: any tokenization drives the
// mask the same way, since the hook only consumes bytes.
func greedyEncode(v *fakeVocab, s string) []int {
	ids := map[string]int{}
	longest := 0
	for id, tok := range v.toks {
		if tok != "" && !v.special[id] {
			ids[tok] = id
			longest = max(longest, len(tok))
		}
	}
	var out []int
	for s != "" {
		for n := min(longest, len(s)); n > 0; n-- {
			if id, ok := ids[s[:n]]; ok {
				out = append(out, id)
				s = s[n:]
				break
			}
		}
	}
	return out
}

// benchMask replays the tokens of each answer through a fresh hook and
// reports the mean time of one hook call (one decode step) in ns/step.
func benchMask(b *testing.B, v Vocab, encode func(string) []int) {
	cases := goldCases(b, 30)
	type replay struct {
		m   *Masker
		ids []int
	}
	var replays []replay
	maskers := map[string]*Masker{}
	for _, c := range cases {
		m := maskers[string(c.schema)]
		if m == nil {
			var err error
			if m, err = NewMasker(v, c.schema); err != nil {
				b.Fatal(err)
			}
			maskers[string(c.schema)] = m
		}
		replays = append(replays, replay{m, encode(c.answer)})
	}
	logits := make([]float32, v.VocabSize())
	steps := 0
	b.ResetTimer()
	for b.Loop() {
		for _, r := range replays {
			hook := r.m.Hook()
			for i := 0; i <= len(r.ids); i++ {
				hook(r.ids[:i], logits)
				steps++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
	b.ReportMetric(float64(steps)/float64(b.N), "steps/op")
}

// BenchmarkMask measures the mask computation per decode step on gold
// answers of the three tasks, for vocabularies of 2048 (trained on the
// records) and 49152 (GPT-2's tokens).
func BenchmarkMask(b *testing.B) {
	b.Run("vocab2048", func(b *testing.B) {
		tok := trainedSize(b, 2048)
		benchMask(b, tok, tok.Encode)
	})
	b.Run("vocab49152", func(b *testing.B) {
		v, err := gpt2Vocab49152()
		if err != nil {
			b.Fatal(err)
		}
		benchMask(b, v, func(s string) []int { return greedyEncode(v, s) })
	})
}

// BenchmarkNewMasker measures the one-time cost of a masker (schema compile,
// token bytes, trie) for GPT-2's 49152 tokens and the function-call schema.
func BenchmarkNewMasker(b *testing.B) {
	v, err := gpt2Vocab49152()
	if err != nil {
		b.Fatal(err)
	}
	schema := funcCallSchema(b)
	for b.Loop() {
		if _, err := NewMasker(v, json.RawMessage(schema)); err != nil {
			b.Fatal(err)
		}
	}
}

// trainedSize trains a tokenizer of the given size on builtin records.
func trainedSize(t testing.TB, size int) *tokenizer.Tokenizer {
	t.Helper()
	var lines []string
	for _, task := range []schemas.Task{schemas.EdgeJSON, schemas.EdgeIntent, schemas.EdgeFuncCall} {
		for _, r := range records.Builtin(t, task, "", 300) {
			lines = append(lines, r.Input, r.Target)
		}
	}
	tok, err := tokenizer.Train(slices.Values(lines), tokenizer.TrainConfig{VocabSize: size, SpecialTokens: tokenizer.DefaultSpecialTokens(true)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
