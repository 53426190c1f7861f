package datasets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cyclecore/mlmforge/schemas"
)

// ErrVersionExists is returned (wrapped) when a version to be created already exists.
var ErrVersionExists = errors.New("dataset version already exists")

// errTargetExists is renameNoReplace's refusal.
var errTargetExists = errors.New("target exists")

// tmpPrefix starts the name of a Writer's temp directory, <task>/.tmp-<version>-<random>.
const tmpPrefix = ".tmp-"

// AbandonedAge is how old an unlocked temp directory must be before Open removes it.
const AbandonedAge = time.Hour

// Store is the dataset store rooted at a directory, normally <home>/datasets.
// A Store holds no state besides its root: several processes may use the same
// root at once, and every committed version is immutable.
type Store struct {
	root string
}

// Open opens the store at root, creating the directory if missing, and removes temp
// directories abandoned by crashed writers (see RemoveAbandoned, with AbandonedAge).
func Open(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("open dataset store: empty root")
	}
	root = filepath.Clean(root)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("open dataset store: %w", err)
	}
	s := &Store{root: root}
	if _, err := s.RemoveAbandoned(AbandonedAge); err != nil {
		return nil, fmt.Errorf("open dataset store %s: %w", root, err)
	}
	return s, nil
}

// Root returns the store's root directory.
func (s *Store) Root() string { return s.root }

func checkTask(task schemas.Task) error {
	if !slices.Contains(schemas.Tasks, task) {
		_, err := schemas.ParseTask(string(task))
		if err == nil { // a non-canonical spelling such as "EdgeIntent"
			err = fmt.Errorf("task %q is not canonical (lower case)", task)
		}
		return err
	}
	return nil
}

// List returns the committed versions of task, oldest first: by number when both
// names are vN, else by creation time, then by name. Temp directories and
// directories without a manifest are not versions.
func (s *Store) List(task schemas.Task) ([]*Manifest, error) {
	if err := checkTask(task); err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	dir := filepath.Join(s.root, string(task))
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	var out []*Manifest
	for _, e := range entries {
		if !e.IsDir() || ValidateVersion(e.Name()) != nil {
			continue
		}
		m, err := s.manifest(task, e.Name())
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list datasets: %w", err)
		}
		out = append(out, m)
	}
	slices.SortFunc(out, compareVersions)
	return out, nil
}

// manifest reads and checks the manifest of task@version.
func (s *Store) manifest(task schemas.Task, version string) (*Manifest, error) {
	path := filepath.Join(s.root, string(task), version, ManifestFile)
	m, err := readManifest(path)
	if err != nil {
		return nil, err
	}
	if m.Task != string(task) || m.Version != version {
		return nil, fmt.Errorf("read %s: manifest names %s@%s, directory is %s@%s", path, m.Task, m.Version, task, version)
	}
	return m, nil
}

// ListAll returns the committed versions of every task, task by task in
// schemas.Tasks order, each oldest first.
func (s *Store) ListAll() ([]*Manifest, error) {
	var out []*Manifest
	for _, t := range schemas.Tasks {
		ms, err := s.List(t)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

// Version opens task@version; version "" or "latest" is the newest. An unknown
// version gives an error listing the existing ones.
func (s *Store) Version(task schemas.Task, version string) (*Version, error) {
	if err := checkTask(task); err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	if version == "" || strings.EqualFold(version, "latest") {
		ms, err := s.List(task)
		if err != nil {
			return nil, err
		}
		if len(ms) == 0 {
			return nil, fmt.Errorf("open dataset %s@latest: no versions of %s under %s", task, task, s.root)
		}
		m := ms[len(ms)-1]
		return &Version{m: m, dir: filepath.Join(s.root, string(task), m.Version)}, nil
	}
	if err := ValidateVersion(version); err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", task, err)
	}
	m, err := s.manifest(task, version)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, s.unknownVersion(task, version)
	}
	if err != nil {
		return nil, fmt.Errorf("open dataset %s@%s: %w", task, version, err)
	}
	return &Version{m: m, dir: filepath.Join(s.root, string(task), version)}, nil
}

func (s *Store) unknownVersion(task schemas.Task, version string) error {
	ms, err := s.List(task)
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		return fmt.Errorf("open dataset %s@%s: unknown version %q: no versions of %s under %s", task, version, version, task, s.root)
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Version
	}
	return fmt.Errorf("open dataset %s@%s: unknown version %q: versions are %s", task, version, version, strings.Join(names, ", "))
}

// ParseRef parses a dataset reference: "edgeintent@v3", "edgeintent@latest", or
// "edgeintent" (the newest). The version returned for the newest is "latest", which
// Store.Version accepts. An unknown task gives an error listing the valid tasks.
func ParseRef(ref string) (task schemas.Task, version string, err error) {
	name, ver, hasAt := strings.Cut(ref, "@")
	task, err = schemas.ParseTask(name)
	if err != nil {
		return "", "", fmt.Errorf("dataset ref %q: %w", ref, err)
	}
	switch {
	case !hasAt || strings.EqualFold(ver, "latest"):
		return task, "latest", nil
	case ver == "":
		return "", "", fmt.Errorf("dataset ref %q: empty version after @ (want e.g. %s@v1 or %s@latest)", ref, task, task)
	}
	if err := ValidateVersion(ver); err != nil {
		return "", "", fmt.Errorf("dataset ref %q: %w", ref, err)
	}
	return task, ver, nil
}

