package datasets

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/internal/testutil/extproc"
	"github.com/cyclecore/mlmforge/schemas"
)

// crashHelperEnv names the store root the helper process writes into.
const crashHelperEnv = "MLMFORGE_DATASETS_CRASH_HELPER"

// TestCrashHelper is not a test: run by TestKilledWriter as a child process, it writes
// task edgeintent version v1 slowly, forever, until it is killed.
func TestCrashHelper(t *testing.T) {
	root := os.Getenv(crashHelperEnv)
	if root == "" {
		t.Skip("helper process for TestKilledWriter")
	}
	s, err := Open(root)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	w, err := s.Create(schemas.EdgeIntent, "v1")
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	w.maxRows = 500 // flush row groups often so the file is half-written when killed
	for i := 0; ; i += 250 {
		recs := make([]Record, 250)
		for j := range recs {
			recs[j] = exampleRecord(schemas.EdgeIntent, i+j)
			recs[j].Input = strings.Repeat(recs[j].Input+" ", 20)
		}
		if err := w.Write(recs...); err != nil {
			fmt.Println("ERROR", err)
			os.Exit(1)
		}
		if i == 2000 {
			fmt.Println("WRITING", w.Dir())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKilledWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	root := t.TempDir()
	cmd := extproc.Self(crashHelperEnv, root, "-test.run=^TestCrashHelper$", "-test.v")
	lines := extproc.Start(t, cmd, "WRITING ", 60*time.Second)
	_, tmp, _ := strings.Cut(lines[len(lines)-1], "WRITING ")
	// Let it run into the middle of a row group, then kill it without warning.
	time.Sleep(50 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v", err)
	}
	if info, err := os.Stat(filepath.Join(tmp, "train.parquet")); err != nil || info.Size() == 0 {
		t.Fatalf("the child wrote nothing before it died (%v): the test proves nothing", err)
	}

	// The half-written version is invisible.
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if ms, err := s.List(schemas.EdgeIntent); err != nil || len(ms) != 0 {
		t.Fatalf("List after crash = %v, %v; want no versions", ms, err)
	}
	if _, err := s.Version(schemas.EdgeIntent, "v1"); err == nil {
		t.Fatal("Version(v1) found the crashed version")
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("Open removed a young temp dir (%v); it must wait AbandonedAge", err)
	}

	// The same name can be created and committed; the dead temp dir is ignored.
	live, err := s.Create(schemas.EdgeIntent, "v2") // a live writer Open must never remove
	if err != nil {
		t.Fatal(err)
	}
	defer live.Abort()
	recs := exampleRecords(schemas.EdgeIntent, 10)
	m := commitVersion(t, s, schemas.EdgeIntent, "v1", recs)
	if m.Rows() != len(recs) {
		t.Errorf("recommitted v1 has %d rows, want %d", m.Rows(), len(recs))
	}
	v, err := s.Version(schemas.EdgeIntent, "")
	if err != nil || v.Manifest().Version != "v1" || v.Verify() != nil {
		t.Fatalf("latest = %v, %v", v, err)
	}

	// Only the dead writer's directory is abandoned.
	removed, err := s.RemoveAbandoned(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != tmp {
		t.Errorf("RemoveAbandoned = %v, want [%s]", removed, tmp)
	}
	if _, err := os.Stat(live.Dir()); err != nil {
		t.Errorf("the live writer's temp dir was removed: %v", err)
	}
	if err := live.Write(recs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := live.Commit(CommitInfo{}); err != nil {
		t.Errorf("live writer could not commit: %v", err)
	}
}
