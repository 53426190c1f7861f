package quant

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// errNotDir is returned when the directory to write exists as a file.
var errNotDir = errors.New("exists and is not a directory")

// dirFile is one file of a directory written by writeDir.
type dirFile struct {
	name string
	data []byte
}

// writeDir writes files into a temp directory next to dir, fsyncs them and the
// directory, and renames it to dir. An existing dir is first renamed aside and removed
// once the new one is in place (rename(2) cannot replace a non-empty directory), so a
// crash leaves the old or the new directory, never a half-written one.
func writeDir(dir string, files []dirFile) (err error) {
	dir = filepath.Clean(dir)
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("%s %w", dir, errNotDir)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp) // best effort: err says what failed
		}
	}()
	for _, f := range files {
		if err := writeSynced(filepath.Join(tmp, f.name), f.data); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes 0700 directories
		return err
	}
	if err := syncPath(tmp); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	return replaceDir(tmp, dir, parent, base)
}

// replaceDir renames the complete directory tmp to dir, moving an existing dir aside.
func replaceDir(tmp, dir, parent, base string) error {
	var aside, old string
	switch _, err := os.Stat(dir); {
	case err == nil:
		if aside, err = os.MkdirTemp(parent, "."+base+".old-*"); err != nil {
			return err
		}
		old = filepath.Join(aside, base)
		if err := os.Rename(dir, old); err != nil {
			os.Remove(aside) // best effort: the rename error is the one to report
			return err
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			if rerr := os.Rename(old, dir); rerr != nil {
				return errors.Join(err, fmt.Errorf("restore %s (the old directory is kept at %s): %w", dir, old, rerr))
			}
			os.Remove(aside) // best effort: empty now
		}
		return err
	}
	if err := syncPath(parent); err != nil {
		return fmt.Errorf("fsync %s: %w", parent, err)
	}
	if aside != "" {
		return os.RemoveAll(aside)
	}
	return nil
}

// writeSynced creates path with data and fsyncs it.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncPath fsyncs a file or directory.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
