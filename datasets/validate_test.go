package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/schemas"
)

func TestWriteValidation(t *testing.T) {
	valid := exampleRecord(schemas.EdgeIntent, 0)
	with := func(f func(*Record)) Record { r := valid; f(&r); return r }
	tests := []struct {
		name string
		recs []Record
		want []string // substrings of the error
	}{
		{"empty id", []Record{valid, with(func(r *Record) { r.ID = "" })}, []string{"record #1", "field id", "empty"}},
		{"duplicate id in call", []Record{valid, valid}, []string{valid.ID, "field id", "duplicate"}},
		{"wrong task", []Record{with(func(r *Record) { r.Task = "edgejson" })}, []string{valid.ID, "field task", "edgejson"}},
		{"bad split", []Record{with(func(r *Record) { r.Split = "Train" })}, []string{valid.ID, "field split", "Train"}},
		{"split traversal", []Record{with(func(r *Record) { r.Split = "../x" })}, []string{"field split"}},
		{"target not JSON", []Record{with(func(r *Record) { r.Target = "set_timer" })}, []string{valid.ID, "field target", "not valid JSON"}},
		{"empty target", []Record{with(func(r *Record) { r.Target = "" })}, []string{"field target"}},
		{"provenance not JSON", []Record{with(func(r *Record) { r.Provenance = "{" })}, []string{"field provenance"}},
		{"soft labels not JSON", []Record{with(func(r *Record) { r.SoftLabels = "[1," })}, []string{"field soft_labels"}},
		{"bad review status", []Record{with(func(r *Record) { r.ReviewStatus = "ok" })}, []string{"field review_status", "approved"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			w, err := s.Create(schemas.EdgeIntent, "")
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			err = w.Write(tt.recs...)
			if err == nil {
				t.Fatal("Write accepted invalid records")
			}
			for _, sub := range tt.want {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q does not mention %q", err, sub)
				}
			}
			// Nothing of the rejected call was written: the valid record still goes in.
			if err := w.Write(valid); err != nil {
				t.Errorf("after a rejected call, Write(valid) = %v", err)
			}
		})
	}
	t.Run("duplicate across calls and splits", func(t *testing.T) {
		s := openStore(t)
		w, err := s.Create(schemas.EdgeIntent, "")
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		if err := w.Write(valid); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(with(func(r *Record) { r.Split = "test" })); err == nil || !strings.Contains(err.Error(), "duplicate") {
			t.Errorf("duplicate id in another split: err = %v", err)
		}
	})
	t.Run("empty review status becomes unsampled", func(t *testing.T) {
		s := openStore(t)
		commitVersion(t, s, schemas.EdgeIntent, "", []Record{with(func(r *Record) { r.ReviewStatus = "" })})
		v, err := s.Version(schemas.EdgeIntent, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Read("train")
		if err != nil || len(got) != 1 || got[0].ReviewStatus != ReviewUnsampled {
			t.Errorf("Read = %v, %v; want one unsampled record", got, err)
		}
	})
}

func TestVersionNames(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"v1", true}, {"v12", true}, {"2026-06-01_a.b", true}, {"V2", true},
		{strings.Repeat("a", 64), true}, {strings.Repeat("a", 65), false},
		{"latest", false}, {"Latest", false}, {"../x", false}, {"..", false},
		{"a/b", false}, {".hidden", false}, {".tmp-v1-123", false}, {"-v1", false}, {"v 1", false},
		{`a\b`, false}, {"/abs", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateVersion(tt.name); tt.ok != (err == nil) {
				t.Errorf("ValidateVersion(%q) = %v, want ok=%v", tt.name, err, tt.ok)
			}
			s := openStore(t)
			w, err := s.Create(schemas.EdgeJSON, tt.name)
			if tt.ok != (err == nil) {
				t.Fatalf("Create(%q) error = %v, want ok=%v", tt.name, err, tt.ok)
			}
			if err != nil {
				if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.name)) {
					t.Errorf("error %q does not name %q", err, tt.name)
				}
				entries, _ := os.ReadDir(s.Root())
				if len(entries) > 1 {
					t.Errorf("refused Create left entries in the store: %v", entries)
				}
				return
			}
			defer w.Abort()
			if err := w.Write(exampleRecord(schemas.EdgeJSON, 0)); err != nil {
				t.Fatal(err)
			}
			m, err := w.Commit(CommitInfo{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(s.Root(), "edgejson", tt.name, ManifestFile)); err != nil || m.Version != tt.name {
				t.Errorf("version %q not at its place: %v", tt.name, err)
			}
		})
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		ref     string
		task    schemas.Task
		version string
		errs    []string
	}{
		{ref: "edgeintent@v3", task: schemas.EdgeIntent, version: "v3"},
		{ref: "edgeintent@latest", task: schemas.EdgeIntent, version: "latest"},
		{ref: "edgeintent", task: schemas.EdgeIntent, version: "latest"},
		{ref: "EdgeJSON@release-1", task: schemas.EdgeJSON, version: "release-1"},
		{ref: "edgevision@v1", errs: []string{"edgevision", "valid tasks are edgejson, edgeintent, edgefunccall"}},
		{ref: "", errs: []string{"valid tasks"}},
		{ref: "edgeintent@", errs: []string{"empty version"}},
		{ref: "edgeintent@../../x", errs: []string{"../../x", "path traversal"}},
		{ref: "edgeintent@a/b", errs: []string{"a/b"}},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			task, version, err := ParseRef(tt.ref)
			if len(tt.errs) > 0 {
				if err == nil {
					t.Fatalf("ParseRef(%q) = %s, %s; want an error", tt.ref, task, version)
				}
				for _, sub := range tt.errs {
					if !strings.Contains(err.Error(), sub) {
						t.Errorf("error %q does not mention %q", err, sub)
					}
				}
				return
			}
			if err != nil || task != tt.task || version != tt.version {
				t.Errorf("ParseRef(%q) = %s, %s, %v; want %s, %s", tt.ref, task, version, err, tt.task, tt.version)
			}
		})
	}
}
