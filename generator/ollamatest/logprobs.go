package ollamatest

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/ollama/ollama/api"
)

// WithLogprobs scripts the answers of chat requests that ask for log
// probabilities (logprobs: true): f returns the answer's tokens, each with its
// log probability and its alternatives, most probable first. The server
// streams one token per line, each line carrying that token's entry with its
// alternatives cut to the request's top_logprobs (0 to 20), as Ollama does;
// the content is the tokens joined. A non-streamed answer carries all entries
// on its one line. Requests without logprobs get the responder's answer.
//
// Status faults (500, 429, model not found) and stream faults (malformed line,
// stall, drop) apply to scripted answers; content faults do not.
func WithLogprobs(f func(req api.ChatRequest) []api.Logprob) Option {
	return func(s *Server) { s.logprobs = f }
}

// scriptedLogprobs returns the scripted answer to req, its alternatives cut
// to req.TopLogprobs, and whether there is one.
func (s *Server) scriptedLogprobs(req api.ChatRequest) ([]api.Logprob, bool) {
	if s.logprobs == nil || !req.Logprobs {
		return nil, false
	}
	top := min(max(req.TopLogprobs, 0), 20)
	lps := s.logprobs(req)
	out := make([]api.Logprob, len(lps))
	for i, lp := range lps {
		out[i] = api.Logprob{TokenLogprob: lp.TokenLogprob}
		if out[i].Bytes == nil {
			out[i].Bytes = bytesOf(lp.Token)
		}
		if top > 0 {
			out[i].TopLogprobs = slices.Clone(lp.TopLogprobs[:min(top, len(lp.TopLogprobs))])
		}
	}
	return out, true
}

// tokensOf returns the tokens of a scripted answer and their concatenation.
func tokensOf(lps []api.Logprob) ([]string, string) {
	pieces := make([]string, len(lps))
	for i, lp := range lps {
		pieces[i] = lp.Token
	}
	return pieces, strings.Join(pieces, "")
}

// DistributionAnswer is a one-token answer for WithLogprobs drawn from a
// distribution over tokens: the token is the most probable one, and its
// alternatives are every token of probs with a positive probability, most
// probable first (ties by token). Probabilities are used as given, so that a
// test can script a distribution that does not sum to 1; JSON cannot carry
// the log of 0, so zero-probability tokens are left out.
func DistributionAnswer(probs map[string]float64) []api.Logprob {
	var alts []api.TokenLogprob
	for tok, p := range probs {
		if p > 0 {
			alts = append(alts, api.TokenLogprob{Token: tok, Logprob: math.Log(p), Bytes: bytesOf(tok)})
		}
	}
	if len(alts) == 0 {
		return nil
	}
	slices.SortFunc(alts, func(a, b api.TokenLogprob) int {
		return cmp.Or(cmp.Compare(b.Logprob, a.Logprob), strings.Compare(a.Token, b.Token))
	})
	return []api.Logprob{{TokenLogprob: alts[0], TopLogprobs: alts}}
}
