package generator

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/tiktoken-go/tokenizer"

	"github.com/cyclecore/mlmforge/generator/ollamatest"
	"github.com/cyclecore/mlmforge/schemas"
)

func TestClassCodesAreSingleTokens(t *testing.T) {
	encs := map[tokenizer.Encoding]tokenizer.Codec{}
	for _, name := range []tokenizer.Encoding{tokenizer.Cl100kBase, tokenizer.O200kBase} {
		enc, err := tokenizer.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		encs[name] = enc
	}
	single := func(s string) bool {
		for _, enc := range encs {
			if ids, _, err := enc.Encode(s); err != nil || len(ids) != 1 {
				return false
			}
		}
		return true
	}
	// pairCodes is the rule of its comment applied to AA..ZZ, in order.
	words := strings.Fields("AM AN AS AT BE BY DO GO HE HI IF IN IS IT ME MY NO OF OH OK ON OR SO TO UP US WE")
	var derived []string
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			if s := string([]rune{a, b}); single(s) && !slices.Contains(words, s) {
				derived = append(derived, s)
			}
		}
	}
	pairs := strings.Fields(pairCodes)
	if len(derived) < len(pairs) || !slices.Equal(derived[:len(pairs)], pairs) {
		t.Fatalf("pairCodes is not the first %d single-token, non-word pairs:\n got %v\nwant %v", len(pairs), pairs, derived[:min(len(pairs), len(derived))])
	}
	for _, n := range []int{2, 26, 27, 50, 100, 200, MaxSoftLabelClasses} {
		codes, err := ClassCodes(n)
		if err != nil || len(codes) != n {
			t.Fatalf("ClassCodes(%d) = %d codes, %v", n, len(codes), err)
		}
		seen := map[string]bool{}
		for _, c := range codes {
			if seen[c] || !single(c) || len(c) != len(codes[0]) {
				t.Errorf("ClassCodes(%d): code %q is repeated, not one token, or of another length than %q", n, c, codes[0])
			}
			seen[c] = true
		}
	}
	if MaxSoftLabelClasses < 200 {
		t.Errorf("MaxSoftLabelClasses = %d, the largest taxonomy has 200 classes", MaxSoftLabelClasses)
	}
	for _, n := range []int{-1, 0, 1, MaxSoftLabelClasses + 1} {
		if _, err := ClassCodes(n); err == nil {
			t.Errorf("ClassCodes(%d) gave no error", n)
		}
	}
}

// lp is a token with its log probability taken from p.
func lp(tok string, p float64) api.TokenLogprob {
	return api.TokenLogprob{Token: tok, Logprob: math.Log(p)}
}

func TestCodeDistribution(t *testing.T) {
	classOf := map[string]string{"AA": "set_timer", "AB": "set_alarm", "AC": "play_music"}
	answer := func(tok api.TokenLogprob, top ...api.TokenLogprob) []api.Logprob {
		return []api.Logprob{{TokenLogprob: tok, TopLogprobs: top}}
	}
	tests := []struct {
		name    string
		lps     []api.Logprob
		minMass float64
		want    map[string]float64
		wantErr string
	}{
		{name: "renormalized over the codes present",
			lps:  answer(lp("AA", 0.6), lp("AA", 0.6), lp("AB", 0.2), lp("The", 0.1)),
			want: map[string]float64{"set_timer": 0.75, "set_alarm": 0.25}},
		{name: "variants of one code add up, blank first token skipped",
			lps: append([]api.Logprob{{TokenLogprob: lp("\n", 0.9)}},
				answer(lp(" ab", 0.5), lp(" ab", 0.5), lp("AB", 0.3), lp("ac", 0.2))...),
			want: map[string]float64{"set_alarm": 0.8, "play_music": 0.2}},
		{name: "sampled token outside the top list counts",
			lps:  answer(lp("AC", 0.05), lp("AA", 0.8), lp("AB", 0.15)),
			want: map[string]float64{"set_timer": 0.8, "set_alarm": 0.15, "play_music": 0.05}},
		{name: "a token listed twice counts once",
			lps:  answer(lp("AA", 0.5), lp("AA", 0.5), lp("AA", 0.5), lp("AB", 0.5)),
			want: map[string]float64{"set_timer": 0.5, "set_alarm": 0.5}},
		{name: "no alternatives: the token alone is one-hot",
			lps:  answer(lp("AB", 0.7)),
			want: map[string]float64{"set_alarm": 1}},
		{name: "unknown codes only", lps: answer(lp("ZZ", 0.9), lp("ZZ", 0.9), lp("A", 0.1)), wantErr: "no class code"},
		{name: "no tokens", lps: nil, wantErr: "no answer token"},
		{name: "only blanks", lps: []api.Logprob{{TokenLogprob: lp(" ", 1)}}, wantErr: "no answer token"},
		{name: "NaN", lps: answer(lp("AA", 0.5), lp("AA", 0.5), api.TokenLogprob{Token: "AB", Logprob: math.NaN()}),
			wantErr: "invalid log probability"},
		{name: "positive log probability", lps: answer(lp("AA", 0.5), lp("AA", 0.5), api.TokenLogprob{Token: "AB", Logprob: 0.7}),
			wantErr: "invalid log probability"},
		{name: "probabilities over 1", lps: answer(lp("AA", 0.7), lp("AA", 0.7), lp("AB", 0.6)), wantErr: "summing to"},
		{name: "too little mass on codes", lps: answer(lp("The", 0.7), lp("The", 0.7), lp("AA", 0.2)), minMass: 0.5,
			wantErr: "below the minimum"},
		{name: "minus infinity is probability 0",
			lps:  answer(lp("AA", 1), lp("AA", 1), api.TokenLogprob{Token: "AB", Logprob: math.Inf(-1)}),
			want: map[string]float64{"set_timer": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := codeDistribution(tc.lps, classOf, tc.minMass)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q (got %v)", err, tc.wantErr, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertDistribution(t, got, tc.want)
		})
	}
}

