package datasets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cyclecore/mlmforge/schemas"

	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// ErrReferenced is returned (wrapped) by Remove for a version something
// still names.
var ErrReferenced = errors.New("dataset version is referenced")

// Remove deletes the committed version task@version. A version that another
// version of the task names as its parent is refused (ErrReferenced); other
// references (training runs, reports) live outside the store, so the caller
// checks them first. The directory is renamed away before it is deleted, so
// a reader sees the version whole or not at all, and a crash mid-way leaves
// a temp directory that Open removes later (RemoveAbandoned).
func (s *Store) Remove(task schemas.Task, version string) error {
	v, err := s.Version(task, version)
	if err != nil {
		return fmt.Errorf("remove dataset: %w", err)
	}
	if strings.EqualFold(version, "latest") || version == "" {
		return fmt.Errorf("remove dataset %s@%s: name the version (%s@%s), not latest", task, version, task, v.m.Version)
	}
	ms, err := s.List(task)
	if err != nil {
		return fmt.Errorf("remove dataset %s@%s: %w", task, version, err)
	}
	var children []string
	for _, m := range ms {
		if m.Parent == version {
			children = append(children, m.Ref())
		}
	}
	if len(children) > 0 {
		return fmt.Errorf("remove dataset %s@%s: %w: parent of %s", task, version, ErrReferenced, strings.Join(children, ", "))
	}
	taskDir := filepath.Join(s.root, string(task))
	tmp, err := os.MkdirTemp(taskDir, tmpPrefix+"rm-"+version+"-")
	if err != nil {
		return fmt.Errorf("remove dataset %s@%s: %w", task, version, err)
	}
	// MkdirTemp made the name; the version directory takes its place.
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("remove dataset %s@%s: %w", task, version, err)
	}
	if err := os.Rename(v.dir, tmp); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove dataset %s@%s: removed meanwhile", task, version)
		}
		return fmt.Errorf("remove dataset %s@%s: %w", task, version, err)
	}
	if err := atomicfile.SyncDir(taskDir); err != nil {
		return fmt.Errorf("remove dataset %s@%s: %w", task, version, err)
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove dataset %s@%s: the version is gone, its files in %s are not: %w", task, version, tmp, err)
	}
	return nil
}
