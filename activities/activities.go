// Package activities adapts mlmforge's domain packages (schemas, datasets,
// generator, distill, eval, review) to Temporal activities. Configuration is
// passed in explicitly as struct fields; nothing here reads flags or env vars.
package activities

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/cyclecore/mlmforge/generator/ollama"
	"github.com/cyclecore/mlmforge/workflows"
)

// Activities holds the configuration every activity shares. One value is
// registered per worker process.
type Activities struct {
	// Home is the mlmforge home directory (datasets, checkpoints, reports).
	Home string
	// Identity names this worker process in results, e.g. "host@pid".
	Identity string
	// Ollama configures ollama:<model> teachers (Host from OLLAMA_HOST, set by
	// cmd; timeouts); the model comes from each dataset spec.
	Ollama ollama.Config
	// CheckpointEvery is how often a generation batch saves its progress for
	// resumption; 0 means every 5 seconds.
	CheckpointEvery time.Duration
}

func (a *Activities) checkpointEvery() time.Duration {
	if a.CheckpointEvery > 0 {
		return a.CheckpointEvery
	}
	return 5 * time.Second
}

// DefaultIdentity returns "pid@host", the same shape Temporal's SDK uses.
func DefaultIdentity() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	return fmt.Sprintf("%d@%s", os.Getpid(), host)
}

// Ping answers a health ping with this worker's identity.
func (a *Activities) Ping(ctx context.Context, in workflows.PingInput) (workflows.PingResult, error) {
	return workflows.PingResult{Queue: in.Queue, Worker: a.Identity}, nil
}

// WorkerIdentity returns this worker's identity (run as a local activity).
func (a *Activities) WorkerIdentity(ctx context.Context) (string, error) {
	return a.Identity, nil
}
