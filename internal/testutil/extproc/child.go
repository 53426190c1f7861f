package extproc

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Main is the body of a TestMain whose test binary also plays a child role:
// when the variable env is set, the process is the child, runs role with the
// variable's value and exits with what role returns; otherwise it runs the
// tests.
func Main(m *testing.M, env string, role func(value string) int) {
	if v := os.Getenv(env); v != "" {
		os.Exit(role(v))
	}
	os.Exit(m.Run())
}

// Self returns a command that runs this test binary again with env=value in
// its environment. The child runs no test (-test.run=^$), so that Main gives
// it its role, unless testArgs name what it runs instead.
func Self(env, value string, testArgs ...string) *exec.Cmd {
	if len(testArgs) == 0 {
		testArgs = []string{"-test.run=^$"}
	}
	cmd := exec.Command(os.Args[0], testArgs...)
	cmd.Env = append(os.Environ(), env+"="+value)
	return cmd
}

// Start starts cmd with its stdout piped and its stderr on the test's, kills
// it when the test ends, and waits for a line of its stdout containing ready
// (see WaitForLine). A test may kill and wait for cmd itself before then.
func Start(tb testing.TB, cmd *exec.Cmd, ready string, timeout time.Duration) []string {
	tb.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return waitForLine(tb, stdout, ready, timeout, func() string {
		// Output ends when the child exits: say how, since a signal
		// (OOM killer) leaves nothing on stderr.
		return fmt.Sprintf(" (%s: %v)", cmd.Path, cmd.Wait())
	})
}

// WaitForLine reads r until a line contains want and returns the lines read,
// that one last; it fails the test when r ends first or after timeout (a
// guard against a hang, not a measure). The rest of r is drained so that the
// writer never blocks on a full pipe.
func WaitForLine(tb testing.TB, r io.Reader, want string, timeout time.Duration) []string {
	tb.Helper()
	return waitForLine(tb, r, want, timeout, func() string { return "" })
}

// waitForLine is WaitForLine; ended describes why the output ended.
func waitForLine(tb testing.TB, r io.Reader, want string, timeout time.Duration, ended func() string) []string {
	tb.Helper()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var seen []string
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				tb.Fatalf("output ended before %q; saw %q%s", want, seen, ended())
			}
			seen = append(seen, l)
			if strings.Contains(l, want) {
				go func() {
					for range lines {
					}
				}()
				return seen
			}
		case <-deadline:
			tb.Fatalf("no %q within %s; saw %q", want, timeout, seen)
		}
	}
}
