package worker

import (
	"fmt"
	"net"
	"runtime"
)

// ReservePort returns a TCP port on ip that nothing listens on and that the
// kernel will not hand to anyone else for about a minute, for a server that
// binds it a moment later (the embedded Temporal services, each with a gRPC
// and a membership port, the Web UI, tests' `dev --port`).
//
// Asking for port 0 and closing the listener is not enough: Linux picks
// ephemeral ports at random, so the same number can go to another process's
// bind(:0) or outgoing connection before our server binds it, and Temporal's
// services then exit the process on "Failed to start gRPC listener" (with
// parallel test packages starting many servers, a dev child died silently
// that way). As the Temporal CLI's dev server and Yelp's
// ephemeral-port-reserve do, ReservePort connects to the port and closes the
// accepted side first: the port sits in TIME_WAIT, which keeps the kernel
// from choosing it for any bind(:0) or connect(), while an explicit bind with
// SO_REUSEADDR (what Go's listeners set) still succeeds.
func ReservePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", ip, err)
	}
	defer l.Close()
	addr := l.Addr().(*net.TCPAddr)
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" {
		return addr.Port, nil // macOS and Windows hand out ephemeral ports in sequence
	}
	dial := *addr
	if dial.IP.IsUnspecified() {
		dial.IP = net.IPv4(127, 0, 0, 1)
	}
	c, err := net.DialTCP("tcp", nil, &dial)
	if err != nil {
		return 0, fmt.Errorf("reserve port %d on %s: %w", addr.Port, ip, err)
	}
	s, err := l.Accept()
	if err != nil {
		c.Close()
		return 0, fmt.Errorf("reserve port %d on %s: %w", addr.Port, ip, err)
	}
	s.Close() // the accepted side first: its TIME_WAIT holds the port
	c.Close()
	return addr.Port, nil
}
