// Package importer turns real benchmarks (CLINC150, SNIPS, BFCL) and users' own
// CSV / JSON Lines test sets into datasets.Record rows, and commits them as a
// dataset version that looks like a generated one: the same columns, a manifest
// with per-split and per-cell counts, and provenance that says where the rows came
// from ("imported from clinc150 data_full.json sha256 ...").
//
// Imports are deterministic: the same files and options give the same records,
// ids included, and the same spec hash, so re-importing finds the version already
// written instead of writing a copy (see Commit).
//
// What a benchmark knows beyond our columns goes into the record's Meta: SNIPS
// slot spans and its generated JSON Schemas (SNIPSMeta; every imported EdgeJSON
// schema is under the "schema" key, read it with RecordSchema), BFCL's function
// docs and full possible answers (BFCLMeta), CLINC150's domain, and a CSV or
// JSON Lines file's unmapped columns.
package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// ImporterVersion changes whenever an importer maps the same source to different
// records; it is part of the spec hash, so a new mapping writes a new version.
const ImporterVersion = "3"

// ModeImported is the provenance mode of imported records (generated records say
// "label-first" or "teacher-labels").
const ModeImported = "imported"

// SourceFile identifies one file an import read.
type SourceFile struct {
	// Name is the path relative to the directory the import read from, e.g.
	// "possible_answer/BFCL_v4_multiple.json".
	Name string `json:"name"`
	// SHA256 is the hex sha256 of the file's bytes.
	SHA256 string `json:"sha256"`
	// Bytes is the file size.
	Bytes int64 `json:"bytes"`
	// Encoding is set when the file was not valid UTF-8: "latin-1" when it was
	// read as Latin-1 throughout, "utf-8" when it is UTF-8 with the bad
	// sequences listed in Repairs (see decodeText).
	Encoding string `json:"encoding,omitempty"`
	// Repairs lists each invalid sequence of a "utf-8" file and what it became,
	// with its byte offset.
	Repairs []string `json:"repairs,omitempty"`
}

// Dataset is what an importer produced: the records of one task and what they
// came from. Commit writes it as a dataset version.
type Dataset struct {
	// Task is the task of every record.
	Task schemas.Task
	// Source names the importer: "clinc150", "snips", "bfcl", "csv", "jsonl".
	Source string
	// Files are the files read, in reading order.
	Files []SourceFile
	// Options are the import options as JSON; recorded in the provenance and hashed.
	Options json.RawMessage
	// Records are the rows, in source order; each carries its provenance.
	Records []datasets.Record
	// BadRows are the rows skipped (not imported), in reading order; an
	// import with Strict set stops at the first one instead.
	BadRows []BadRow
	// Warnings are things about the imported rows a user should check (intent
	// labels that only differ by case or punctuation, BFCL categories left out).
	Warnings []string
}

// Provenance is the manifest's provenance block of an imported version.
type Provenance struct {
	// ImportedFrom is the source, e.g. "clinc150".
	ImportedFrom string `json:"imported_from"`
	// Description is the one-line summary, also the manifest's notes.
	Description string `json:"description"`
	// SourceSHA256 is the file's sha256, or for several files the sha256 of their
	// "<sha256>  <name>\n" lines in name order (the SHA256SUMS form).
	SourceSHA256 string `json:"source_sha256"`
	// Files are the files read.
	Files []SourceFile `json:"files"`
	// ImporterVersion is ImporterVersion at import time.
	ImporterVersion string `json:"importer_version"`
	// Options are the import options.
	Options json.RawMessage `json:"options,omitempty"`
	// BadRows are the rows skipped, each with file:line:column and reason.
	BadRows []BadRow `json:"bad_rows,omitempty"`
	// Warnings repeat Dataset.Warnings.
	Warnings []string `json:"warnings,omitempty"`
}

