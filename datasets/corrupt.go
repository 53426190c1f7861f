package datasets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// ErrCorrupt is wrapped by every error that says a dataset file is not what
// its name or manifest claims: not Parquet, truncated, undecodable, missing,
// or another size, sha256 or row count than the manifest records. Reading it
// again gives the same answer, so callers fail at once instead of retrying
// (the worker turns such activity errors into non-retryable ones).
var ErrCorrupt = errors.New("corrupt dataset file")

// corruptError keeps an error's message and makes it match ErrCorrupt.
type corruptError struct{ err error }

func (e corruptError) Error() string   { return e.err.Error() }
func (e corruptError) Unwrap() []error { return []error{e.err, ErrCorrupt} }

// corrupt marks err as a corruption (nil stays nil).
func corrupt(err error) error {
	if err == nil || errors.Is(err, ErrCorrupt) {
		return err
	}
	return corruptError{err}
}

// corruptf is fmt.Errorf marked as a corruption.
func corruptf(format string, args ...any) error { return corrupt(fmt.Errorf(format, args...)) }

// verified remembers split files that passed Verify, by path, size and
// modification time, so that an activity run once per shard of a version
// hashes its files once per process.
var verified struct {
	sync.Mutex
	files map[string]fileID
}

// fileID is what tells a file from a changed one.
type fileID struct {
	size    int64
	modTime int64
}

func statID(path string) (fileID, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, err
	}
	return fileID{size: fi.Size(), modTime: fi.ModTime().UnixNano()}, nil
}

// VerifyCached is Verify, skipping the split files this process verified
// already and that have not changed since (size and modification time).
// Readers that open a version many times (evaluation shards) call it before
// reading; a mismatch wraps ErrCorrupt and names the file.
func (v *Version) VerifyCached() error {
	verified.Lock()
	defer verified.Unlock()
	if verified.files == nil {
		verified.files = map[string]fileID{}
	}
	all := true
	for _, split := range v.m.SplitNames() {
		path := filepath.Join(v.dir, v.m.Splits[split].File)
		id, err := statID(path)
		if err != nil || verified.files[path] != id {
			all = false
			break
		}
	}
	if all {
		return nil
	}
	if err := v.Verify(); err != nil {
		return err
	}
	for _, split := range v.m.SplitNames() {
		path := filepath.Join(v.dir, v.m.Splits[split].File)
		if id, err := statID(path); err == nil {
			verified.files[path] = id
		}
	}
	return nil
}

// missing reports whether err says a file does not exist.
func missing(err error) bool { return errors.Is(err, fs.ErrNotExist) }
