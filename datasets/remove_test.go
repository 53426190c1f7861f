package datasets

import (
	"errors"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/schemas"
)

func TestRemove(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	commit := func(parent string) string {
		w, err := s.Create(schemas.EdgeIntent, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(exampleRecords(schemas.EdgeIntent, 8)...); err != nil {
			t.Fatal(err)
		}
		m, err := w.Commit(CommitInfo{Parent: parent})
		if err != nil {
			t.Fatal(err)
		}
		return m.Version
	}
	v1 := commit("")
	v2 := commit(v1)
	if err := s.Remove(schemas.EdgeIntent, v1); !errors.Is(err, ErrReferenced) || !strings.Contains(err.Error(), "parent of edgeintent@"+v2) {
		t.Fatalf("remove a parent: %v", err)
	}
	if err := s.Remove(schemas.EdgeIntent, "latest"); err == nil || !strings.Contains(err.Error(), "name the version") {
		t.Fatalf("remove latest: %v", err)
	}
	if err := s.Remove(schemas.EdgeIntent, v2); err != nil {
		t.Fatal(err)
	}
	ms, err := s.List(schemas.EdgeIntent)
	if err != nil || len(ms) != 1 || ms[0].Version != v1 {
		t.Fatalf("after removing %s: %v %v", v2, ms, err)
	}
	if _, err := s.Version(schemas.EdgeIntent, v2); err == nil {
		t.Error("removed version still opens")
	}
	if err := s.Remove(schemas.EdgeIntent, v1); err != nil {
		t.Fatalf("v1 is no parent any more: %v", err)
	}
}
