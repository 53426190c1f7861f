package workflows

import (
	"os"
	"testing"

	"go.temporal.io/sdk/worker"
)

// TestMain names the test binary for the SDK. Without a name, the test
// environment hashes the whole test binary (tens of megabytes under -race)
// the first time a workflow schedules an activity, inside the workflow
// goroutine: on a busy machine that one hash outlasts the SDK's one-second
// deadlock detector and fails whichever test runs first with TMPRL1101.
// Real workers hash at start, outside workflow code.
func TestMain(m *testing.M) {
	worker.SetBinaryChecksum("mlmforge-workflows-test")
	os.Exit(m.Run())
}
