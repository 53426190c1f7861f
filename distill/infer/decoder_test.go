package infer

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

// maxDiff is the largest |got - want| over two logit tables, and the largest |want|.
func maxDiff(got [][]float32, want [][]float64) (diff, scale float64) {
	for t := range want {
		for i := range want[t] {
			diff = math.Max(diff, math.Abs(float64(got[t][i])-want[t][i]))
			scale = math.Max(scale, math.Abs(want[t][i]))
		}
	}
	return diff, scale
}

func TestForwardMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		name string
		tied bool
		n    int
	}{{"tied/short", true, 9}, {"untied/two-chunks", false, 70}, {"tied/max-seq", true, 96}} {
		t.Run(tc.name, func(t *testing.T) {
			c := tinyDecoder(tc.tied)
			w := testWeights(c, 11, 8)
			d, err := NewDecoder(c, w)
			if err != nil {
				t.Fatal(err)
			}
			tokens := randTokens(rand.New(rand.NewPCG(1, 2)), tc.n, c.Vocab)
			got := d.Forward(tokens)
			diff, scale := maxDiff(got, refLogits(c, w, tokens))
			t.Logf("max |logit - reference| = %.2e (max |logit| %.2f)", diff, scale)
			if scale < 1 {
				t.Fatalf("logits span only %.3f: the test weights are too weak to catch errors", scale)
			}
			if diff > 1e-4 {
				t.Errorf("max error %.2e > 1e-4", diff)
			}
		})
	}
}

// greedyByForward is the definition of greedy decoding: rerun the whole sequence, take
// the argmax of the last position.
func greedyByForward(d *Decoder, prompt []int, n int, ban func(int) bool) []int {
	seq := slices.Clone(prompt)
	var out []int
	for len(out) < n && len(seq) < d.Config().MaxSeq+1 {
		last := d.Forward(seq)[len(seq)-1]
		for i := range last {
			if ban != nil && ban(i) {
				last[i] = float32(math.Inf(-1))
			}
		}
		tok := argmax(last)
		out = append(out, tok)
		seq = append(seq, tok)
		if len(seq) > d.Config().MaxSeq {
			break
		}
	}
	return out
}

func TestGenerateIsGreedyForward(t *testing.T) {
	c := tinyDecoder(true)
	d, err := NewDecoder(c, testWeights(c, 5, 8))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, plen := range []int{1, 6, 66} {
		prompt := randTokens(rng, plen, c.Vocab)
		got, st, err := d.Generate(context.Background(), prompt, GenerateOptions{MaxNewTokens: 24})
		if err != nil {
			t.Fatal(err)
		}
		want := greedyByForward(d, prompt, 24, nil)
		if !slices.Equal(got, want) {
			t.Errorf("prompt %d: Generate %v, repeated Forward %v", plen, got, want)
		}
		if st.PromptTokens != plen || st.GeneratedTokens != 24 || st.DecodeSteps != 23 || st.StopReason != StopMaxNewTokens {
			t.Errorf("prompt %d: stats %+v", plen, st)
		}
	}
}

func TestSessionAppendMatchesForward(t *testing.T) {
	c := tinyDecoder(false)
	d, err := NewDecoder(c, testWeights(c, 6, 8))
	if err != nil {
		t.Fatal(err)
	}
	tokens := randTokens(rand.New(rand.NewPCG(5, 6)), 90, c.Vocab)
	want := d.Forward(tokens)
	s := d.NewSession()
	defer s.Close()
	// Pieces of 1, 3 and 70 tokens: the cache grows several times and a piece spans
	// two prefill chunks.
	for _, cut := range [][2]int{{0, 1}, {1, 4}, {4, 74}, {74, 75}, {75, 90}} {
		logits, err := s.Append(tokens[cut[0]:cut[1]])
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range want[cut[1]-1] {
			if math.Abs(float64(v-logits[i])) > 1e-5 {
				t.Fatalf("after %d tokens: logit %d cached %g, full %g", cut[1], i, logits[i], v)
			}
		}
	}
	if _, err := s.Append(tokens[:7]); err == nil {
		t.Error("appending past max_position_embeddings: no error")
	}
	if _, err := s.Append([]int{c.Vocab}); err == nil {
		t.Error("token outside the vocabulary: no error")
	}
}

