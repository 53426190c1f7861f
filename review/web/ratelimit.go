package web

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Failed logins are limited per client address: after loginFailures
// failures within loginWindow, the address gets 429 until the window has
// passed since its first failure. Tokens are 256 random bits, so this is
// not what keeps them from being guessed; it keeps a script from filling
// the log and the CPU, and makes probing visible.
const (
	loginFailures = 10
	loginWindow   = 10 * time.Minute
	// loginTrack bounds the number of addresses remembered.
	loginTrack = 4096
)

// loginLimiter counts failed logins per client address.
type loginLimiter struct {
	mu sync.Mutex
	m  map[string]*failures
}

// failures is one address's failed logins since first.
type failures struct {
	first time.Time
	n     int
}

// clientAddr is the request's remote IP (no proxy headers are trusted).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// blocked reports how long addr must wait before it may try again (0: now).
func (l *loginLimiter) blocked(addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.m[addr]
	if !ok {
		return 0
	}
	if end := f.first.Add(loginWindow); !now.Before(end) {
		delete(l.m, addr)
		return 0
	} else if f.n >= loginFailures {
		return end.Sub(now)
	}
	return 0
}

// fail counts a failed login of addr and returns its count in the window.
func (l *loginLimiter) fail(addr string, now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*failures{}
	}
	f, ok := l.m[addr]
	if !ok || !now.Before(f.first.Add(loginWindow)) {
		if len(l.m) >= loginTrack {
			l.evict(now)
		}
		f = &failures{first: now}
		l.m[addr] = f
	}
	f.n++
	return f.n
}

// succeed forgets addr's failures.
func (l *loginLimiter) succeed(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, addr)
}

// evict drops expired entries, or all of them if none expired; the caller
// holds l.mu.
func (l *loginLimiter) evict(now time.Time) {
	n := len(l.m)
	for k, f := range l.m {
		if !now.Before(f.first.Add(loginWindow)) {
			delete(l.m, k)
		}
	}
	if len(l.m) == n {
		clear(l.m)
	}
}
