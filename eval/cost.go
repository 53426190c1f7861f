package eval

import (
	"math"
	"sort"
	"time"
)

// CostSummary aggregates per-example costs.
type CostSummary struct {
	// N is the number of examples with a measured latency.
	N int `json:"n"`
	// LatencyP50MS and LatencyP95MS are nearest-rank percentiles of the
	// per-example latency; LatencyMeanMS is its mean.
	LatencyP50MS  float64 `json:"latency_p50_ms"`
	LatencyP95MS  float64 `json:"latency_p95_ms"`
	LatencyMeanMS float64 `json:"latency_mean_ms"`
	// PromptTokens and OutputTokens are totals over all examples.
	PromptTokens int `json:"prompt_tokens"`
	OutputTokens int `json:"output_tokens"`
	// MSPerToken is total latency / total output tokens.
	MSPerToken float64 `json:"ms_per_token"`
	// TokensPerSecond is total output tokens / total latency in seconds.
	TokensPerSecond float64 `json:"tokens_per_second"`
	// InferencesPerSecond is N / wall time, where wall time is the runner's
	// measured wall clock when given, else the latency sum (sequential runs).
	InferencesPerSecond float64 `json:"inferences_per_second"`
	// WallSeconds is the wall time used for InferencesPerSecond.
	WallSeconds float64 `json:"wall_seconds"`
}

// SummarizeCost aggregates costs. Examples with a zero latency are left out
// of the latency statistics but their tokens count. wall is the runner's
// measured wall time for the whole run (0 if unknown: the latencies are
// then assumed sequential).
func SummarizeCost(costs []Cost, wall time.Duration) CostSummary {
	var s CostSummary
	lat := make([]float64, 0, len(costs))
	total := 0.0
	for _, c := range costs {
		s.PromptTokens += c.PromptTokens
		s.OutputTokens += c.OutputTokens
		if c.LatencyMS > 0 && !math.IsInf(c.LatencyMS, 0) && !math.IsNaN(c.LatencyMS) {
			lat = append(lat, c.LatencyMS)
			total += c.LatencyMS
		}
	}
	s.N = len(lat)
	if s.N == 0 {
		return s
	}
	sort.Float64s(lat)
	s.LatencyP50MS = Percentile(lat, 50)
	s.LatencyP95MS = Percentile(lat, 95)
	s.LatencyMeanMS = total / float64(s.N)
	if s.OutputTokens > 0 {
		s.MSPerToken = total / float64(s.OutputTokens)
		s.TokensPerSecond = float64(s.OutputTokens) / (total / 1000)
	}
	s.WallSeconds = total / 1000
	if wall > 0 {
		s.WallSeconds = wall.Seconds()
	}
	s.InferencesPerSecond = float64(s.N) / s.WallSeconds
	return s
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of sorted
// values: the smallest value with at least p% of the values at or below it.
// It returns 0 for no values.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
