package ollamatest

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/ollama/ollama/api"
)

func TestDistributionAnswer(t *testing.T) {
	got := DistributionAnswer(map[string]float64{"B": 0.25, "A": 0.5, "C": 0.25, "Z": 0, "N": math.NaN()})
	if len(got) != 1 || got[0].Token != "A" || math.Abs(got[0].Logprob-math.Log(0.5)) > 1e-12 {
		t.Fatalf("answer = %+v, want the token A", got)
	}
	var toks []string
	for _, a := range got[0].TopLogprobs {
		toks = append(toks, a.Token)
	}
	if !slices.Equal(toks, []string{"A", "B", "C"}) {
		t.Errorf("alternatives %v, want A B C (ties by token, no zero or NaN)", toks)
	}
	if DistributionAnswer(map[string]float64{"A": 0}) != nil {
		t.Error("an answer without a positive probability")
	}
}

func TestScriptedLogprobs(t *testing.T) {
	script := func(req api.ChatRequest) []api.Logprob {
		first := DistributionAnswer(map[string]float64{"AB": 0.6, "AC": 0.3, "AD": 0.1})
		return append(first, api.Logprob{TokenLogprob: api.TokenLogprob{Token: "\n", Logprob: -0.01}})
	}
	s := New(t, WithLogprobs(script))
	u, _ := url.Parse(s.URL)
	client := api.NewClient(u, http.DefaultClient)
	chat := func(stream bool, logprobs bool, top int) (string, []api.Logprob, int) {
		req := chatRequest(stream)
		req.Logprobs, req.TopLogprobs = logprobs, top
		var content string
		var lps []api.Logprob
		lines := 0
		err := client.Chat(context.Background(), &req, func(r api.ChatResponse) error {
			lines++
			content += r.Message.Content
			lps = append(lps, r.Logprobs...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return content, lps, lines
	}
	content, lps, lines := chat(true, true, 2)
	if content != "AB\n" || lines != 3 || len(lps) != 2 || lps[0].Token != "AB" || len(lps[0].TopLogprobs) != 2 ||
		lps[0].TopLogprobs[1].Token != "AC" || len(lps[1].TopLogprobs) != 0 || len(lps[0].Bytes) != 2 {
		t.Errorf("streamed: content %q in %d lines, logprobs %+v", content, lines, lps)
	}
	if _, lps, _ = chat(true, true, 0); len(lps) != 2 || lps[0].TopLogprobs != nil {
		t.Errorf("top_logprobs 0: logprobs %+v, want the tokens alone", lps)
	}
	if content, lps, lines = chat(false, true, 20); content != "AB\n" || lines != 1 || len(lps) != 2 || len(lps[0].TopLogprobs) != 3 {
		t.Errorf("non-streamed: content %q in %d lines, logprobs %+v", content, lines, lps)
	}
	if content, _, _ = chat(true, false, 0); content != Answer(chatRequest(true)) {
		t.Errorf("without logprobs: content %q, want the responder's answer", content)
	}
}

func TestScriptedLogprobsFaults(t *testing.T) {
	script := func(api.ChatRequest) []api.Logprob { return DistributionAnswer(map[string]float64{"A": 1}) }
	s := New(t, WithLogprobs(script), WithFaults(Fault500, FaultDrop))
	req := chatRequest(true)
	req.Logprobs = true
	resp, _, _ := postChat(t, s, req)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", resp.StatusCode)
	}
	_, lines, err := postChat(t, s, req)
	if _, final := decodeStream(t, lines); err == nil || final != nil || len(lines) != 1 {
		t.Errorf("drop: %d lines, error %v, final %v: want the token line, then a dropped connection", len(lines), err, final)
	}
}
