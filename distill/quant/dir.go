package quant

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// dirFile is one file of a directory written by writeDir.
type dirFile struct {
	name string
	data []byte
}

// writeDir replaces dir with files atomically (atomicfile.ReplaceDir): a crash leaves
// the old or the new directory, never a half-written one. ReplaceDir fsyncs the files.
func writeDir(dir string, files []dirFile) error {
	return atomicfile.ReplaceDir(dir, func(tmp string) error {
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(tmp, f.name), f.data, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", f.name, err)
			}
		}
		return nil
	})
}
