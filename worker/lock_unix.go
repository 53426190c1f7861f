//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package worker

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDB takes an exclusive flock next to the SQLite file so that two server
// processes never share one database; the kernel drops it when the process
// dies, even by SIGKILL, so a crash never leaves a stale lock. The holder
// writes its pid and frontend address into the lock file, so the error a
// second process gets can name the server to use instead.
func lockDB(dbPath, address string) (*os.File, error) {
	path := dbPath + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("embedded temporal: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		owner, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, newHomeInUse(dbPath, string(owner))
		}
		return nil, fmt.Errorf("embedded temporal: lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(lockOwner(os.Getpid(), address)), 0)
	}
	return f, nil
}
