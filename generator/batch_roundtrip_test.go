package generator_test

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/builtin"
	"github.com/cyclecore/mlmforge/generator/validate"
	"github.com/cyclecore/mlmforge/schemas"
)

// TestRoundTripTeacherErrors (issue 14 item 8): a teacher failure during the
// --round-trip re-extraction ends the batch with the error, like a failure of
// the main call, instead of spending the attempt as a round_trip rejection;
// a disagreement is still a rejection; round-trip tokens count in the stats.
func TestRoundTripTeacherErrors(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := generator.NewPlan(cat, generator.Spec{Task: schemas.EdgeIntent, Counts: map[string]int{"test": 50}, Seed: 2, RoundTrip: true})
	if err != nil {
		t.Fatal(err)
	}
	items := []generator.Item{{Cell: 0, Split: "test", Need: 1, MaxAttempt: 5}}
	builtin := builtin.New(cat)
	refused := &refusedError{syscall.ECONNREFUSED}
	tests := []struct {
		name        string
		extract     func(ctx context.Context, req generator.Request) (generator.Response, error)
		wantErr     error
		wantRejects int
	}{
		{"cancelled", func(ctx context.Context, req generator.Request) (generator.Response, error) {
			return generator.Response{}, context.Canceled
		}, context.Canceled, 0},
		{"connection refused", func(ctx context.Context, req generator.Request) (generator.Response, error) {
			return generator.Response{}, refused
		}, syscall.ECONNREFUSED, 0},
		{"agrees", func(ctx context.Context, req generator.Request) (generator.Response, error) {
			resp, err := builtin.Write(ctx, req)
			resp.PromptTokens, resp.OutputTokens = 100, 10
			return resp, err
		}, nil, 0},
		{"bad output is a rejection", func(ctx context.Context, req generator.Request) (generator.Response, error) {
			return generator.Response{PromptTokens: 100, OutputTokens: 10}, &generator.OutputError{Reason: generator.RejectJSONParse, Err: errors.New("not json")}
		}, nil, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write := func(ctx context.Context, req generator.Request) (generator.Response, error) {
				if req.Mode == generator.Extract {
					return tt.extract(ctx, req)
				}
				resp, err := builtin.Write(ctx, req)
				resp.PromptTokens, resp.OutputTokens = 1, 1
				return resp, err
			}
			r := &generator.Runner{Catalog: cat, Plan: plan, Teacher: &generator.FakeTeacher{WriteFunc: write}, Info: generator.TeacherInfo{Name: "fake"},
				Validator: validate.New(cat, validate.DefaultConfig())}
			recs, _, stats, err := r.Run(context.Background(), 0, items, nil)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v propagated", err, tt.wantErr)
				}
				if stats.Rejects[generator.RejectRoundTrip] != 0 {
					t.Fatalf("a teacher failure was counted as %d round_trip rejections", stats.Rejects[generator.RejectRoundTrip])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := stats.Rejects[generator.RejectRoundTrip]; got != tt.wantRejects || len(recs) != 1-min(1, tt.wantRejects) {
				t.Fatalf("%d round_trip rejections, %d kept; want %d", got, len(recs), tt.wantRejects)
			}
			if stats.PromptTokens < 100 || stats.OutputTokens < 10 {
				t.Fatalf("stats %+v do not count the round trip's tokens", stats)
			}
		})
	}
}

// refusedError is a minimal "connection refused" error chain.
type refusedError struct{ errno syscall.Errno }

func (e *refusedError) Error() string { return "dial tcp 127.0.0.1:11434: connect: " + e.errno.Error() }
func (e *refusedError) Unwrap() error { return e.errno }