func assertDistribution(t *testing.T, got, want map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("distribution %v, want %v", got, want)
	}
	for c, p := range want {
		if math.Abs(got[c]-p) > 1e-9 {
			t.Fatalf("distribution %v, want %v", got, want)
		}
	}
}

func TestBuiltinSoftLabelsAreOneHot(t *testing.T) {
	tax := testTaxonomy(t, "assistant-50")
	b := NewBuiltinTeacher(nil)
	gold := tax.Classes[3].ID
	got, err := b.SoftLabels(context.Background(), SoftLabelRequest{Taxonomy: tax, Input: "whatever", Gold: gold})
	if err != nil {
		t.Fatal(err)
	}
	assertDistribution(t, got, map[string]float64{gold: 1})
	if _, err := b.SoftLabels(context.Background(), SoftLabelRequest{Taxonomy: tax, Gold: "no_such_class"}); err == nil {
		t.Error("unknown gold label accepted")
	}
}

func testTaxonomy(t testing.TB, id string) *schemas.Taxonomy {
	t.Helper()
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	tax, err := cat.Taxonomy(id)
	if err != nil {
		t.Fatal(err)
	}
	return tax
}

// utteranceOf reads the utterance back out of a soft-label prompt.
func utteranceOf(req api.ChatRequest) string {
	user := req.Messages[len(req.Messages)-1].Content
	for _, line := range strings.Split(user, "\n") {
		if rest, ok := strings.CutPrefix(line, "Utterance: "); ok {
			s, _ := strconv.Unquote(rest)
			return s
		}
	}
	return ""
}

// rankedAnswer answers every code of the prompt, with probabilities
// proportional to 1/(rank+1) starting at the code of class first: a
// distribution over all classes that the server cuts to the top 20.
func rankedAnswer(t testing.TB, tax *schemas.Taxonomy, first func(utterance string) int) func(api.ChatRequest) []api.Logprob {
	codes, err := ClassCodes(len(tax.Classes))
	if err != nil {
		t.Fatal(err)
	}
	return func(req api.ChatRequest) []api.Logprob {
		f := first(utteranceOf(req))
		if f < 0 {
			return ollamatest.DistributionAnswer(map[string]float64{"Sorry": 0.9, "I": 0.1})
		}
		probs := map[string]float64{}
		var z float64
		for r := range codes {
			z += 1 / float64(r+1)
		}
		for r := range codes {
			probs[codes[(f+r)%len(codes)]] = 1 / float64(r+1) / z
		}
		return ollamatest.DistributionAnswer(probs)
	}
}

