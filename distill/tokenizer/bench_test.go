package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

// benchText is about 1 MB of varied text: builtin datasets (inputs and JSON
// targets), random mixes and Go source.
func benchText(b *testing.B) string {
	lines := slices.Concat(builtinLines(b), randomLines(3000, 31), sourceLines(b, ".", "../../schemas"))
	return strings.Join(lines, "\n")
}

func benchEncode(b *testing.B, tok *Tokenizer, cold bool) {
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	tok.Encode(text)
	b.ResetTimer()
	for b.Loop() {
		if cold {
			tok.cache.reset()
		}
		tok.Encode(text)
	}
}

// BenchmarkEncode measures encode throughput (MB/s) with the word cache warm,
// the steady state of a data loader.
func BenchmarkEncode(b *testing.B) {
	gpt, _ := gpt2(b)
	b.Run("gpt2", func(b *testing.B) { benchEncode(b, gpt, false) })
	b.Run("trained2048", func(b *testing.B) { benchEncode(b, trained(b), false) })
}

// BenchmarkEncodeCold empties the word cache before every pass.
func BenchmarkEncodeCold(b *testing.B) {
	gpt, _ := gpt2(b)
	b.Run("gpt2", func(b *testing.B) { benchEncode(b, gpt, true) })
	b.Run("trained2048", func(b *testing.B) { benchEncode(b, trained(b), true) })
}

// BenchmarkTiktokenEncode is the reference implementation on the same text.
func BenchmarkTiktokenEncode(b *testing.B) {
	_, codec := gpt2(b)
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, _, err := codec.Encode(text); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrain8192 trains a vocabulary of 8192 on about 20k lines: CLINC150's
// 23.7k utterances when MLMFORGE_EXTERNAL_DATA is set, else builtin datasets
// and random mixes.
func BenchmarkTrain8192(b *testing.B) {
	lines := clincLines(b)
	if lines == nil {
		lines = slices.Concat(builtinLines(b), randomLines(16000, 41))
	}
	vocab := 0
	for b.Loop() {
		tok, err := Train(slices.Values(lines), TrainConfig{VocabSize: 8192, SpecialTokens: DefaultSpecialTokens(true)})
		if err != nil {
			b.Fatal(err)
		}
		vocab = tok.VocabSize()
	}
	b.ReportMetric(float64(len(lines)), "lines")
	b.ReportMetric(float64(vocab), "vocab")
}
