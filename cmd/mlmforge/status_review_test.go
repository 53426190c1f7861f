package main

import (
	"strings"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/workflows"
)

func TestPrintReviewReminder(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	base := workflows.ReviewStatus{Phase: "review", Policy: "required", Summary: review.Summary{Threshold: 0.9},
		Progress: review.Progress{Sampled: 30, Decided: 12, Leased: 2}}
	for _, tc := range []struct {
		name     string
		deadline *time.Time
		on       string
		round    int
		want     []string
		wantNot  []string
	}{
		{"no deadline", nil, "fail", 0, []string{"12/30 decided, 2 leased", ">= 90% approval"}, []string{"reminder"}},
		{"far deadline", at(48 * time.Hour), "fail", 0, []string{"deadline 2026-11-28 12:00Z"}, []string{"reminder"}},
		{"near deadline fails", at(3*time.Hour + 20*time.Minute), "fail", 0, []string{"reminder: the review deadline is in 3h20m0s", "the run fails"}, nil},
		{"near deadline releases", at(time.Hour), "release", 1, []string{"released with the decisions made so far", "review round 2"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := base
			rs.DeadlineAt, rs.OnDeadline, rs.ReviewRound = tc.deadline, tc.on, tc.round
			var b strings.Builder
			printReview(&b, rs, now)
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output %q lacks %q", b.String(), w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(b.String(), w) {
					t.Errorf("output %q has %q", b.String(), w)
				}
			}
		})
	}
}
