package datasets

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/schemas"
)

// damage modifies a committed split file in place.
func TestCorruptFiles(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		read   string // substring of the Read error after the file name
		verify string // substring of the Verify error
	}{
		{
			name:   "garbage bytes",
			damage: func(t *testing.T, path string) { writeFile(t, path, []byte(strings.Repeat("garbage!", 100))) },
			read:   "not a parquet file (bad magic)",
			verify: "bytes, manifest says",
		},
		{
			name: "truncated",
			damage: func(t *testing.T, path string) {
				data := readFile(t, path)
				writeFile(t, path, data[:len(data)/2])
			},
			read:   "truncated or corrupt parquet file",
			verify: "bytes, manifest says",
		},
		{
			name:   "empty",
			damage: func(t *testing.T, path string) { writeFile(t, path, nil) },
			read:   "not a parquet file",
			verify: "0 bytes, manifest says",
		},
		{
			name: "footer length corrupted",
			damage: func(t *testing.T, path string) {
				data := readFile(t, path)
				copy(data[len(data)-8:], []byte{0xff, 0xff, 0xff, 0x7f})
				writeFile(t, path, data)
			},
			read:   "corrupt parquet footer",
			verify: "sha256",
		},
		{
			name: "one byte flipped in the data",
			damage: func(t *testing.T, path string) {
				data := readFile(t, path)
				data[len(data)/3] ^= 0x55
				writeFile(t, path, data)
			},
			read:   "", // may or may not decode: the checksum is what catches it
			verify: "sha256",
		},
		{
			name:   "missing",
			damage: func(t *testing.T, path string) { os.Remove(path) },
			read:   "no such file",
			verify: "no such file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			commitVersion(t, s, schemas.EdgeIntent, "v1", exampleRecords(schemas.EdgeIntent, 400))
			v, err := s.Version(schemas.EdgeIntent, "v1")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(v.Dir(), "test.parquet")
			tt.damage(t, path)
			_, err = v.Read("test")
			if tt.read != "" {
				want := "read " + path + ": " + tt.read
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Read error = %v, want %q", err, want)
				}
			} else if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("Read error %q does not name %s", err, path)
			}
			if tt.read != "" && !errors.Is(err, ErrCorrupt) {
				t.Errorf("Read error %v does not match ErrCorrupt: a retry would read the same", err)
			}
			err = v.Verify()
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.verify) {
				t.Errorf("Verify error = %v, want it to name %s and say %q", err, path, tt.verify)
			}
			if !errors.Is(err, ErrCorrupt) || !errors.Is(v.VerifyCached(), ErrCorrupt) {
				t.Errorf("Verify error %v does not match ErrCorrupt", err)
			}
			// The other split is untouched.
			if _, err := v.Read("train"); err != nil {
				t.Errorf("Read(train) = %v", err)
			}
		})
	}
}

func TestCorruptShardAndManifest(t *testing.T) {
	dir := t.TempDir()
	shard := filepath.Join(dir, "x.parquet")
	writeFile(t, shard, []byte("PAR1 but not really a parquet file"))
	if _, err := ReadShard(shard); err == nil || !strings.Contains(err.Error(), "read "+shard+": ") {
		t.Errorf("ReadShard(corrupt) = %v, want an error naming the file", err)
	}

	s := openStore(t)
	commitVersion(t, s, schemas.EdgeJSON, "v1", exampleRecords(schemas.EdgeJSON, 4))
	manifest := filepath.Join(s.Root(), "edgejson", "v1", ManifestFile)
	writeFile(t, manifest, []byte(`{"format_version":1,`))
	for name, f := range map[string]func() error{
		"List":    func() error { _, err := s.List(schemas.EdgeJSON); return err },
		"Version": func() error { _, err := s.Version(schemas.EdgeJSON, "v1"); return err },
	} {
		if err := f(); err == nil || !strings.Contains(err.Error(), manifest) {
			t.Errorf("%s with a corrupt manifest = %v, want an error naming %s", name, err, manifest)
		}
	}
	writeFile(t, manifest, []byte(`{"format_version":99,"task":"edgejson","version":"v1"}`))
	if _, err := s.Version(schemas.EdgeJSON, "v1"); err == nil || !strings.Contains(err.Error(), "format_version 99") {
		t.Errorf("future manifest format: %v", err)
	}
	writeFile(t, manifest, []byte(`{"format_version":1,"task":"edgejson","version":"v2"}`))
	if _, err := s.Version(schemas.EdgeJSON, "v1"); err == nil || !strings.Contains(err.Error(), "manifest names edgejson@v2") {
		t.Errorf("manifest naming another version: %v", err)
	}
	writeFile(t, manifest, []byte(`{"format_version":1,"task":"edgejson","version":"v1","splits":{"train":{"file":"../../x.parquet"}}}`))
	if _, err := s.Version(schemas.EdgeJSON, "v1"); err == nil || !strings.Contains(err.Error(), "../../x.parquet") {
		t.Errorf("manifest with a traversing file name: %v", err)
	}
}

func TestVerifyRowCount(t *testing.T) {
	// A manifest whose row count is wrong while the file hash is right (hand-edited).
	s := openStore(t)
	commitVersion(t, s, schemas.EdgeJSON, "v1", exampleRecords(schemas.EdgeJSON, 8))
	v, err := s.Version(schemas.EdgeJSON, "v1")
	if err != nil {
		t.Fatal(err)
	}
	info := v.Manifest().Splits["train"]
	info.Rows++
	v.Manifest().Splits["train"] = info
	if err := v.Verify(); err == nil || !strings.Contains(err.Error(), "train.parquet: 6 rows, manifest says 7") {
		t.Errorf("Verify = %v, want a row count mismatch", err)
	}
	if _, err := v.Read("train"); err == nil || !strings.Contains(err.Error(), "6 rows, manifest says 7") {
		t.Errorf("Read = %v, want a row count mismatch", err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFlippedBytesNeverPanic(t *testing.T) {
	s := openStore(t)
	commitVersion(t, s, schemas.EdgeFuncCall, "v1", exampleRecords(schemas.EdgeFuncCall, 200))
	v, err := s.Version(schemas.EdgeFuncCall, "v1")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(v.Dir(), "train.parquet")
	orig := readFile(t, path)
	for i := 4; i < len(orig)-8; i += max(1, len(orig)/97) {
		data := append([]byte(nil), orig...)
		data[i] ^= 0xa5
		writeFile(t, path, data)
		_, err := ReadShard(path) // must return, not panic
		if err != nil && !strings.Contains(err.Error(), "read "+path+": ") {
			t.Errorf("byte %d: error %q does not name the file", i, err)
		}
	}
}

// TestVerifyCached: a verified version is not hashed again until a file
// changes, and a change is caught.
func TestVerifyCached(t *testing.T) {
	s := openStore(t)
	commitVersion(t, s, schemas.EdgeIntent, "v1", exampleRecords(schemas.EdgeIntent, 40))
	v, err := s.Version(schemas.EdgeIntent, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := v.VerifyCached(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(v.Dir(), "train.parquet")
	data := readFile(t, path)
	data[len(data)/2] ^= 0x01 // same size, another hash
	writeFile(t, path, data)
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, future, future); err != nil {
		t.Fatal(err)
	}
	if err := v.VerifyCached(); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("VerifyCached after a change = %v, want ErrCorrupt naming %s", err, path)
	}
}
