package generator

import (
	"context"
	"errors"
	"testing"

	"github.com/cyclecore/mlmforge/schemas"
)

func TestRunnerTeacherFailures(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(cat, Spec{Task: schemas.EdgeIntent, Counts: map[string]int{"test": 50}, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	items := []Item{{Cell: 0, Split: "test", Need: 1, MaxAttempt: 5}}
	builtin := NewBuiltinTeacher(cat)
	calls := 0
	tests := []struct {
		name      string
		write     func(ctx context.Context, req Request) (Response, error)
		wantErr   bool
		wantKept  int
		wantRejct RejectReason
		wantN     int
	}{
		{"transient error ends the batch for a retry", func(context.Context, Request) (Response, error) {
			return Response{}, errors.New("connection reset")
		}, true, 0, "", 0},
		{"bad output is a counted rejection, then a good one is kept", func(ctx context.Context, req Request) (Response, error) {
			calls++
			if calls == 1 {
				return Response{Raw: "not json"}, &OutputError{Reason: RejectJSONParse, Raw: "not json", Err: errors.New("bad")}
			}
			return builtin.Write(ctx, req)
		}, false, 1, RejectJSONParse, 1},
		{"a text that fails validation never becomes a row; the cap ends the item", func(context.Context, Request) (Response, error) {
			return Response{Input: "hi"}, nil
		}, false, 0, RejectLength, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Runner{Catalog: cat, Plan: plan, Teacher: &FakeTeacher{WriteFunc: tt.write}, Info: TeacherInfo{Name: "fake"},
				Validator: NewValidator(cat, DefaultValidationConfig())}
			recs, res, stats, err := r.Run(context.Background(), 0, items, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if len(recs) != tt.wantKept {
				t.Errorf("kept %d, want %d", len(recs), tt.wantKept)
			}
			if stats.Rejects[tt.wantRejct] != tt.wantN {
				t.Errorf("rejects %v, want %d %s", stats.Rejects, tt.wantN, tt.wantRejct)
			}
			if res[0].Exhausted != (tt.wantKept == 0) {
				t.Errorf("exhausted = %v with %d kept", res[0].Exhausted, len(recs))
			}
			for _, rec := range recs {
				if rec.Input == "" || rec.Cell != plan.Cells[0].Cell.Key {
					t.Errorf("bad record %+v", rec)
				}
			}
			if len(res) != 1 || res[0].NextAttempt > 5 {
				t.Errorf("item results %+v", res)
			}
		})
	}
}
