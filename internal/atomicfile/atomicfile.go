// Package atomicfile replaces files and directories so that a crash, at any point,
// leaves either the old or the new content under the target name, never a mix and
// never a truncated file. It is the one place where mlmforge does temp-file-and-rename:
// every writer of a checkpoint, export, manifest, report or store file goes through it.
//
// The protocol: the content is written under a temp name beside the target
// (".<name>.tmp-<random>", in the same directory so the rename stays within one
// filesystem), fsynced, renamed over the target, and the parent directory is fsynced so
// that the rename itself survives a power loss. A temp name is flocked by its writer
// while it is in use; a later write of the same target removes the unlocked leftovers of
// a writer that died, so crashes do not pile up temp files. On systems without flock
// nothing is removed automatically.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Infixes of the temp names beside a target called name: ".<name>.tmp-<random>" holds
// content being written (or, after a directory swap, the old directory being removed),
// ".<name>.old-<random>" an old directory moved aside where directories cannot be
// exchanged in one step.
const (
	tmpInfix = ".tmp-"
	oldInfix = ".old-"
)

// ErrNotDir is returned by ReplaceDir when the target exists and is not a directory.
var ErrNotDir = errors.New("exists and is not a directory")

// hook, when a test sets it, is called at each named stage of a write; the crash test
// kills the process there. It is nil in production.
var hook func(stage string)

// at reports reaching stage to hook.
func at(stage string) {
	if hook != nil {
		hook(stage)
	}
}

// WriteFile writes data to path atomically with permissions perm (set exactly, as
// umask does not apply), replacing any file there.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// Write replaces the file at path atomically with what write puts into f, a new empty
// temp file beside path; write must not close f. Use it to stream content too large to
// hold in memory (or to hand an *os.File to an encoder that needs one). The file gets
// permissions perm. If write fails, nothing at path changes and the temp file is removed.
func Write(path string, perm fs.FileMode, write func(f *os.File) error) (err error) {
	dir, base := split(path)
	removeStale(dir, base)
	f, err := createTemp(dir, base)
	if err != nil {
		return err
	}
	renamed := false
	defer func() {
		if !renamed {
			f.Close() // may be closed already; the first error is what matters
			if rmErr := os.Remove(f.Name()); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
				err = errors.Join(err, rmErr)
			}
		}
	}()
	if err := f.Chmod(perm); err != nil { // CreateTemp makes 0600 files
		return err
	}
	if err := write(f); err != nil {
		return err
	}
	at("file:written")
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", f.Name(), err)
	}
	at("file:synced")
	// The temp file stays open, and so locked, until it no longer has its temp name.
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	renamed = true
	closeErr := f.Close()
	at("file:renamed")
	return errors.Join(closeErr, syncPath(dir))
}

// ReplaceDir replaces the directory dst atomically with what fill writes into tmp, a
// new empty directory beside dst (fill need not fsync: ReplaceDir fsyncs every file and
// directory under tmp before the swap). On Linux the swap is one renameat2
// RENAME_EXCHANGE, so a crash leaves dst either wholly old or wholly new. Elsewhere, or
// on a filesystem without it, the old dst is first renamed aside, and a crash between
// the two renames leaves dst missing with the old directory under ".<name>.old-*" until
// the next ReplaceDir of dst. The old directory is removed after the swap. If fill
// fails, dst is untouched and tmp is removed. The parent of dst is created if missing.
func ReplaceDir(dst string, fill func(tmp string) error) (err error) {
	dst = filepath.Clean(dst)
	parent, base := split(dst)
	switch fi, err := os.Stat(dst); {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("%s %w", dst, ErrNotDir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	removeStale(parent, base)
	tmp, lock, err := mkdirTemp(parent, base)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp) // best effort: err says what failed
		}
		lock.Close()
	}()
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes 0700 directories
		return err
	}
	if err := fill(tmp); err != nil {
		return err
	}
	at("dir:filled")
	if err := syncTree(tmp); err != nil {
		return err
	}
	at("dir:synced")
	old, err := swapDir(tmp, dst, parent, base)
	if err != nil {
		return err
	}
	at("dir:swapped")
	if err := syncPath(parent); err != nil {
		return err
	}
	if old == "" {
		return nil
	}
	return os.RemoveAll(old)
}

