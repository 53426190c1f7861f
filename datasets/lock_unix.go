//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package datasets

import (
	"errors"
	"os"
	"syscall"
)

// lockDir opens dir and takes an exclusive flock on it, held until the file is closed
// or the process dies (even by SIGKILL): that is how Open tells a live Writer's temp
// directory from an abandoned one.
func lockDir(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// tryLockDir reports whether dir's lock is free, returning it held if so.
func tryLockDir(dir string) (*os.File, bool, error) {
	f, err := lockDir(dir)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return f, true, nil
}
