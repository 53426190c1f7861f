//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package atomicfile

import "os"

// canDetectStale is false without flock: a leftover cannot be told from a live
// writer's temp file, so none is removed automatically.
const canDetectStale = false

// tryLock takes no lock where there is no flock (and an open handle would block the
// rename on Windows).
func tryLock(f *os.File) (bool, error) { return true, nil }

// lockWait takes no lock, as tryLock.
func lockWait(f *os.File) error { return nil }
