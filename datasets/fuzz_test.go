package datasets

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cyclecore/mlmforge/schemas"
)

// FuzzReadShard feeds arbitrary bytes to the Parquet reader every dataset
// activity uses. It must never panic; a file it cannot read is reported as
// ErrCorrupt (the error train and eval turn into a non-retryable failure);
// the row count of a file it reads matches its footer; and whatever it reads
// and WriteShard accepts reads back the same.
func FuzzReadShard(f *testing.F) {
	dir := f.TempDir()
	for _, task := range []schemas.Task{schemas.EdgeJSON, schemas.EdgeIntent, schemas.EdgeFuncCall} {
		path := filepath.Join(dir, string(task)+".parquet")
		if err := WriteShard(path, exampleRecords(task, 5)); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(append(append([]byte{}, b[:len(b)-12]...), b[len(b)-8:]...))
	}
	f.Add([]byte("PAR1"))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Add([]byte("PAR1\xff\xff\xff\x7fPAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "train.parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadShard(path)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("unreadable file not marked corrupt: %v", err)
			}
			return
		}
		n, err := parquetRows(path)
		if err != nil {
			t.Fatalf("ReadShard read %d rows but the footer does not open: %v", len(recs), err)
		}
		if int(n) != len(recs) {
			t.Fatalf("ReadShard read %d rows, footer says %d", len(recs), n)
		}
		out := filepath.Join(dir, "again.parquet")
		if WriteShard(out, recs) != nil {
			return // not a valid dataset (bad ids, tasks...): the writer refuses it
		}
		back, err := ReadShard(out)
		if err != nil {
			t.Fatalf("read back what WriteShard wrote: %v", err)
		}
		want := make([]Record, len(recs))
		for i := range recs {
			want[i] = recs[i]
			want[i].normalize()
		}
		if len(want) == 0 && len(back) == 0 {
			return
		}
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("round trip changed records:\n got %+v\nwant %+v", back, want)
		}
	})
}

// FuzzManifest feeds arbitrary bytes to the manifest.json reader. It must not
// panic; a manifest it accepts has only well-formed split entries, and
// writing it and reading it again gives the same bytes on the next write.
func FuzzManifest(f *testing.F) {
	f.Add([]byte(`{"format_version":1,"task":"edge-intent","version":"v1","created_at":"2026-01-02T03:04:05Z","splits":{"train":{"rows":3,"file":"train.parquet","sha256":"ab","bytes":10,"cells":{"a":3}}},"provenance":{"teacher":"ollama"},"review":null,"notes":"n","test_split":"test"}`))
	f.Add([]byte(`{"format_version":1,"splits":{"../x":{"file":"../x.parquet"}}}`))
	f.Add([]byte(`{"format_version":99}`))
	f.Add([]byte(`{"format_version":1,"splits":{"train":{"rows":-1,"file":"train.parquet"}}}`))
	f.Add([]byte(`{"format_version":1,"created_at":"not a time"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), ManifestFile)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := readManifest(path)
		if err != nil {
			if m != nil {
				t.Fatal("manifest returned with an error")
			}
			return
		}
		for name, s := range m.Splits {
			if ValidateSplit(name) != nil || s.File != name+".parquet" || filepath.Base(s.File) != s.File {
				t.Fatalf("accepted split %q with file %q", name, s.File)
			}
		}
		_ = m.SplitNames()
		_ = m.Rows()
		b1, err := marshalManifest(m)
		if err != nil {
			return // e.g. a created_at year past 9999 parses but does not format
		}
		if err := os.WriteFile(path, b1, 0o644); err != nil {
			t.Fatal(err)
		}
		m2, err := readManifest(path)
		if err != nil {
			t.Fatalf("re-read of a written manifest: %v\n%s", err, b1)
		}
		b2, err := marshalManifest(m2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("manifest not stable across a write:\n%s\n%s", b1, b2)
		}
	})
}
