package generator_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/builtin"
	"github.com/cyclecore/mlmforge/generator/validate"
	"github.com/cyclecore/mlmforge/schemas"
)

func TestRunnerTeacherFailures(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := generator.NewPlan(cat, generator.Spec{Task: schemas.EdgeIntent, Counts: map[string]int{"test": 50}, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	items := []generator.Item{{Cell: 0, Split: "test", Need: 1, MaxAttempt: 5}}
	builtin := builtin.New(cat)
	calls := 0
	tests := []struct {
		name      string
		write     func(ctx context.Context, req generator.Request) (generator.Response, error)
		wantErr   bool
		wantKept  int
		wantRejct generator.RejectReason
		wantN     int
	}{
		{"transient error ends the batch for a retry", func(context.Context, generator.Request) (generator.Response, error) {
			return generator.Response{}, errors.New("connection reset")
		}, true, 0, "", 0},
		{"bad output is a counted rejection, then a good one is kept", func(ctx context.Context, req generator.Request) (generator.Response, error) {
			calls++
			if calls == 1 {
				return generator.Response{Raw: "not json"}, &generator.OutputError{Reason: generator.RejectJSONParse, Raw: "not json", Err: errors.New("bad")}
			}
			return builtin.Write(ctx, req)
		}, false, 1, generator.RejectJSONParse, 1},
		{"a text that fails validation never becomes a row; the cap ends the item", func(context.Context, generator.Request) (generator.Response, error) {
			return generator.Response{Input: "hi"}, nil
		}, false, 0, generator.RejectLength, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &generator.Runner{Catalog: cat, Plan: plan, Teacher: &generator.FakeTeacher{WriteFunc: tt.write}, Info: generator.TeacherInfo{Name: "fake"},
				Validator: validate.New(cat, validate.DefaultConfig())}
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
