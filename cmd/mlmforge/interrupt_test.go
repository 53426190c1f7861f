package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestInterruptedMessage (issue 14 item 9): Ctrl+C of a command on the
// embedded server says that nothing runs the workflow once the process
// exits and that the same command resumes it (a training from its last
// checkpoint); with --address the cluster's workers go on. Neither prints
// the bare "context canceled", and both still unwrap to it.
func TestInterruptedMessage(t *testing.T) {
	embedded := interrupted("train", "train-ab12", true, "it from its last checkpoint", context.Canceled)
	msg := embedded.Error()
	for _, want := range []string{"train-ab12", "stops with this process", "run the same command again to resume it from its last checkpoint"} {
		if !strings.Contains(msg, want) {
			t.Errorf("embedded: %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "goes on") || strings.Contains(msg, "context canceled") {
		t.Errorf("embedded: %q", msg)
	}
	remote := interrupted("train", "train-ab12", false, "it from its last checkpoint", context.Canceled)
	if msg := remote.Error(); !strings.Contains(msg, "goes on where a worker runs it") || strings.Contains(msg, "context canceled") {
		t.Errorf("remote: %q", msg)
	}
	if !errors.Is(embedded, context.Canceled) || !errors.Is(remote, context.Canceled) {
		t.Error("the interruption no longer unwraps to context.Canceled")
	}
}

// TestHomeInUseNamesItsAddress (issue 14 item 9): a command that finds its
// home's database held by another mlmforge process names the --address of
// that process's server (from the lock file), not a default port.
func TestHomeInUseNamesItsAddress(t *testing.T) {
	a := &app{home: t.TempDir(), out: os.Stdout, err: os.Stderr}
	dir := filepath.Join(a.home, "temporal")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Hold the lock as a dev server on port 7399 would.
	lock, err := os.OpenFile(filepath.Join(dir, "temporal.db.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(lock, "pid %d address 127.0.0.1:7399", os.Getpid()); err != nil {
		t.Fatal(err)
	}
	_, _, err = connect(context.Background(), a, clusterFlags{})
	if err == nil || !strings.Contains(err.Error(), "pass --address 127.0.0.1:7399") || strings.Contains(err.Error(), "7233") {
		t.Fatalf("connect on a held home: %v; want it to name --address 127.0.0.1:7399", err)
	}
}
