package softlabel

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/tiktoken-go/tokenizer"
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
	for _, n := range []int{2, 26, 27, 50, 100, 200, MaxClasses} {
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
	if MaxClasses < 200 {
		t.Errorf("MaxSoftLabelClasses = %d, the largest taxonomy has 200 classes", MaxClasses)
	}
	for _, n := range []int{-1, 0, 1, MaxClasses + 1} {
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
			got, _, err := CodeDistribution(tc.lps, classOf, tc.minMass)
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

// utteranceOf reads the utterance back out of a soft-label prompt.
// rankedAnswer answers every code of the prompt, with probabilities
// proportional to 1/(rank+1) starting at the code of class first: a
// distribution over all classes that the server cuts to the top 20.
