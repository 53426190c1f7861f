package datasets

import (
	"errors"

	"golang.org/x/sys/unix"
)

// renameNoReplace renames a directory to newpath unless newpath exists, atomically:
// a plain rename(2) would silently replace an empty directory that appeared meanwhile.
func renameNoReplace(oldpath, newpath string) error {
	err := unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY):
		return errTargetExists
	case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS):
		// The filesystem lacks RENAME_NOREPLACE (some network filesystems).
		return renameCheckFirst(oldpath, newpath)
	}
	return err
}