// Create starts writing task@version; version "" picks the next vN (one more than the
// highest committed or in-progress vN). Nothing is visible until Writer.Commit. An
// existing version gives an error wrapping ErrVersionExists; Commit checks again,
// atomically, since another writer may commit the same name first.
func (s *Store) Create(task schemas.Task, version string) (*Writer, error) {
	if err := checkTask(task); err != nil {
		return nil, fmt.Errorf("create dataset: %w", err)
	}
	taskDir := filepath.Join(s.root, string(task))
	if err := os.MkdirAll(taskDir, 0o755); err != nil {
		return nil, fmt.Errorf("create dataset: %w", err)
	}
	if version == "" {
		n, err := s.highestNumber(taskDir)
		if err != nil {
			return nil, fmt.Errorf("create dataset %s: %w", task, err)
		}
		version = fmt.Sprintf("v%d", n+1)
	} else if err := ValidateVersion(version); err != nil {
		return nil, fmt.Errorf("create dataset %s: %w", task, err)
	}
	final := filepath.Join(taskDir, version)
	if _, err := os.Lstat(final); err == nil {
		return nil, fmt.Errorf("create dataset %s@%s: %w: %s", task, version, ErrVersionExists, final)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("create dataset %s@%s: %w", task, version, err)
	}
	tmp, err := os.MkdirTemp(taskDir, tmpPrefix+version+"-")
	if err != nil {
		return nil, fmt.Errorf("create dataset %s@%s: %w", task, version, err)
	}
	// MkdirTemp makes 0700 directories; a committed version is readable like any file.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, errors.Join(fmt.Errorf("create dataset %s@%s: %w", task, version, err), os.RemoveAll(tmp))
	}
	lock, err := lockDir(tmp)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("create dataset %s@%s: lock %s: %w", task, version, tmp, err), os.RemoveAll(tmp))
	}
	return newWriter(task, version, tmp, final, lock), nil
}

// highestNumber returns the highest N of the vN names in taskDir, counting committed
// versions and the temp directories of live writers.
func (s *Store) highestNumber(taskDir string) (int, error) {
	entries, err := os.ReadDir(taskDir)
	if err != nil {
		return 0, err
	}
	hi := 0
	for _, e := range entries {
		name := e.Name()
		if rest, ok := strings.CutPrefix(name, tmpPrefix); ok {
			i := strings.LastIndexByte(rest, '-')
			if i < 0 || !e.IsDir() {
				continue
			}
			if n, ok := versionNumber(rest[:i]); ok && n > hi && s.live(filepath.Join(taskDir, name)) {
				hi = n
			}
			continue
		}
		if n, ok := versionNumber(name); ok && n > hi {
			hi = n
		}
	}
	return hi, nil
}

// live reports whether a temp directory's writer still holds its lock.
func (s *Store) live(tmp string) bool {
	f, free, err := tryLockDir(tmp)
	if err != nil {
		return false // gone (committed, aborted) or unreadable: not a live writer
	}
	if free {
		f.Close()
	}
	return !free
}

// RemoveAbandoned removes the temp directories of writers that died without Commit or
// Abort: those whose lock is free and that were last modified more than minAge ago.
// Live writers keep their lock however long they run, so they are never removed; the
// age only covers the instant between creating a temp directory and locking it.
// It returns the directories removed.
func (s *Store) RemoveAbandoned(minAge time.Duration) ([]string, error) {
	var removed []string
	cutoff := time.Now().Add(-minAge)
	for _, t := range schemas.Tasks {
		taskDir := filepath.Join(s.root, string(t))
		entries, err := os.ReadDir(taskDir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return removed, err
		}
		for _, e := range entries {
			if !e.IsDir() || !strings.HasPrefix(e.Name(), tmpPrefix) {
				continue
			}
			dir := filepath.Join(taskDir, e.Name())
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // committed or aborted meanwhile
			}
			if err != nil {
				return removed, err
			}
			if info.ModTime().After(cutoff) {
				continue
			}
			lock, free, err := tryLockDir(dir)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return removed, fmt.Errorf("lock %s: %w", dir, err)
			}
			if !free {
				continue
			}
			err = os.RemoveAll(dir)
			lock.Close()
			if err != nil {
				return removed, fmt.Errorf("remove abandoned %s: %w", dir, err)
			}
			removed = append(removed, dir)
		}
	}
	return removed, nil
}

// renameCheckFirst is renameNoReplace where the OS cannot do it in one step.
func renameCheckFirst(oldpath, newpath string) error {
	if _, err := os.Lstat(newpath); err == nil {
		return errTargetExists
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Rename(oldpath, newpath)
}
