package generator

import (
	"math"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/internal/testutil"

	"github.com/cyclecore/mlmforge/schemas"
)

func TestHoldoutSpecValidation(t *testing.T) {
	base := Spec{Task: schemas.EdgeIntent, Counts: map[string]int{"train": 10, "test": 5}}.WithDefaults()
	for _, tc := range []struct {
		name  string
		edit  func(*Spec)
		error string // "" for valid
	}{
		{"zero", func(s *Spec) {}, ""},
		{"quarter", func(s *Spec) { s.HoldoutTemplates = 0.25 }, ""},
		{"negative", func(s *Spec) { s.HoldoutTemplates = -0.1 }, "holdout_templates -0.1: must be in [0, 1)"},
		{"one", func(s *Spec) { s.HoldoutTemplates = 1 }, "holdout_templates 1: must be in [0, 1)"},
		{"nan", func(s *Spec) { s.HoldoutTemplates = math.NaN() }, "holdout_templates NaN"},
		{"no test split", func(s *Spec) { s.HoldoutTemplates = 0.25; s.Counts = map[string]int{"train": 10} },
			"holdout_templates 0.25: the spec has no test split"},
		{"teacher labels", func(s *Spec) { s.HoldoutTemplates = 0.25; s.Mode = TeacherLabels }, "needs mode label-first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			tc.edit(&s)
			err := s.Validate()
			switch {
			case tc.error == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.error != "" && (err == nil || !strings.Contains(err.Error(), tc.error)):
				t.Fatalf("error %v, want one containing %q", err, tc.error)
			}
		})
	}
}

// TestHoldoutPlan checks the plan of a held-out run: each cell has a twin
// with the same key, the test quota on the HeldOut twin and every other
// quota on the other; the totals and the records' cell lookup are as
// without the option, and the spec hash differs.
func TestHoldoutPlan(t *testing.T) {
	cat := testutil.Catalog(t)
	spec := Spec{Task: schemas.EdgeJSON, Seed: 3, Counts: map[string]int{"train": 100, "test": 40, "val": 20}}
	plain, err := NewPlan(cat, spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.HoldoutTemplates = 0.25
	held, err := NewPlan(cat, spec)
	if err != nil {
		t.Fatal(err)
	}
	if plain.SpecHash == held.SpecHash {
		t.Fatal("holdout_templates does not change the spec hash")
	}
	if len(held.Cells) != 2*len(plain.Cells) {
		t.Fatalf("%d cells, want twice %d", len(held.Cells), len(plain.Cells))
	}
	for _, split := range []string{"train", "test", "val"} {
		if held.Total(split) != plain.Total(split) {
			t.Errorf("split %s: %d examples, want %d", split, held.Total(split), plain.Total(split))
		}
	}
	cellOf := held.CellIndex()
	for i, c := range plain.Cells {
		open, twin := held.Cells[2*i], held.Cells[2*i+1]
		if open.Cell.Key != c.Cell.Key || twin.Cell.Key != c.Cell.Key || open.Cell.HeldOut || !twin.Cell.HeldOut ||
			open.Cell.Holdout != 0.25 || twin.Cell.Holdout != 0.25 {
			t.Fatalf("cell %s: twins %+v and %+v", c.Cell.Key, open.Cell, twin.Cell)
		}
		if twin.Quota["test"] != c.Quota["test"] || len(twin.Quota) != 1 ||
			open.Quota["train"] != c.Quota["train"] || open.Quota["val"] != c.Quota["val"] || open.Quota["test"] != 0 {
			t.Errorf("cell %s: quotas %v and %v, want %v split between them", c.Cell.Key, open.Quota, twin.Quota, c.Quota)
		}
		for split, want := range map[string]int{"train": 2 * i, "val": 2 * i, "test": 2*i + 1} {
			if got, ok := cellOf(c.Cell.Key, split); !ok || got != want {
				t.Errorf("CellIndex(%s, %s) = %d, %v; want %d", c.Cell.Key, split, got, ok, want)
			}
		}
	}
	if _, ok := cellOf("no.such.schema", "test"); ok {
		t.Error("CellIndex found an unknown key")
	}
}

func TestTestSplitKind(t *testing.T) {
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{Counts: map[string]int{"train": 1}}, ""},
		{Spec{Counts: map[string]int{"test": 1}}, "standard"},
		{Spec{Counts: map[string]int{"test": 1}, HoldoutTemplates: 0.25}, "template-held-out 25%"},
		{Spec{Counts: map[string]int{"test": 1}, HoldoutTemplates: 0.125, Teacher: "builtin"}, "template-held-out 12.5%"},
		{Spec{Counts: map[string]int{"test": 1}, HoldoutTemplates: 0.25, Teacher: "ollama:qwen2.5:7b"}, "value-held-out 25%"},
	} {
		if got := TestSplitKind(tc.spec); got != tc.want {
			t.Errorf("TestSplitKind(%+v) = %q, want %q", tc.spec, got, tc.want)
		}
	}
}
