package extproc

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// roleEnv makes this test binary a child that prints a ready line and then
// runs until it is signalled, like the long-running children the harness is
// for.
const roleEnv = "MLMFORGE_TEST_EXTPROC_CHILD"

func TestMain(m *testing.M) {
	Main(m, roleEnv, func(v string) int {
		if v == "exit" {
			return 3 // dies before its ready line
		}
		// Catch SIGTERM before saying ready: the parent signals as soon as it
		// reads the line.
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM)
		fmt.Println("starting")
		fmt.Println("ready " + v)
		<-stop
		return 0
	})
}

// TestStartWaitsForTheReadyLine re-executes this binary in its child role and
// checks that Start returns every line up to the ready one, and that the child
// still runs then: it exits 0 on SIGTERM.
func TestStartWaitsForTheReadyLine(t *testing.T) {
	cmd := Self(roleEnv, "x1")
	lines := Start(t, cmd, "ready x1", time.Minute)
	if want := []string{"starting", "ready x1"}; strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", lines, want)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("child after SIGTERM: %v (it should have been running until then)", err)
	}
}

func TestWaitForLineFailsWhenOutputEnds(t *testing.T) {
	ft := &fatalT{TB: t}
	done := make(chan struct{})
	go func() { // Fatalf ends the goroutine, as it ends a test
		defer close(done)
		WaitForLine(ft, strings.NewReader("a\nb\n"), "c", time.Minute)
	}()
	<-done
	if !strings.Contains(ft.msg, `output ended before "c"; saw ["a" "b"]`) {
		t.Errorf("failure %q", ft.msg)
	}
}

func TestPackageDir(t *testing.T) {
	if got, want := packageDir(), "./internal/testutil/extproc/"; got != want {
		t.Errorf("packageDir() = %q, want %q", got, want)
	}
}

func TestRequireSkipsWithoutTheVariable(t *testing.T) {
	m := NodeModule{Env: "MLMFORGE_TEST_EXTPROC_UNSET", Package: "@scope/pkg", Spec: "@scope/pkg@1.0.0", Prefix: "/tmp/p"}
	t.Setenv(m.Env, "")
	ft := &fatalT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Require(ft)
	}()
	<-done
	want := "set MLMFORGE_TEST_EXTPROC_UNSET to a node_modules directory holding @scope/pkg to run: " +
		"npm install --prefix /tmp/p @scope/pkg@1.0.0 && MLMFORGE_TEST_EXTPROC_UNSET=/tmp/p/node_modules " +
		"go test ./internal/testutil/extproc/"
	if !ft.skipped || ft.msg != want {
		t.Errorf("skipped %v with %q, want %q", ft.skipped, ft.msg, want)
	}
	t.Setenv(m.Env, t.TempDir())
	ft = &fatalT{TB: t}
	done = make(chan struct{})
	go func() {
		defer close(done)
		m.Require(ft)
	}()
	<-done
	if ft.skipped || !strings.Contains(ft.msg, "(npm install --prefix DIR @scope/pkg)") {
		t.Errorf("a directory without the package: skipped %v, failure %q", ft.skipped, ft.msg)
	}
}

// fatalT records the message of Fatalf or Skipf and ends its goroutine.
type fatalT struct {
	testing.TB
	msg     string
	skipped bool
}

func (f *fatalT) Helper() {}

func (f *fatalT) Fatal(args ...any) { f.msg = fmt.Sprint(args...); runtime.Goexit() }

func (f *fatalT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalT) Skipf(format string, args ...any) {
	f.msg, f.skipped = fmt.Sprintf(format, args...), true
	runtime.Goexit()
}

// TestStartSaysHowTheChildEnded: a child that exits before its ready line
// fails the test with its exit status.
func TestStartSaysHowTheChildEnded(t *testing.T) {
	ft := &fatalT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(ft, Self(roleEnv, "exit"), "ready", time.Minute)
	}()
	<-done
	if !strings.Contains(ft.msg, "output ended before") || !strings.Contains(ft.msg, "exit status 3") {
		t.Errorf("failure %q, want the child's exit status", ft.msg)
	}
}
