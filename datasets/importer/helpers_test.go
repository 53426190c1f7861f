package importer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
)

// externalDir returns $MLMFORGE_EXTERNAL_DATA/sub, or skips the test.
func externalDir(t *testing.T, sub string) string {
	t.Helper()
	root := os.Getenv("MLMFORGE_EXTERNAL_DATA")
	if root == "" {
		t.Skip("MLMFORGE_EXTERNAL_DATA not set: point it at the external benchmark data (CI: /work/shared/external)")
	}
	dir := filepath.Join(root, sub)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("MLMFORGE_EXTERNAL_DATA=%s: %v", root, err)
	}
	return dir
}

// writeFile writes content to dir/name (creating subdirectories) and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// cellCounts counts records per cell.
func cellCounts(recs []datasets.Record) map[string]int {
	c := map[string]int{}
	for _, r := range recs {
		c[r.Cell]++
	}
	return c
}

// checkCounts fails unless got has exactly the counts of want.
func checkCounts(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s counts = %v, want %v", what, got, want)
	}
}

// commitAndReadBack commits d to a fresh store, verifies the version's files and
// checks that every split reads back equal to what was written.
func commitAndReadBack(t *testing.T, d *Dataset) (*datasets.Store, *datasets.Manifest) {
	t.Helper()
	store, err := datasets.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m, reused, err := Commit(store, d, CommitOptions{})
	if err != nil || reused {
		t.Fatalf("Commit = %v, reused %v", err, reused)
	}
	v, err := store.Version(d.Task, m.Version)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(); err != nil {
		t.Fatal(err)
	}
	bySplit := map[string][]datasets.Record{}
	for _, r := range d.Records {
		bySplit[r.Split] = append(bySplit[r.Split], r)
	}
	checkCounts(t, "manifest", splitRows(m), d.Counts())
	for split, want := range bySplit {
		got, err := v.Read(split)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("split %s reads back differently: first got %+v, want %+v", split, got[0], want[0])
		}
	}
	var p Provenance
	if err := json.Unmarshal(m.Provenance, &p); err != nil || p.ImportedFrom != d.Source || m.Notes != d.Description() ||
		m.SpecHash != d.SpecHash() || len(p.Files) != len(d.Files) {
		t.Fatalf("manifest provenance %s notes %q spec %s (%v)", m.Provenance, m.Notes, m.SpecHash, err)
	}
	return store, m
}

func splitRows(m *datasets.Manifest) map[string]int {
	out := map[string]int{}
	for name, s := range m.Splits {
		out[name] = s.Rows
	}
	return out
}
