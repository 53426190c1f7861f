package generator_test

import (
	"context"
	"testing"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/builtin"
	"github.com/cyclecore/mlmforge/generator/validate"
	"github.com/cyclecore/mlmforge/schemas"
)

// TestRunnerResumesFromCheckpoint interrupts a batch at every few attempts
// and resumes it from the last checkpoint: the result must equal an
// uninterrupted run record for record.
func TestRunnerResumesFromCheckpoint(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := generator.NewPlan(cat, generator.Spec{Task: schemas.EdgeIntent, Counts: map[string]int{"test": 150, "train": 150}, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	var items []generator.Item
	for i, c := range plan.Cells[:20] {
		for _, split := range plan.Spec.Splits() {
			if q := c.Quota[split]; q > 0 {
				items = append(items, generator.Item{Cell: i, Split: split, Need: q, MaxAttempt: 6*q + 8})
			}
		}
	}
	newRunner := func() *generator.Runner {
		return &generator.Runner{Catalog: cat, Plan: plan, Teacher: builtin.New(cat), Info: generator.TeacherInfo{Name: "builtin"},
			Validator: validate.New(cat, validate.DefaultConfig())}
	}
	want, wantRes, wantStats, err := newRunner().Run(context.Background(), 0, items, nil)
	if err != nil || len(want) == 0 {
		t.Fatalf("uninterrupted run: %d records, %v", len(want), err)
	}

	var from *generator.Checkpoint
	for restarts := 0; ; restarts++ {
		if restarts > 500 {
			t.Fatal("no progress across restarts")
		}
		ctx, cancel := context.WithCancel(context.Background())
		r := newRunner()
		steps := 0
		var last *generator.Checkpoint
		r.Checkpoint = func(cp generator.Checkpoint) {
			c := cp
			c.Records = append(c.Records[:0:0], cp.Records...)
			c.Done = append([]generator.ItemResult(nil), cp.Done...)
			if cp.Current != nil {
				cur := *cp.Current
				c.Current = &cur
			}
			c.Stats = cp.Stats.Clone()
			last = &c
			if steps++; steps == 7 {
				cancel() // the worker dies after 7 attempts
			}
		}
		got, gotRes, gotStats, err := r.Run(ctx, 0, items, from)
		cancel()
		if err == nil {
			if len(got) != len(want) || len(gotRes) != len(wantRes) || gotStats.Attempts != wantStats.Attempts {
				t.Fatalf("resumed run: %d records, %d items, %d attempts; uninterrupted: %d, %d, %d",
					len(got), len(gotRes), gotStats.Attempts, len(want), len(wantRes), wantStats.Attempts)
			}
			for i := range want {
				if got[i].ID != want[i].ID || got[i].Input != want[i].Input {
					t.Fatalf("record %d differs after resuming: %s %q vs %s %q", i, got[i].ID, got[i].Input, want[i].ID, want[i].Input)
				}
			}
			if restarts < 3 {
				t.Fatalf("only %d restarts: the test did not interrupt the batch", restarts)
			}
			return
		}
		from = last
	}
}
