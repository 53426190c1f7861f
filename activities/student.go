package activities

import (
	"context"
	"github.com/cyclecore/mlmforge/schemas"

	"github.com/cyclecore/mlmforge/eval/runner"
)

// studentRunner loads a student checkpoint for evaluation.
func (a *Activities) studentRunner(ctx context.Context, dir string) (runner.Runner, error) {
	cat, err := schemas.Load()
	if err != nil {
		return nil, err
	}
	return runner.NewStudent(dir, cat)
}
