package activities

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// TestGenerateHoldoutTemplates runs a held-out spec through the generation
// activities: plan.json keeps each cell's twins, every split meets its count
// through the merge, and the manifest names the kind of test split (a spec
// without the option says "standard"), and so does the commit result.
func TestGenerateHoldoutTemplates(t *testing.T) {
	for share, want := range map[float64]string{0.25: "template-held-out 25%", 0: generator.TestSplitStandard} {
		home := t.TempDir()
		a := &Activities{Home: home, Identity: "test"}
		spec := generator.Spec{Task: schemas.EdgeIntent, Counts: map[string]int{"test": 30, "train": 60}, Seed: 5,
			HoldoutTemplates: share}
		br, cr, err := runDataset(t, a, spec)
		if err != nil {
			t.Fatal(err)
		}
		if cr.Counts["test"] != 30 || cr.Counts["train"] != 60 {
			t.Fatalf("share %g: counts %v (stats %+v)", share, cr.Counts, br.Stats)
		}
		store, err := datasets.Open(filepath.Join(home, "datasets"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := store.Version(schemas.EdgeIntent, cr.Version)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Manifest().TestSplit; got != want {
			t.Errorf("share %g: manifest test_split %q, want %q", share, got, want)
		}
		if cr.TestSplit != want {
			t.Errorf("share %g: commit result test_split %q, want %q", share, cr.TestSplit, want)
		}
		raw, err := os.ReadFile(filepath.Join(home, "runs", "run-"+strings.ReplaceAll(t.Name(), "/", "_"), "plan.json"))
		if err != nil {
			t.Fatal(err)
		}
		var plan generator.Plan
		if err := json.Unmarshal(raw, &plan); err != nil {
			t.Fatal(err)
		}
		held := 0
		for _, c := range plan.Cells {
			if c.Cell.HeldOut {
				held++
			}
		}
		if wantHeld := map[bool]int{true: len(plan.Cells) / 2, false: 0}[share > 0]; held != wantHeld {
			t.Errorf("share %g: plan.json has %d held-out cells of %d, want %d", share, held, len(plan.Cells), wantHeld)
		}
	}
}
