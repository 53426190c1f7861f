package datasets

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/schemas"
)

func TestRefuseOverwrite(t *testing.T) {
	recs := exampleRecords(schemas.EdgeIntent, 4)
	t.Run("explicit existing name", func(t *testing.T) {
		s := openStore(t)
		m := commitVersion(t, s, schemas.EdgeIntent, "v1", recs)
		_, err := s.Create(schemas.EdgeIntent, "v1")
		if !errors.Is(err, ErrVersionExists) || !strings.Contains(err.Error(), "v1") {
			t.Fatalf("Create(existing) = %v, want ErrVersionExists naming v1", err)
		}
		v, err := s.Version(schemas.EdgeIntent, "v1")
		if err != nil || !reflect.DeepEqual(v.Manifest(), m) {
			t.Errorf("existing version changed: %v", err)
		}
	})
	t.Run("rename race: another writer commits first", func(t *testing.T) {
		s := openStore(t)
		a, err := s.Create(schemas.EdgeIntent, "v7")
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Create(schemas.EdgeIntent, "v7")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Write(recs...); err != nil {
			t.Fatal(err)
		}
		if err := b.Write(recs[:1]...); err != nil {
			t.Fatal(err)
		}
		ma, err := a.Commit(CommitInfo{Notes: "a"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Commit(CommitInfo{Notes: "b"}); !errors.Is(err, ErrVersionExists) {
			t.Fatalf("second Commit = %v, want ErrVersionExists", err)
		}
		v, err := s.Version(schemas.EdgeIntent, "v7")
		if err != nil || v.Manifest().Notes != "a" || v.Manifest().Rows() != len(recs) || v.Verify() != nil {
			t.Errorf("first version damaged: %v %+v", err, v)
		}
		if !reflect.DeepEqual(v.Manifest(), ma) {
			t.Errorf("manifest changed")
		}
		assertNoTemp(t, s, schemas.EdgeIntent)
	})
	t.Run("empty directory appears before commit", func(t *testing.T) {
		// A plain rename(2) would replace an empty directory; the commit must not.
		s := openStore(t)
		w, err := s.Create(schemas.EdgeIntent, "v2")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(recs...); err != nil {
			t.Fatal(err)
		}
		squat := filepath.Join(s.Root(), "edgeintent", "v2")
		if err := os.Mkdir(squat, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Commit(CommitInfo{}); !errors.Is(err, ErrVersionExists) {
			t.Fatalf("Commit over an empty dir = %v, want ErrVersionExists", err)
		}
		if entries, err := os.ReadDir(squat); err != nil || len(entries) != 0 {
			t.Errorf("squatting dir modified: %v %v", entries, err)
		}
		assertNoTemp(t, s, schemas.EdgeIntent)
	})
}

func assertNoTemp(t *testing.T, s *Store, task schemas.Task) {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(s.Root(), string(task), tmpPrefix+"*"))
	if len(matches) != 0 {
		t.Errorf("temp dirs left behind: %v", matches)
	}
}

func TestAutoVersionsAndList(t *testing.T) {
	s := openStore(t)
	recs := exampleRecords(schemas.EdgeJSON, 2)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	commit := func(version string, at time.Time) {
		t.Helper()
		w, err := s.Create(schemas.EdgeJSON, version)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(recs...); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Commit(CommitInfo{CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 9 {
		commit("", base.Add(time.Duration(i)*time.Hour))
	}
	commit("v10", base.Add(-time.Hour)) // numbers win over time when both are vN
	commit("release", base.Add(100*time.Hour))
	commit("", base.Add(101*time.Hour)) // v11: the highest number plus one

	// A live writer reserves its number for the next auto name.
	live, err := s.Create(schemas.EdgeJSON, "")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Abort()
	if live.Version() != "v12" {
		t.Errorf("next auto version = %s, want v12", live.Version())
	}
	next, err := s.Create(schemas.EdgeJSON, "")
	if err != nil {
		t.Fatal(err)
	}
	if next.Version() != "v13" {
		t.Errorf("auto version beside a live writer = %s, want v13", next.Version())
	}
	next.Abort()

	ms, err := s.List(schemas.EdgeJSON)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.Version)
	}
	want := "v1 v2 v3 v4 v5 v6 v7 v8 v9 v10 release v11"
	if strings.Join(names, " ") != want {
		t.Errorf("List = %v, want %s", names, want)
	}
	v, err := s.Version(schemas.EdgeJSON, "")
	if err != nil || v.Manifest().Version != "v11" {
		t.Errorf("latest = %v, %v; want v11", v, err)
	}
	all, err := s.ListAll()
	if err != nil || len(all) != len(ms) {
		t.Errorf("ListAll = %d versions, %v; want %d", len(all), err, len(ms))
	}
	if other, err := s.List(schemas.EdgeFuncCall); err != nil || len(other) != 0 {
		t.Errorf("List(empty task) = %v, %v", other, err)
	}
}

func TestUnknownVersionAndTask(t *testing.T) {
	if err := ValidateVersion(""); err == nil {
		t.Error(`ValidateVersion("") accepted the empty name`)
	}
	s := openStore(t)
	recs := exampleRecords(schemas.EdgeIntent, 4)
	commitVersion(t, s, schemas.EdgeIntent, "v1", recs)
	commitVersion(t, s, schemas.EdgeIntent, "v2", recs)
	tests := []struct {
		name    string
		task    schemas.Task
		version string
		want    []string
	}{
		{"unknown version lists existing", schemas.EdgeIntent, "v9", []string{`"v9"`, "versions are v1, v2"}},
		{"no versions at all", schemas.EdgeJSON, "v1", []string{"no versions of edgejson"}},
		{"latest of empty task", schemas.EdgeJSON, "latest", []string{"no versions of edgejson"}},
		{"traversal", schemas.EdgeIntent, "../edgejson/v1", []string{"../edgejson/v1", "path traversal"}},
		{"unknown task", schemas.Task("edgevision"), "v1", []string{"edgevision", "edgejson, edgeintent, edgefunccall"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Version(tt.task, tt.version)
			if err == nil {
				t.Fatal("Version succeeded")
			}
			for _, sub := range tt.want {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q does not mention %q", err, sub)
				}
			}
		})
	}
	v, err := s.Version(schemas.EdgeIntent, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Read("dev"); err == nil || !strings.Contains(err.Error(), "splits are test, train") {
		t.Errorf("Read(unknown split) = %v, want an error listing the splits", err)
	}
}

func TestAbortAndEmptyCommit(t *testing.T) {
	s := openStore(t)
	w, err := s.Create(schemas.EdgeJSON, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(CommitInfo{}); err == nil || !strings.Contains(err.Error(), "no records") {
		t.Errorf("empty Commit = %v, want an error", err)
	}
	assertNoTemp(t, s, schemas.EdgeJSON)

	w, err = s.Create(schemas.EdgeJSON, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(exampleRecords(schemas.EdgeJSON, 10)...); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("second Abort = %v", err)
	}
	if err := w.Write(exampleRecord(schemas.EdgeJSON, 99)); err == nil {
		t.Error("Write after Abort succeeded")
	}
	assertNoTemp(t, s, schemas.EdgeJSON)
	if ms, err := s.List(schemas.EdgeJSON); err != nil || len(ms) != 0 {
		t.Errorf("List after abort = %v, %v", ms, err)
	}
	if _, err := w.Commit(CommitInfo{}); err == nil {
		t.Error("Commit after Abort succeeded")
	}
}

func TestCommitInfoAndReview(t *testing.T) {
	s := openStore(t)
	w, err := s.Create(schemas.EdgeIntent, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(exampleRecords(schemas.EdgeIntent, 4)...); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(CommitInfo{Provenance: json.RawMessage(`{"workflow"`)}); err == nil {
		t.Fatal("Commit accepted invalid provenance JSON")
	}
	assertNoTemp(t, s, schemas.EdgeIntent)

	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	info := CommitInfo{SpecHash: "abc", Parent: "v0", Provenance: json.RawMessage(`{"workflow":"gen-1"}`), Notes: "n", CreatedAt: at,
		TestSplit: "template-held-out 25%"}
	w, err = s.Create(schemas.EdgeIntent, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(exampleRecords(schemas.EdgeIntent, 4)...); err != nil {
		t.Fatal(err)
	}
	m, err := w.Commit(info)
	if err != nil {
		t.Fatal(err)
	}
	if m.SpecHash != "abc" || m.Parent != "v0" || string(m.Provenance) != `{"workflow":"gen-1"}` || m.Notes != "n" || !m.CreatedAt.Equal(at) ||
		m.TestSplit != "template-held-out 25%" {
		t.Errorf("manifest does not carry CommitInfo: %+v", m)
	}
	raw, err := os.ReadFile(filepath.Join(s.Root(), "edgeintent", "v1", ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"format_version": 1`, `"spec_hash": "abc"`, `"created_at": "2026-03-04T05:06:07Z"`, `"sha256"`, `"cells"`,
		`"test_split": "template-held-out 25%"`} {
		if !bytes.Contains(raw, []byte(key)) {
			t.Errorf("manifest.json lacks %s:\n%s", key, raw)
		}
	}
	if bytes.Contains(raw, []byte(`"review"`)) {
		t.Errorf("manifest.json has a review before the review step")
	}
	v, err := s.Version(schemas.EdgeIntent, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(v.Dir()); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("version dir mode = %v, %v; want 0755 (readable by other users)", st.Mode(), err)
	}
	if err := v.SetReview(json.RawMessage(`{"sampled":1,"approved":1}`)); err != nil {
		t.Fatal(err)
	}
	v2, err := s.Version(schemas.EdgeIntent, "v1")
	if err != nil {
		t.Fatal(err)
	}
	var review bytes.Buffer
	if err := json.Compact(&review, v2.Manifest().Review); err != nil || review.String() != `{"sampled":1,"approved":1}` || v2.Verify() != nil {
		t.Errorf("review not stored: %s", v2.Manifest().Review)
	}
	if err := v.SetReview(json.RawMessage(`{`)); err == nil {
		t.Error("SetReview accepted invalid JSON")
	}
}