// RecordProvenance is every imported record's provenance column. Its teacher
// and mode fields read like generator.Provenance, so code that groups records by
// teacher sees "import:<source>".
type RecordProvenance struct {
	// Teacher names the importer, e.g. {"name": "import:bfcl", "version": "1"}.
	Teacher generator.TeacherInfo `json:"teacher"`
	// Mode is ModeImported.
	Mode string `json:"mode"`
	// File and FileSHA256 identify the file the row came from.
	File       string `json:"file"`
	FileSHA256 string `json:"file_sha256"`
	// Locator says where in the file: "test[41]", "line 17", "simple_python_0".
	Locator string `json:"locator"`
	// SpecHash is the import's spec hash (the manifest's spec_hash).
	SpecHash string `json:"spec_hash"`
}

// SourceSHA256 returns Provenance.SourceSHA256 for d's files.
func (d *Dataset) SourceSHA256() string {
	if len(d.Files) == 1 {
		return d.Files[0].SHA256
	}
	files := slices.Clone(d.Files)
	slices.SortFunc(files, func(a, b SourceFile) int { return strings.Compare(a.Name, b.Name) })
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s  %s\n", f.SHA256, f.Name)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Description is the one-line provenance summary, e.g.
// "imported from clinc150 data_full.json sha256 4f1c..., domains.json sha256 9a0b..."
// or, for more than two files, "imported from bfcl (9 files) sha256 <SourceSHA256>".
func (d *Dataset) Description() string {
	if len(d.Files) > 2 {
		return fmt.Sprintf("imported from %s (%d files) sha256 %s", d.Source, len(d.Files), d.SourceSHA256())
	}
	parts := make([]string, len(d.Files))
	for i, f := range d.Files {
		parts[i] = f.Name + " sha256 " + f.SHA256
	}
	return fmt.Sprintf("imported from %s %s", d.Source, strings.Join(parts, ", "))
}

// SpecHash identifies the import: importer version, task, source, file hashes and
// options. Two imports with the same spec hash wrote the same records.
func (d *Dataset) SpecHash() string {
	h := sha256.New()
	fmt.Fprintf(h, "mlmforge-import\x00%s\x00%s\x00%s\x00%s\x00", ImporterVersion, d.Task, d.Source, d.SourceSHA256())
	h.Write(d.Options)
	return hex.EncodeToString(h.Sum(nil))
}

// Counts returns the number of records per split.
func (d *Dataset) Counts() map[string]int {
	c := map[string]int{}
	for _, r := range d.Records {
		c[r.Split]++
	}
	return c
}

// provenance returns the manifest provenance block.
func (d *Dataset) provenance() Provenance {
	return Provenance{ImportedFrom: d.Source, Description: d.Description(), SourceSHA256: d.SourceSHA256(),
		Files: d.Files, ImporterVersion: ImporterVersion, Options: d.Options, BadRows: d.BadRows, Warnings: d.Warnings}
}

// builder collects records with where each came from, and fills in the
// provenance columns once every file (hence the spec hash) is known.
type builder struct {
	d      *Dataset
	locs   []rowLoc
	ids    map[string]string // id -> locator, for duplicate errors
	strict bool              // stop at the first bad row (see skip)
}

type rowLoc struct {
	file    int // index into d.Files
	locator string
}

func newBuilder(task schemas.Task, source string, opts any) (*builder, error) {
	o, err := json.Marshal(opts)
	if err != nil {
		return nil, fmt.Errorf("import %s: options: %w", source, err)
	}
	return &builder{d: &Dataset{Task: task, Source: source, Options: o}, ids: map[string]string{}}, nil
}

// readFile reads path and records it as a source file named name. Text that is
// not valid UTF-8 is decoded by decodeText and the file says how.
func (b *builder) readFile(path, name string) ([]byte, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("import %s: %w", b.d.Source, err)
	}
	sum := sha256.Sum256(data)
	f := SourceFile{Name: name, SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(data))}
	data, f.Encoding, f.Repairs = decodeText(data)
	b.d.Files = append(b.d.Files, f)
	return data, len(b.d.Files) - 1, nil
}

