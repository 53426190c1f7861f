package worker

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestReservePort: the reserved port can be bound at once, and on Linux it
// sits in TIME_WAIT (state 06 of /proc/net/tcp), which is what keeps the
// kernel from giving it to another bind(:0) or outgoing connection meanwhile.
func TestReservePort(t *testing.T) {
	p, err := ReservePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" {
		tab, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			t.Fatal(err)
		}
		local := fmt.Sprintf("0100007F:%04X", p)
		waiting := false
		for _, line := range strings.Split(string(tab), "\n") {
			f := strings.Fields(line)
			if len(f) > 3 && f[1] == local && f[3] == "06" {
				waiting = true
			}
		}
		if !waiting {
			t.Errorf("port %d has no TIME_WAIT socket in /proc/net/tcp", p)
		}
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		t.Fatalf("bind the reserved port: %v", err)
	}
	l.Close()
}
