//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package worker

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// lockDB takes an exclusive flock next to the SQLite file so that two server
// processes never share one database; the kernel drops it when the process
// dies, even by SIGKILL, so a crash never leaves a stale lock.
func lockDB(dbPath string) (*os.File, error) {
	path := dbPath + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("embedded temporal: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		owner, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("embedded temporal: %s is in use by another mlmforge process (%s); stop it or use another --home",
				dbPath, strings.TrimSpace(string(owner)))
		}
		return nil, fmt.Errorf("embedded temporal: lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "pid %d", os.Getpid())
	}
	return f, nil
}
