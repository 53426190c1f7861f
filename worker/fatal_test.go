package worker

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"

	"github.com/cyclecore/mlmforge/internal/testutil/extproc"
)

const fatalChildEnv = "MLMFORGE_TEST_FATAL_CHILD"

// TestFatalEchoSaysWhy: when the embedded server gives up (here: the call its
// RPC factory makes when a port is taken), the process exits 1 with the
// reason and the logger's tags on stderr, even with the no-op logger.
func TestFatalEchoSaysWhy(t *testing.T) {
	if os.Getenv(fatalChildEnv) != "" {
		var l log.Logger = fatalEcho{Logger: log.NewNoopLogger(), w: os.Stderr}
		l = log.With(l, tag.Service("frontend"))
		l.Fatal("Failed to start gRPC listener", tag.Address("127.0.0.1:7233"))
		return // not reached
	}
	cmd := extproc.Self(fatalChildEnv, "1", "-test.run=^TestFatalEchoSaysWhy$")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("child: %v, want exit status 1 (stderr %q)", err, stderr.String())
	}
	want := "mlmforge: embedded Temporal server: Failed to start gRPC listener (service=frontend, address=127.0.0.1:7233)"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q, want the line %q", stderr.String(), want)
	}
}
