package datasets

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Version is one committed dataset version opened for reading.
type Version struct {
	m   *Manifest
	dir string
}

// Manifest returns the version's manifest.
func (v *Version) Manifest() *Manifest { return v.m }

// Dir returns the version directory, <root>/<task>/<version>.
func (v *Version) Dir() string { return v.dir }

// Path returns the path of split's file, or an error listing the splits.
func (v *Version) Path(split string) (string, error) {
	s, ok := v.m.Splits[split]
	if !ok {
		return "", fmt.Errorf("%s has no split %q: splits are %s", v.m.Ref(), split, strings.Join(v.m.SplitNames(), ", "))
	}
	return filepath.Join(v.dir, s.File), nil
}

// Read returns every record of split, in write order.
func (v *Version) Read(split string) ([]Record, error) {
	var out []Record
	if s, ok := v.m.Splits[split]; ok {
		out = make([]Record, 0, s.Rows)
	}
	err := v.Scan(split, func(r Record) error { out = append(out, r); return nil })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Scan calls fn for every record of split, in write order, holding only a small batch
// of rows in memory. An error from fn stops the scan and is returned as is.
func (v *Version) Scan(split string, fn func(Record) error) error {
	path, err := v.Path(split)
	if err != nil {
		return err
	}
	n, err := scanFile(path, fn)
	if err != nil {
		return err
	}
	if want := v.m.Splits[split].Rows; n != want {
		return corruptf("read %s: %d rows, manifest says %d", path, n, want)
	}
	return nil
}

// Verify recomputes each split file's size, sha256 and row count and compares them
// with the manifest; the error names the first file that differs.
func (v *Version) Verify() error {
	for _, split := range v.m.SplitNames() {
		s := v.m.Splits[split]
		path := filepath.Join(v.dir, s.File)
		sum, size, err := hashFile(path)
		if err != nil {
			return fmt.Errorf("verify %s: %w", v.m.Ref(), err)
		}
		if size != s.Bytes {
			return corruptf("verify %s: %s: %d bytes, manifest says %d", v.m.Ref(), path, size, s.Bytes)
		}
		if sum != s.SHA256 {
			return corruptf("verify %s: %s: sha256 %s, manifest says %s", v.m.Ref(), path, sum, s.SHA256)
		}
		rows, err := parquetRows(path)
		if err != nil {
			return fmt.Errorf("verify %s: %w", v.m.Ref(), err)
		}
		if rows != int64(s.Rows) {
			return corruptf("verify %s: %s: %d rows, manifest says %d", v.m.Ref(), path, rows, s.Rows)
		}
	}
	return nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, readErr(path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, readErr(path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// ExportJSONL writes split as JSON Lines, one Record (its json form) per line; split ""
// exports every split in manifest order (sorted by name).
func (v *Version) ExportJSONL(w io.Writer, split string) error {
	splits := []string{split}
	if split == "" {
		splits = v.m.SplitNames()
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var writeErr error
	for _, s := range splits {
		err := v.Scan(s, func(r Record) error {
			if writeErr = enc.Encode(r); writeErr != nil {
				return writeErr
			}
			return nil
		})
		if writeErr != nil {
			return fmt.Errorf("export %s: write: %w", v.m.Ref(), writeErr)
		}
		if err != nil {
			return fmt.Errorf("export %s: %w", v.m.Ref(), err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export %s: write: %w", v.m.Ref(), err)
	}
	return nil
}

// SetReview records the review step's summary in the manifest, replacing manifest.json
// atomically. It is the one change a committed version allows: the rows and their
// hashes stay as they are.
func (v *Version) SetReview(review json.RawMessage) error {
	if !json.Valid(review) {
		return errors.New("set review of " + v.m.Ref() + ": review is not valid JSON")
	}
	m := *v.m
	m.Review = append(json.RawMessage(nil), review...)
	if err := replaceManifest(v.dir, &m); err != nil {
		return fmt.Errorf("set review of %s: %w", v.m.Ref(), err)
	}
	v.m = &m
	return nil
}
