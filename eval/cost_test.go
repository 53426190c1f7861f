package eval

import (
	"math"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct{ p, want float64 }{{50, 5}, {95, 10}, {90, 9}, {10, 1}, {1, 1}, {100, 10}}
	for _, tt := range tests {
		if got := Percentile(xs, tt.p); got != tt.want {
			t.Errorf("p%.0f = %v, want %v", tt.p, got, tt.want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("empty: want 0")
	}
}

func TestSummarizeCost(t *testing.T) {
	costs := []Cost{
		{LatencyMS: 100, PromptTokens: 10, OutputTokens: 10},
		{LatencyMS: 300, PromptTokens: 10, OutputTokens: 30},
		{LatencyMS: 200, PromptTokens: 10, OutputTokens: 20},
		{LatencyMS: 0, PromptTokens: 5, OutputTokens: 5}, // unknown latency
		{LatencyMS: math.NaN()},
	}
	s := SummarizeCost(costs, 0)
	want := CostSummary{N: 3, LatencyP50MS: 200, LatencyP95MS: 300, LatencyMeanMS: 200, PromptTokens: 35, OutputTokens: 65,
		MSPerToken: 600.0 / 65, TokensPerSecond: 65 / 0.6, InferencesPerSecond: 5, WallSeconds: 0.6}
	if !closeCost(s, want) {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	// Concurrent runs: the measured wall clock, not the latency sum, gives throughput.
	if s := SummarizeCost(costs, 200*time.Millisecond); s.InferencesPerSecond != 15 || s.WallSeconds != 0.2 {
		t.Errorf("with wall time: %+v", s)
	}
	if s := SummarizeCost(nil, 0); s != (CostSummary{}) {
		t.Errorf("empty: %+v", s)
	}
}

func closeCost(a, b CostSummary) bool {
	eq := func(x, y float64) bool { return math.Abs(x-y) < 1e-9 }
	return a.N == b.N && a.PromptTokens == b.PromptTokens && a.OutputTokens == b.OutputTokens &&
		eq(a.LatencyP50MS, b.LatencyP50MS) && eq(a.LatencyP95MS, b.LatencyP95MS) && eq(a.LatencyMeanMS, b.LatencyMeanMS) &&
		eq(a.MSPerToken, b.MSPerToken) && eq(a.TokensPerSecond, b.TokensPerSecond) &&
		eq(a.InferencesPerSecond, b.InferencesPerSecond) && eq(a.WallSeconds, b.WallSeconds)
}
