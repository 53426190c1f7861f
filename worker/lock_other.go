//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package worker

import "os"

// lockDB is a no-op where flock is unavailable: run one server per home there.
func lockDB(dbPath, address string) (*os.File, error) { return nil, nil }
