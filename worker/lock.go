package worker

import (
	"fmt"
	"net"
	"strings"
)

// HomeInUseError is StartDevServer's error when another process's server
// holds the database: its message says which process and which --address
// reaches that server, so a second command can attach to it instead.
type HomeInUseError struct {
	// DBPath is the SQLite database file in use.
	DBPath string
	// PID is the holder's process id (0 when its lock file did not say).
	PID int
	// Address is a HOST:PORT that reaches the holder's frontend ("" when its
	// lock file did not say, as with a holder from before addresses were kept).
	Address string
}

// Error names the holder and, when known, the --address that reaches it.
func (e *HomeInUseError) Error() string {
	who := "another mlmforge process"
	if e.PID > 0 {
		who += fmt.Sprintf(" (pid %d)", e.PID)
	}
	if e.Address == "" {
		return fmt.Sprintf("embedded temporal: %s is in use by %s; stop it or use another --home", e.DBPath, who)
	}
	return fmt.Sprintf("embedded temporal: %s is in use by %s, whose server listens on %s: pass --address %s to use it, or stop it or use another --home",
		e.DBPath, who, e.Address, e.Address)
}

// lockOwner is what a lock holder writes into the lock file.
func lockOwner(pid int, address string) string {
	return fmt.Sprintf("pid %d address %s", pid, dialable(address))
}

// newHomeInUse reads a holder's lock file content (lockOwner's format; older
// holders wrote only "pid N").
func newHomeInUse(dbPath, owner string) *HomeInUseError {
	e := &HomeInUseError{DBPath: dbPath}
	f := strings.Fields(owner)
	for i := 0; i+1 < len(f); i += 2 {
		switch f[i] {
		case "pid":
			_, _ = fmt.Sscan(f[i+1], &e.PID)
		case "address":
			e.Address = f[i+1]
		}
	}
	return e
}

// dialable turns a listen address into one a client on this machine can
// dial: a server listening on every interface is reached on loopback.
func dialable(address string) string {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return address
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if ip != nil && ip.To4() == nil {
			host = "::1"
		} else {
			host = "127.0.0.1"
		}
	}
	return net.JoinHostPort(host, port)
}
