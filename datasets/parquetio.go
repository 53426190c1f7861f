package datasets

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"

	"github.com/parquet-go/parquet-go"

	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// Row groups are cut at whichever limit comes first. parquet-go keeps a row group's
// compressed pages in memory until it is flushed, so the byte limit is what bounds a
// writer's memory with 1 MB inputs; 64k rows keeps DuckDB's per-row-group parallelism.
const (
	defaultGroupRows  = 64 * 1024
	defaultGroupBytes = 64 << 20
	// readBatch rows are decoded at a time: small enough for 1 MB inputs.
	readBatch = 128
)

// fileWriter streams Records into one Parquet file, hashing the bytes as they are
// written so that Commit does not have to read the file again.
type fileWriter struct {
	path      string
	f         *os.File
	hash      hash.Hash
	bytes     int64
	pw        *parquet.GenericWriter[Record]
	rows      int
	cells     map[string]int
	groupRows int   // rows since the last row group flush
	groupRaw  int64 // approximate uncompressed bytes since the last flush
	maxRows   int
	maxRaw    int64
}

func createFileWriter(path string) (*fileWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create split file: %w", err)
	}
	return newFileWriter(f), nil
}

// newFileWriter writes Parquet into f, which must be empty.
func newFileWriter(f *os.File) *fileWriter {
	path := f.Name()
	fw := &fileWriter{path: path, f: f, hash: sha256.New(), cells: map[string]int{},
		maxRows: defaultGroupRows, maxRaw: defaultGroupBytes}
	fw.pw = parquet.NewGenericWriter[Record](fw,
		parquet.Compression(&parquet.Zstd),
		parquet.CreatedBy("mlmforge", "datasets", fmt.Sprint(FormatVersion)))
	return fw
}

// Write is the io.Writer parquet-go writes the file through.
func (fw *fileWriter) Write(p []byte) (int, error) {
	n, err := fw.f.Write(p)
	fw.hash.Write(p[:n])
	fw.bytes += int64(n)
	return n, err
}

func (fw *fileWriter) write(recs []Record) error {
	if err := safely(func() error { _, err := fw.pw.Write(recs); return err }); err != nil {
		return fmt.Errorf("write %s: %w", fw.path, err)
	}
	for i := range recs {
		fw.cells[recs[i].Cell]++
		fw.groupRaw += recs[i].rawSize()
	}
	fw.rows += len(recs)
	fw.groupRows += len(recs)
	if fw.groupRows >= fw.maxRows || fw.groupRaw >= fw.maxRaw {
		if err := safely(fw.pw.Flush); err != nil {
			return fmt.Errorf("write %s: flush row group: %w", fw.path, err)
		}
		fw.groupRows, fw.groupRaw = 0, 0
	}
	return nil
}

// close writes the footer, fsyncs and closes the file.
func (fw *fileWriter) close() error {
	if err := safely(fw.pw.Close); err != nil {
		fw.f.Close()
		return fmt.Errorf("write %s: close parquet writer: %w", fw.path, err)
	}
	if err := fw.f.Sync(); err != nil {
		fw.f.Close()
		return fmt.Errorf("fsync %s: %w", fw.path, err)
	}
	if err := fw.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", fw.path, err)
	}
	return nil
}

func (fw *fileWriter) sum() string { return hex.EncodeToString(fw.hash.Sum(nil)) }

func (r *Record) rawSize() int64 {
	return int64(len(r.ID) + len(r.Task) + len(r.Split) + len(r.Input) + len(r.Target) + len(r.Cell) +
		len(r.Variant) + len(r.Complexity) + len(r.Intent) + len(r.Function) + len(r.Scenario) +
		len(r.Provenance) + len(r.Validation) + len(r.ReviewStatus) + len(r.SoftLabels) + len(r.Meta))
}

// safely turns a panic inside parquet-go (it panics on some corrupt inputs) into an error.
func safely(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("corrupt parquet data: %v", p)
		}
	}()
	return f()
}

var parquetMagic = []byte("PAR1")

