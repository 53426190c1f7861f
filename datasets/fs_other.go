//go:build !linux

package datasets

// renameNoReplace renames oldpath to newpath unless newpath exists. Without
// RENAME_NOREPLACE the check and the rename are two steps.
func renameNoReplace(oldpath, newpath string) error {
	return renameCheckFirst(oldpath, newpath)
}