func TestLogitsProcessor(t *testing.T) {
	c := tinyDecoder(true)
	d, err := NewDecoder(c, testWeights(c, 7, 8))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	prompt := randTokens(rand.New(rand.NewPCG(7, 8)), 5, c.Vocab)
	free, _, err := d.Generate(ctx, prompt, GenerateOptions{MaxNewTokens: 12})
	if err != nil {
		t.Fatal(err)
	}

	// Forbid every token the free run produced, and check what the hook is shown.
	banned := map[int]bool{}
	for _, tok := range free {
		banned[tok] = true
	}
	var seen [][]int
	hook := func(generated []int, logits []float32) {
		seen = append(seen, slices.Clone(generated))
		for tok := range banned {
			logits[tok] = float32(math.Inf(-1))
		}
	}
	got, _, err := d.Generate(ctx, prompt, GenerateOptions{MaxNewTokens: 12, LogitsProcessor: hook})
	if err != nil {
		t.Fatal(err)
	}
	if want := greedyByForward(d, prompt, 12, func(i int) bool { return banned[i] }); !slices.Equal(got, want) {
		t.Errorf("masked Generate %v, masked repeated Forward %v", got, want)
	}
	for i, g := range seen {
		if !slices.Equal(g, got[:i]) {
			t.Errorf("hook call %d saw %v, want %v", i, g, got[:i])
		}
	}

}

func TestGenerateStops(t *testing.T) {
	c := tinyDecoder(true)
	d, err := NewDecoder(c, testWeights(c, 7, 8))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	prompt := randTokens(rand.New(rand.NewPCG(7, 8)), 5, c.Vocab)
	free, _, err := d.Generate(ctx, prompt, GenerateOptions{MaxNewTokens: 12})
	if err != nil {
		t.Fatal(err)
	}
	// A stop token ends generation and is not returned.
	out, st, err := d.Generate(ctx, prompt, GenerateOptions{MaxNewTokens: 12, StopTokens: []int{free[3]}})
	if err != nil {
		t.Fatal(err)
	}
	if stop := slices.Index(free, free[3]); !slices.Equal(out, free[:stop]) || st.StopReason != StopToken {
		t.Errorf("stop at %d: got %v (%s), free run %v", free[3], out, st.StopReason, free)
	}

	// The sequence cannot outgrow MaxSeq.
	long := randTokens(rand.New(rand.NewPCG(9, 9)), c.MaxSeq-2, c.Vocab)
	out, st, err = d.Generate(ctx, long, GenerateOptions{MaxNewTokens: 10})
	if err != nil || len(out) != 3 || st.StopReason != StopMaxSeq {
		t.Errorf("at max_seq: %d tokens, %q, %v; want 3 tokens, %q", len(out), st.StopReason, err, StopMaxSeq)
	}

	maskAll := func(_ []int, logits []float32) {
		for i := range logits {
			logits[i] = float32(math.Inf(-1))
		}
	}
	if _, _, err := d.Generate(ctx, prompt, GenerateOptions{MaxNewTokens: 3, LogitsProcessor: maskAll}); err == nil {
		t.Error("every token masked: no error")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := d.Generate(cancelled, prompt, GenerateOptions{MaxNewTokens: 3}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	for _, bad := range []struct {
		prompt []int
		max    int
	}{{nil, 3}, {prompt, 0}, {[]int{-1}, 3}, {make([]int, c.MaxSeq+1), 3}} {
		if _, _, err := d.Generate(ctx, bad.prompt, GenerateOptions{MaxNewTokens: bad.max}); err == nil {
			t.Errorf("prompt of %d tokens, max %d: no error", len(bad.prompt), bad.max)
		}
	}
}

func TestDecodeStepDoesNotAllocate(t *testing.T) {
	for _, tc := range []struct{ quant, pointer bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		c := tinyDecoder(true)
		c.Pointer = tc.pointer
		quant := tc.quant
		w := testWeights(c, 8, 8)
		d, err := NewDecoder(c, w)
		if quant {
			d, err = NewDecoderQuantized(c, Quantize(w))
		}
		if err != nil {
			t.Fatal(err)
		}
		s := d.NewSession()
		s.ensure(c.MaxSeq)
		if _, err := s.Append([]int{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		tok := []int{4}
		allocs := testing.AllocsPerRun(50, func() {
			if _, err := s.Append(tok); err != nil {
				t.Fatal(err)
			}
		})
		s.Close()
		if allocs != 0 {
			t.Errorf("quantized=%t pointer=%t: %.1f allocations per decode step", quant, tc.pointer, allocs)
		}
	}
}

func TestNewDecoderRejects(t *testing.T) {
	c := tinyDecoder(true)
	w := model.Init(c, 1)
	if _, err := NewDecoder(tinyEncoder(model.PoolMean), model.Init(tinyEncoder(model.PoolMean), 1)); err == nil {
		t.Error("encoder config: no error")
	}
	delete(w, "model.norm.weight")
	if _, err := NewDecoder(c, w); err == nil {
		t.Error("missing tensor: no error")
	}
}
