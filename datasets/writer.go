package datasets

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cyclecore/mlmforge/schemas"

	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// Writer streams the records of a new version into a temp directory. Nothing is
// visible to readers until Commit renames the directory into place. Use it as
//
//	w, err := store.Create(task, "")
//	defer w.Abort() // no-op after a successful Commit
//	w.Write(records...)
//	m, err := w.Commit(info)
//
// A Writer is safe for concurrent use; rows of one split keep the order of the
// Write calls.
type Writer struct {
	mu       sync.Mutex
	task     schemas.Task
	version  string
	tmp      string   // <root>/<task>/.tmp-<version>-<random>
	final    string   // <root>/<task>/<version>
	lock     *os.File // the flocked temp directory, held until Commit or Abort
	files    map[string]*fileWriter
	order    []string // splits in order of first write
	ids      map[[16]byte]struct{}
	maxRows  int   // row group size in rows, for new split files
	maxBytes int64 // row group size in uncompressed bytes
	done     bool  // committed or aborted
	err      error // a failed write leaves the files unusable; later calls return it
}

func newWriter(task schemas.Task, version, tmp, final string, lock *os.File) *Writer {
	return &Writer{task: task, version: version, tmp: tmp, final: final, lock: lock,
		files: map[string]*fileWriter{}, ids: map[[16]byte]struct{}{},
		maxRows: defaultGroupRows, maxBytes: defaultGroupBytes}
}

// Version returns the name the version will have once committed.
func (w *Writer) Version() string { return w.version }

// Dir returns the temp directory the writer writes into.
func (w *Writer) Dir() string { return w.tmp }

// idKey keeps the uniqueness check at 16 bytes per id for million-row versions;
// a collision of truncated sha256 is not a practical concern.
func idKey(id string) [16]byte {
	sum := sha256.Sum256([]byte(id))
	return [16]byte(sum[:16])
}

// Write validates records and appends each to its split's file. Either every record
// of the call is accepted or none is: an invalid record (empty or duplicate id, task
// other than the version's, bad split name, target that is not JSON) gives an error
// naming its id and field and writes nothing.
func (w *Writer) Write(records ...Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	recs := make([]Record, len(records))
	keys := make(map[[16]byte]struct{}, len(records))
	for i := range records {
		recs[i] = records[i]
		recs[i].normalize()
		if err := recs[i].validate(string(w.task), i); err != nil {
			return fmt.Errorf("write %s@%s: %w", w.task, w.version, err)
		}
		k := idKey(recs[i].ID)
		_, dup := w.ids[k]
		if _, dupHere := keys[k]; dup || dupHere {
			return fmt.Errorf("write %s@%s: record %q: field id: duplicate id in this version", w.task, w.version, recs[i].ID)
		}
		keys[k] = struct{}{}
	}
	for k := range keys {
		w.ids[k] = struct{}{}
	}
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && recs[j].Split == recs[i].Split {
			j++
		}
		if err := w.writeSplit(recs[i:j]); err != nil {
			w.err = err
			return err
		}
		i = j
	}
	return nil
}

func (w *Writer) writeSplit(recs []Record) error {
	split := recs[0].Split
	fw := w.files[split]
	if fw == nil {
		var err error
		fw, err = createFileWriter(filepath.Join(w.tmp, split+".parquet"))
		if err != nil {
			return fmt.Errorf("write %s@%s: %w", w.task, w.version, err)
		}
		fw.maxRows, fw.maxRaw = w.maxRows, w.maxBytes
		w.files[split] = fw
		w.order = append(w.order, split)
	}
	return fw.write(recs)
}

func (w *Writer) usable() error {
	if w.done {
		return fmt.Errorf("dataset writer %s@%s is closed", w.task, w.version)
	}
	return w.err
}

// Commit closes and fsyncs the split files, writes manifest.json, and renames the
// temp directory to <task>/<version>, refusing (ErrVersionExists) if that appeared
// meanwhile. On any error the temp directory is removed: the version was not created.
func (w *Writer) Commit(info CommitInfo) (*Manifest, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return nil, err
	}
	m, err := w.commit(info)
	switch {
	case err == nil:
		return m, nil
	case w.done: // renamed into place, but the parent fsync failed
		return m, fmt.Errorf("commit %s@%s: %w", w.task, w.version, err)
	}
	err = fmt.Errorf("commit %s@%s: %w", w.task, w.version, err)
	return nil, errors.Join(err, w.abort())
}

func (w *Writer) commit(info CommitInfo) (*Manifest, error) {
	if len(w.files) == 0 {
		return nil, errors.New("no records written")
	}
	if len(info.Provenance) > 0 && !json.Valid(info.Provenance) {
		return nil, errors.New("provenance is not valid JSON")
	}
	if len(info.Review) > 0 && !json.Valid(info.Review) {
		return nil, errors.New("review is not valid JSON")
	}
	created := info.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	m := &Manifest{
		FormatVersion: FormatVersion, Task: string(w.task), Version: w.version,
		CreatedAt: created.UTC(), SpecHash: info.SpecHash, Parent: info.Parent,
		Splits: map[string]SplitInfo{}, Provenance: info.Provenance, Notes: info.Notes, Review: info.Review,
		TestSplit: info.TestSplit,
	}
	for _, split := range w.order {
		fw := w.files[split]
		delete(w.files, split) // closed now, whatever happens: abort must not close it again
		if err := fw.close(); err != nil {
			return nil, err
		}
		m.Splits[split] = SplitInfo{Rows: fw.rows, File: split + ".parquet", SHA256: fw.sum(),
			Bytes: fw.bytes, Cells: fw.cells}
	}
	data, err := marshalManifest(m)
	if err != nil {
		return nil, err
	}
	// WriteFile also fsyncs w.tmp, where the split files were created.
	if err := atomicfile.WriteFile(filepath.Join(w.tmp, ManifestFile), data, 0o644); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	if err := renameNoReplace(w.tmp, w.final); errors.Is(err, errTargetExists) {
		return nil, fmt.Errorf("%w: %s appeared while writing", ErrVersionExists, w.final)
	} else if err != nil {
		return nil, fmt.Errorf("rename %s: %w", w.tmp, err)
	}
	w.done = true
	var closeErr error
	if w.lock != nil {
		closeErr = w.lock.Close()
	}
	// The version is in place; a failed parent fsync only risks durability, and the
	// caller must know about it.
	return m, errors.Join(atomicfile.SyncDir(filepath.Dir(w.final)), closeErr)
}

// Abort discards everything written and removes the temp directory. It is a no-op
// after Commit or a previous Abort.
func (w *Writer) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	return w.abort()
}

func (w *Writer) abort() error {
	w.done = true
	var errs []error
	for _, fw := range w.files {
		errs = append(errs, fw.f.Close())
	}
	w.files = nil
	errs = append(errs, os.RemoveAll(w.tmp))
	if w.lock != nil {
		errs = append(errs, w.lock.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("abort %s@%s: %w", w.task, w.version, err)
	}
	return nil
}