// openParquet checks that f looks like a dataset Parquet file and opens its footer.
// The error does not name the file; callers prefix "read <path>: ".
func openParquet(f *os.File) (*parquet.File, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < 12 {
		return nil, fmt.Errorf("not a parquet file (%d bytes, too small)", size)
	}
	var head [4]byte
	var tail [8]byte // footer length, then magic
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return nil, err
	}
	if string(head[:]) != string(parquetMagic) {
		return nil, errors.New("not a parquet file (bad magic)")
	}
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return nil, err
	}
	if string(tail[4:]) != string(parquetMagic) {
		return nil, errors.New("truncated or corrupt parquet file (no footer magic)")
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return nil, fmt.Errorf("corrupt parquet footer (length %d, file has %d bytes)", n, size)
	}
	var pf *parquet.File
	err = safely(func() (err error) {
		pf, err = parquet.OpenFile(f, size, parquet.SkipBloomFilters(true))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("corrupt parquet footer: %w", err)
	}
	for _, col := range []string{"id", "task", "split", "target"} {
		if _, ok := pf.Schema().Lookup(col); !ok {
			return nil, fmt.Errorf("not a dataset file: no column %q", col)
		}
	}
	return pf, nil
}

// readErr names the file in a read error without repeating the path of an
// *fs.PathError. A missing file, and any error openParquet or the decoder
// gives (format, footer, schema, row data), is a corruption (ErrCorrupt);
// other I/O errors may pass and are not marked.
func readErr(path string, err error) error {
	gone := missing(err)
	if pe, ok := err.(*fs.PathError); ok && pe.Path == path {
		err = pe.Err
	}
	err = fmt.Errorf("read %s: %w", path, err)
	if gone {
		return corrupt(err)
	}
	return err
}

// openParquetFile opens the Parquet file at path; the caller closes f. Errors
// name the file, and a file that is not Parquet is ErrCorrupt.
func openParquetFile(path string) (f *os.File, pf *parquet.File, err error) {
	if f, err = os.Open(path); err != nil {
		return nil, nil, readErr(path, err)
	}
	if pf, err = openParquet(f); err != nil {
		f.Close()
		return nil, nil, readErr(path, corrupt(err))
	}
	return f, pf, nil
}

// scanFile calls fn for every row of the Parquet file at path, in file order, and
// returns the number of rows read.
func scanFile(path string, fn func(Record) error) (int, error) {
	f, pf, err := openParquetFile(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var r *parquet.GenericReader[Record]
	if err := safely(func() error { r = parquet.NewGenericReader[Record](pf); return nil }); err != nil {
		return 0, readErr(path, corrupt(err))
	}
	defer r.Close()
	buf := make([]Record, readBatch)
	rows := 0
	for {
		var n int
		rerr := safely(func() (err error) { n, err = r.Read(buf); return err })
		for i := range n {
			if err := fn(buf[i]); err != nil {
				return rows, err
			}
			rows++
		}
		if rerr == io.EOF {
			return rows, nil
		}
		if rerr != nil {
			return rows, readErr(path, corrupt(fmt.Errorf("row %d: %w", rows, rerr)))
		}
	}
}

// parquetRows reads the row count from the footer of the file at path.
func parquetRows(path string) (int64, error) {
	f, pf, err := openParquetFile(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return pf.NumRows(), nil
}

// WriteShard writes records to a standalone Parquet file at path (a generation batch
// output, say), replacing any file there atomically: the rows go to a temp file in the
// same directory, which is fsynced and renamed over path. Records are validated as for
// a Writer, except that any known task is accepted.
func WriteShard(path string, records []Record) (err error) {
	recs := make([]Record, len(records))
	seen := make(map[string]struct{}, len(records))
	for i := range records {
		recs[i] = records[i]
		recs[i].normalize()
		if err := recs[i].validate("", i); err != nil {
			return fmt.Errorf("write shard %s: %w", path, err)
		}
		if _, dup := seen[recs[i].ID]; dup {
			return fmt.Errorf("write shard %s: record %q: field id: duplicate", path, recs[i].ID)
		}
		seen[recs[i].ID] = struct{}{}
	}
	err = atomicfile.Write(path, 0o644, func(f *os.File) error {
		fw := newFileWriter(f)
		if err := fw.write(recs); err != nil {
			return err
		}
		if err := safely(fw.pw.Close); err != nil {
			return fmt.Errorf("close parquet writer: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write shard %s: %w", path, err)
	}
	return nil
}

// ReadShard reads every record of the Parquet file at path, in file order.
func ReadShard(path string) ([]Record, error) {
	var out []Record
	_, err := scanFile(path, func(r Record) error { out = append(out, r); return nil })
	return out, err
}