// add appends r, read from file at locator (line: its 1-based line, 0 when
// the file has no line structure). Task and review status are filled here;
// an id seen before is a *RowError naming both places.
func (b *builder) add(r datasets.Record, file, line int, locator string) error {
	if prev, dup := b.ids[r.ID]; dup {
		if line > 0 {
			return rowErr(b.d.Files[file].Name, line, 0, "duplicate id %q (also at %s)", r.ID, prev)
		}
		return rowErr(b.d.Files[file].Name, 0, 0, "%s: duplicate id %q (also at %s)", locator, r.ID, prev)
	}
	b.ids[r.ID] = b.d.Files[file].Name + ": " + locator
	r.Task = string(b.d.Task)
	r.ReviewStatus = datasets.ReviewUnsampled
	b.d.Records = append(b.d.Records, r)
	b.locs = append(b.locs, rowLoc{file, locator})
	return nil
}

// finish sets every record's provenance column and returns the dataset.
func (b *builder) finish() (*Dataset, error) {
	if len(b.d.Records) == 0 && len(b.d.BadRows) > 0 {
		return nil, fmt.Errorf("import %s: no records found: all %d rows are bad, the first: %s", b.d.Source, len(b.d.BadRows), b.d.BadRows[0])
	}
	if len(b.d.Records) == 0 {
		return nil, fmt.Errorf("import %s: no records found", b.d.Source)
	}
	spec := b.d.SpecHash()
	teacher := generator.TeacherInfo{Name: "import:" + b.d.Source, Version: ImporterVersion}
	for i := range b.d.Records {
		f := b.d.Files[b.locs[i].file]
		p, err := json.Marshal(RecordProvenance{Teacher: teacher, Mode: ModeImported, File: f.Name,
			FileSHA256: f.SHA256, Locator: b.locs[i].locator, SpecHash: spec})
		if err != nil {
			return nil, fmt.Errorf("import %s: provenance of %s: %w", b.d.Source, b.d.Records[i].ID, err)
		}
		b.d.Records[i].Provenance = string(p)
	}
	return b.d, nil
}

// validation returns the validation column listing the checks an importer ran.
func validation(checks ...string) string {
	v, _ := json.Marshal(generator.Validation{Checks: checks})
	return string(v)
}

// mustJSON marshals v without HTML escaping (targets are read by people and
// compared with model output, where "<" must stay "<").
func mustJSON(v any) (string, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(sb.String(), "\n"), nil
}

// CommitOptions says how Commit writes a version.
type CommitOptions struct {
	// Version names the new version; "" picks the next vN.
	Version string
	// Force writes a new version even when an import with the same spec hash
	// (same files and options) was already committed.
	Force bool
	// CreatedAt overrides the commit time; zero means now.
	CreatedAt time.Time
}

// Commit writes d as a new version of d.Task in store and returns its manifest.
// Unless opts.Force, an earlier import with the same spec hash (and, when
// opts.Version is set, the same version name) is returned instead, with reused
// true: importing the same benchmark twice gives one version.
func Commit(store *datasets.Store, d *Dataset, opts CommitOptions) (m *datasets.Manifest, reused bool, err error) {
	spec := d.SpecHash()
	if !opts.Force {
		ms, err := store.List(d.Task)
		if err != nil {
			return nil, false, fmt.Errorf("commit import of %s: %w", d.Source, err)
		}
		for _, m := range ms {
			var p Provenance
			if m.SpecHash == spec && json.Unmarshal(m.Provenance, &p) == nil && p.ImportedFrom == d.Source &&
				(opts.Version == "" || opts.Version == m.Version) {
				return m, true, nil
			}
		}
	}
	prov, err := json.Marshal(d.provenance())
	if err != nil {
		return nil, false, fmt.Errorf("commit import of %s: provenance: %w", d.Source, err)
	}
	w, err := store.Create(d.Task, opts.Version)
	if err != nil {
		return nil, false, fmt.Errorf("commit import of %s: %w", d.Source, err)
	}
	defer func() { err = errors.Join(err, w.Abort()) }()
	if err := w.Write(d.Records...); err != nil {
		return nil, false, fmt.Errorf("commit import of %s: %w", d.Source, err)
	}
	m, err = w.Commit(datasets.CommitInfo{SpecHash: spec, Provenance: prov, Notes: d.Description(), CreatedAt: opts.CreatedAt})
	if err != nil {
		return m, false, fmt.Errorf("commit import of %s: %w", d.Source, err)
	}
	return m, false, nil
}
