package softlabel

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/ollama/ollama/api"

	"github.com/cyclecore/mlmforge/schemas"
)

// SoftLabelRequest asks a teacher for its class distribution over one
// EdgeIntent utterance.
type Request struct {
	// Taxonomy is the label set; the distribution is over its class ids.
	Taxonomy *schemas.Taxonomy
	// Input is the utterance to classify.
	Input string
	// Gold is the record's label: the builtin teacher answers it one-hot, a
	// model teacher does not see it.
	Gold string
	// Seed makes a sampling teacher reproducible.
	Seed int64
}

// SoftLabeler gives teacher soft labels, the class distributions that
// knowledge distillation (distill method "kd") trains students on.
// Implementations: OllamaSoftLabeler (log probabilities of a model's answer)
// and BuiltinTeacher (one-hot gold labels).
type Labeler interface {
	// SoftLabels returns a distribution over req.Taxonomy's class ids: every
	// probability finite and >= 0, summing to 1; absent classes have 0. An
	// unusable teacher answer is an *OutputError with Reason RejectSoftLabels.
	SoftLabels(ctx context.Context, req Request) (map[string]float64, error)
}

// codeDistribution turns the log probabilities of a model's answer into a
// distribution over classes. It reads the first answer token that is not
// blank: its top alternatives (and the token itself) are matched against the
// codes after trimming spaces and upper-casing, so that " ab" counts for AB;
// the probabilities of variants of one code add up. Tokens that are no code
// are ignored; the codes' total probability (the mass) must reach minMass,
// and the result is renormalized over the classes present.
//
// The model's output is untrusted: a NaN, infinite or positive log
// probability, or alternatives whose probabilities sum to more than 1, reject
// the whole answer.
func CodeDistribution(lps []api.Logprob, classOf map[string]string, minMass float64) (map[string]float64, float64, error) {
	first := -1
	for i := range lps {
		if strings.TrimSpace(lps[i].Token) != "" {
			first = i
			break
		}
	}
	if first < 0 {
		return nil, 0, fmt.Errorf("no answer token among %d log probabilities", len(lps))
	}
	lp := lps[first]
	alts := lp.TopLogprobs
	seen := map[string]bool{}
	for _, a := range alts {
		seen[a.Token] = true
	}
	if !seen[lp.Token] {
		alts = append(alts[:len(alts):len(alts)], lp.TokenLogprob) // a sampled token outside the top list
	}
	probs := map[string]float64{}
	var total, mass float64
	seen = map[string]bool{}
	for _, a := range alts {
		if math.IsNaN(a.Logprob) || math.IsInf(a.Logprob, 1) || a.Logprob > 1e-6 {
			return nil, 0, fmt.Errorf("token %q: invalid log probability %g", a.Token, a.Logprob)
		}
		if seen[a.Token] {
			continue // one token listed twice is one alternative
		}
		seen[a.Token] = true
		p := math.Exp(a.Logprob)
		total += p
		if c, ok := classOf[strings.ToUpper(strings.TrimSpace(a.Token))]; ok && p > 0 {
			probs[c] += p
			mass += p
		}
	}
	switch {
	case total > 1+1e-3:
		return nil, 0, fmt.Errorf("the %d alternatives of answer token %q have probabilities summing to %.4f > 1", len(alts), lp.Token, total)
	case len(probs) == 0:
		return nil, 0, fmt.Errorf("no class code among the %d alternatives of answer token %q", len(alts), lp.Token)
	case mass < minMass:
		return nil, mass, fmt.Errorf("class codes hold probability %.3f of answer token %q, below the minimum %.3f", mass, lp.Token, minMass)
	}
	for c := range probs {
		probs[c] /= mass
	}
	return probs, mass, nil
}

// checkDistribution validates a SoftLabeler's answer against the taxonomy and
// returns it renormalized: classes must be known, probabilities finite and
// >= 0 with a positive sum.
func checkDistribution(tax *schemas.Taxonomy, probs map[string]float64) (map[string]float64, error) {
	known := make(map[string]bool, len(tax.Classes))
	for _, c := range tax.Classes {
		known[c.ID] = true
	}
	out := make(map[string]float64, len(probs))
	var sum float64
	for c, p := range probs {
		if !known[c] {
			return nil, fmt.Errorf("class %q is not in taxonomy %s", c, tax.ID)
		}
		if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
			return nil, fmt.Errorf("class %q has probability %g", c, p)
		}
		if p > 0 {
			out[c] = p
			sum += p
		}
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		return nil, fmt.Errorf("probabilities of %d classes sum to %g", len(probs), sum)
	}
	for c := range out {
		out[c] /= sum
	}
	return out, nil
}

// argmax returns the most probable class (the smallest id on ties).
func argmax(probs map[string]float64) string {
	best, bp := "", -1.0
	for c, p := range probs {
		if p > bp || p == bp && c < best {
			best, bp = c, p
		}
	}
	return best
}
