package reviewgate

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/workflows"
)

// TestGateErr: the validator's typed rejections become review.DecisionError
// with their code and message, a missing workflow a 404 naming the queue, and
// anything else passes through unchanged.
func TestGateErr(t *testing.T) {
	other := errors.New("connection refused")
	tests := []struct {
		name     string
		err      error
		wantCode int
		wantMsg  string
		wantSame bool
	}{
		{"nil", nil, 0, "", true},
		{"typed rejection", fmt.Errorf("update: %w", temporal.NewApplicationError("leased by bob", workflows.ReviewErrorPrefix+"409")), 409, "leased by bob", false},
		{"unauthorized", temporal.NewApplicationError("unknown reviewer", workflows.ReviewUnauthorized), 401, "unknown reviewer", false},
		{"other application error", temporal.NewApplicationError("boom", "SomethingElse"), 0, "", true},
		{"prefix without a code", temporal.NewApplicationError("boom", workflows.ReviewErrorPrefix+"Oops"), 0, "", true},
		{"no such workflow", serviceerror.NewNotFound("workflow not found"), review.CodeNotFound, `no running dataset workflow "dataset-1"`, false},
		{"other error", other, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := gateErr("dataset-1", tt.err)
			if tt.wantSame {
				if got != tt.err {
					t.Fatalf("gateErr = %v, want %v unchanged", got, tt.err)
				}
				return
			}
			var de *review.DecisionError
			if !errors.As(got, &de) || de.Code != tt.wantCode || de.Msg != tt.wantMsg {
				t.Fatalf("gateErr = %#v, want a DecisionError %d %q", got, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestPolicyText(t *testing.T) {
	st := workflows.ReviewStatus{Policy: workflows.ReviewRequired, Summary: review.Summary{Threshold: 0.9}}
	if got, want := PolicyText(st), "required review, release at >= 90% approval"; got != want {
		t.Errorf("PolicyText = %q, want %q", got, want)
	}
	at := time.Date(2025, 3, 4, 5, 6, 0, 0, time.FixedZone("CET", 3600))
	st.DeadlineAt = &at
	if got, want := PolicyText(st), "required review, release at >= 90% approval, deadline 2025-03-04 04:06Z"; got != want {
		t.Errorf("PolicyText = %q, want %q", got, want)
	}
}
