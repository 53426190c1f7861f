package datasets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// FormatVersion is the manifest format this package writes. Readers refuse manifests
// with a newer format rather than misread them.
const FormatVersion = 1

// ManifestFile is the name of the manifest inside a version directory.
const ManifestFile = "manifest.json"

// Manifest describes one committed dataset version; it is manifest.json.
type Manifest struct {
	// FormatVersion is the manifest format (FormatVersion when written by this package).
	FormatVersion int `json:"format_version"`
	// Task is the task name, e.g. "edgeintent".
	Task string `json:"task"`
	// Version is the version name, equal to the directory name, e.g. "v3".
	Version string `json:"version"`
	// CreatedAt is when the version was committed (UTC).
	CreatedAt time.Time `json:"created_at"`
	// SpecHash identifies the generation spec (quotas, catalogs, prompts) the rows came from.
	SpecHash string `json:"spec_hash,omitempty"`
	// Parent names the version this one was derived from, if any (e.g. "v2").
	Parent string `json:"parent,omitempty"`
	// Splits maps a split name ("train", "test") to its file and counts.
	Splits map[string]SplitInfo `json:"splits"`
	// Provenance is free JSON from the producer: workflow id, teachers, spec.
	Provenance json.RawMessage `json:"provenance,omitempty"`
	// Review is the review summary, filled later by the review step (Version.SetReview).
	Review json.RawMessage `json:"review,omitempty"`
	// Notes is free text for humans.
	Notes string `json:"notes,omitempty"`
	// TestSplit says what kind of test split the version has, so that a
	// report quoting a test score can say where it comes from: "standard"
	// (the same templates and values as train), "template-held-out 25%"
	// (generator.Spec.HoldoutTemplates, docs/holdout.md); empty when unknown
	// (imported data, versions older than the field).
	TestSplit string `json:"test_split,omitempty"`
}

// SplitInfo describes one split file of a version.
type SplitInfo struct {
	// Rows is the number of records in the split.
	Rows int `json:"rows"`
	// File is the file name relative to the version directory, e.g. "train.parquet".
	File string `json:"file"`
	// SHA256 is the hex sha256 of the file.
	SHA256 string `json:"sha256"`
	// Bytes is the file size.
	Bytes int64 `json:"bytes"`
	// Cells counts rows per quota cell key.
	Cells map[string]int `json:"cells"`
}

// CommitInfo is what the producer of a version tells Commit about it.
type CommitInfo struct {
	// SpecHash identifies the generation spec; copied to Manifest.SpecHash.
	SpecHash string `json:"spec_hash,omitempty"`
	// Parent names the version this one was derived from; copied to Manifest.Parent.
	Parent string `json:"parent,omitempty"`
	// Provenance is free JSON (must be valid when set); copied to Manifest.Provenance.
	Provenance json.RawMessage `json:"provenance,omitempty"`
	// Notes is free text; copied to Manifest.Notes.
	Notes string `json:"notes,omitempty"`
	// TestSplit is the kind of test split; copied to Manifest.TestSplit.
	TestSplit string `json:"test_split,omitempty"`
	// Review is the review summary (must be valid JSON when set); copied to Manifest.Review.
	Review json.RawMessage `json:"review,omitempty"`
	// CreatedAt overrides the commit time (workflows pass workflow.Now); zero means now.
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// SplitNames returns the manifest's splits in manifest order, which is the order
// manifest.json lists them in: sorted by name.
func (m *Manifest) SplitNames() []string {
	names := make([]string, 0, len(m.Splits))
	for k := range m.Splits {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Rows returns the total number of rows over all splits.
func (m *Manifest) Rows() int {
	n := 0
	for _, s := range m.Splits {
		n += s.Rows
	}
	return n
}

// Ref returns "task@version".
func (m *Manifest) Ref() string { return m.Task + "@" + m.Version }

func readManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, corruptf("read %s: %w", path, err)
	}
	if m.FormatVersion < 1 || m.FormatVersion > FormatVersion {
		return nil, fmt.Errorf("read %s: format_version %d, this mlmforge reads 1 to %d", path, m.FormatVersion, FormatVersion)
	}
	for name, s := range m.Splits {
		if ValidateSplit(name) != nil || s.File != name+".parquet" {
			return nil, corruptf("read %s: split %q has file %q, want %q", path, name, s.File, name+".parquet")
		}
		if s.Rows < 0 || s.Bytes < 0 {
			return nil, corruptf("read %s: split %q has %d rows and %d bytes", path, name, s.Rows, s.Bytes)
		}
	}
	return &m, nil
}

func marshalManifest(m *Manifest) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// versionNumber parses "v12" as 12.
func versionNumber(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, "v")
	if !ok || digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil
}

// compareVersions orders versions oldest first: by number when both are vN, else by
// creation time, then by name.
func compareVersions(a, b *Manifest) int {
	an, aok := versionNumber(a.Version)
	bn, bok := versionNumber(b.Version)
	if aok && bok && an != bn {
		return an - bn
	}
	if !(aok && bok) {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
	}
	return strings.Compare(a.Version, b.Version)
}

// replaceManifest atomically replaces dir's manifest.json with m.
func replaceManifest(dir string, m *Manifest) error {
	data, err := marshalManifest(m)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, ManifestFile)
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}