func TestOllamaSoftLabels(t *testing.T) {
	tax := testTaxonomy(t, "assistant-50")
	srv := ollamatest.New(t, ollamatest.WithLogprobs(rankedAnswer(t, tax, func(string) int { return 5 })))
	l, err := NewOllamaSoftLabeler(newTestTeacher(t, srv.URL), SoftLabelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.SoftLabels(context.Background(), SoftLabelRequest{Taxonomy: tax, Input: "wake me at 7", Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	// The server returns the 20 most probable codes: ranks 0..19 from class 5.
	want := map[string]float64{}
	var z float64
	for r := range 20 {
		z += 1 / float64(r+1)
	}
	for r := range 20 {
		want[tax.Classes[(5+r)%len(tax.Classes)].ID] = 1 / float64(r+1) / z
	}
	assertDistribution(t, got, want)

	req := srv.LastChat()
	if !req.Logprobs || req.TopLogprobs != 20 || req.Options["num_predict"] != 2.0 || req.Options["temperature"] != 0.0 ||
		req.Options["seed"] != 9.0 || req.Think == nil || req.Think.Bool() || len(req.Format) != 0 {
		t.Errorf("request = logprobs %v, top %d, options %v, think %v, format %s", req.Logprobs, req.TopLogprobs, req.Options, req.Think, req.Format)
	}
	user := req.Messages[1].Content
	codes, _ := ClassCodes(50)
	if utteranceOf(req) != "wake me at 7" || !strings.Contains(user, "\nAA: "+tax.Classes[0].ID+" - ") ||
		!strings.Contains(user, "\n"+codes[49]+": "+tax.Classes[49].ID+" - ") {
		t.Errorf("prompt does not list the codes and the utterance:\n%s", user)
	}
}

func TestOllamaSoftLabelsRetriesAndRejects(t *testing.T) {
	tax := testTaxonomy(t, "assistant-50")
	answer := rankedAnswer(t, tax, func(u string) int {
		if u == "gibberish" {
			return -1
		}
		return 0
	})
	t.Run("transient faults are retried", func(t *testing.T) {
		srv := ollamatest.New(t, ollamatest.WithLogprobs(answer),
			ollamatest.WithFaults(ollamatest.Fault500, ollamatest.FaultDrop, ollamatest.FaultMalformedJSON, ollamatest.Fault429))
		l, _ := NewOllamaSoftLabeler(newTestTeacher(t, srv.URL), SoftLabelOptions{TopLogprobs: 3, MinCodeMass: -1})
		got, err := l.SoftLabels(context.Background(), SoftLabelRequest{Taxonomy: tax, Input: "hi"})
		if err != nil || srv.Requests() != 5 {
			t.Fatalf("SoftLabels = %v, %v after %d requests", got, err, srv.Requests())
		}
		assertDistribution(t, got, map[string]float64{tax.Classes[0].ID: 6.0 / 11, tax.Classes[1].ID: 3.0 / 11, tax.Classes[2].ID: 2.0 / 11})
	})
	t.Run("an answer without codes is an output error", func(t *testing.T) {
		srv := ollamatest.New(t, ollamatest.WithLogprobs(answer))
		l, _ := NewOllamaSoftLabeler(newTestTeacher(t, srv.URL), SoftLabelOptions{})
		_, err := l.SoftLabels(context.Background(), SoftLabelRequest{Taxonomy: tax, Input: "gibberish"})
		var oe *OutputError
		if !errors.As(err, &oe) || oe.Reason != RejectSoftLabels || oe.Raw != "Sorry" || srv.Requests() != 1 {
			t.Fatalf("error = %#v after %d requests", err, srv.Requests())
		}
	})
	t.Run("a missing model is permanent", func(t *testing.T) {
		srv := ollamatest.New(t, ollamatest.WithLogprobs(answer), ollamatest.WithFaults(ollamatest.FaultModelNotFound))
		l, _ := NewOllamaSoftLabeler(newTestTeacher(t, srv.URL), SoftLabelOptions{})
		_, err := l.SoftLabels(context.Background(), SoftLabelRequest{Taxonomy: tax, Input: "hi"})
		if !errors.Is(err, ErrModelNotFound) || srv.Requests() != 1 {
			t.Fatalf("error = %v after %d requests", err, srv.Requests())
		}
	})
	t.Run("options are checked", func(t *testing.T) {
		teacher := newTestTeacher(t, "127.0.0.1:1")
		for _, o := range []SoftLabelOptions{{TopLogprobs: 21}, {TopLogprobs: -1}, {NumPredict: 4}, {NumPredict: -2}} {
			if _, err := NewOllamaSoftLabeler(teacher, o); err == nil {
				t.Errorf("options %+v accepted", o)
			}
		}
	})
}
