package runner

import (
	"fmt"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/schemas"
)

// constraint returns the JSON-Schema token mask for r's answer.
func (s *Student) constraint(r *datasets.Record, task schemas.Task) (func([]int, []float32), error) {
	return nil, fmt.Errorf("constrained decoding is not available yet for %s", task)
}