// swapDir puts the complete directory tmp in place of dst and returns where the old
// dst now is ("" if there was none).
func swapDir(tmp, dst, parent, base string) (old string, err error) {
	d, err := os.Open(dst)
	if errors.Is(err, fs.ErrNotExist) {
		return "", os.Rename(tmp, dst)
	}
	if err != nil {
		return "", err
	}
	// Locked, the old directory is not taken for a dead writer's leftover by a
	// concurrent ReplaceDir while it waits for removal under its temp name.
	defer d.Close()
	if err := lockWait(d); err != nil {
		return "", err
	}
	switch err := exchangeDirs(tmp, dst); {
	case err == nil:
		return tmp, nil
	case !errors.Is(err, errNoExchange):
		return "", err
	}
	old = filepath.Join(parent, "."+base+oldInfix+strings.TrimPrefix(filepath.Base(tmp), "."+base+tmpInfix))
	if err := os.Rename(dst, old); err != nil {
		return "", err
	}
	at("dir:aside")
	if err := os.Rename(tmp, dst); err != nil {
		if rerr := os.Rename(old, dst); rerr != nil {
			return "", errors.Join(err, fmt.Errorf("restore %s (the old directory is kept at %s): %w", dst, old, rerr))
		}
		return "", err
	}
	return old, nil
}

// split returns path's directory ("." for a bare name) and base name.
func split(path string) (dir, base string) {
	dir, base = filepath.Split(filepath.Clean(path))
	if dir == "" {
		dir = "."
	}
	return dir, base
}

// createTemp creates and locks a new temp file for base in dir.
func createTemp(dir, base string) (*os.File, error) {
	for {
		f, err := os.CreateTemp(dir, "."+base+tmpInfix+"*")
		if err != nil {
			return nil, err
		}
		ok, err := tryLock(f)
		if ok {
			return f, nil
		}
		// A concurrent removeStale took the new file for a leftover and removes it.
		f.Close()
		if err != nil {
			os.Remove(f.Name()) // best effort: the lock error is the one to report
			return nil, err
		}
	}
}

// mkdirTemp creates a new temp directory for base in parent and returns it with the
// open, locked handle that marks it as in use.
func mkdirTemp(parent, base string) (string, *os.File, error) {
	for {
		tmp, err := os.MkdirTemp(parent, "."+base+tmpInfix+"*")
		if err != nil {
			return "", nil, err
		}
		d, err := os.Open(tmp)
		if err != nil {
			os.Remove(tmp) // best effort: the open error is the one to report
			return "", nil, err
		}
		ok, err := tryLock(d)
		if ok {
			return tmp, d, nil
		}
		d.Close() // as in createTemp
		if err != nil {
			os.Remove(tmp) // best effort: the lock error is the one to report
			return "", nil, err
		}
	}
}

// removeStale removes the temp files and directories of base in dir that no live
// writer holds: the leftovers of a writer that crashed. It is best effort, as a
// leftover is only wasted space: its name never collides with a later write's.
func removeStale(dir, base string) {
	if !canDetectStale {
		return
	}
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	for _, name := range names {
		if !strings.HasPrefix(name, "."+base+tmpInfix) && !strings.HasPrefix(name, "."+base+oldInfix) {
			continue
		}
		p := filepath.Join(dir, name)
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if ok, _ := tryLock(f); ok {
			os.RemoveAll(p)
		}
		f.Close()
	}
}

// syncTree fsyncs every regular file and directory under root, root included.
func syncTree(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		return syncPath(p)
	})
}

// SyncDir fsyncs the directory dir, so that the names created, renamed or removed in
// it survive a crash. It is for callers with a rename protocol of their own, such as
// the datasets store's commit of a version directory.
func SyncDir(dir string) error { return syncPath(dir) }

// syncPath fsyncs a file or directory, so that its content (for a directory: the
// names created or renamed in it) survives a crash.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return nil
}
