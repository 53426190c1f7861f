package review

import (
	"encoding/json"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// ValidatorCheck re-validates edits with the generator's validator, the checks
// every generated record passed: schema, label, length, leaks, mock execution
// and grounding of the target in the input. The record keeps its quota cell,
// so an edit cannot move an intent to another class (reject it as
// wrong_label instead), and an edited multi_turn target must keep its
// final_state consistent with its calls (or drop it). Validator.Check is pure
// computation over the embedded catalog, so this is safe in an update
// validator.
func ValidatorCheck(v generator.Validator) CheckFunc {
	return func(rec datasets.Record, input string, target json.RawMessage) error {
		if _, rej := v.Check(SampleOf(rec, target), input, target); rej != nil {
			return rej
		}
		return nil
	}
}

// SampleOf rebuilds the generator sample of a record with the given target,
// as the generator does for a teacher-written label: the cell from the
// record's columns, and for EdgeIntent the slots from the target.
func SampleOf(rec datasets.Record, target json.RawMessage) generator.Sample {
	cell := generator.Cell{Key: rec.Cell, Task: schemas.Task(rec.Task), Variant: rec.Variant,
		Complexity: schemas.Complexity(rec.Complexity), Class: rec.Intent, Function: rec.Function,
		Scenario: schemas.Scenario(rec.Scenario)}
	s := generator.Sample{Target: target}
	switch cell.Task {
	case schemas.EdgeJSON:
		cell.SchemaID = rec.Cell
	case schemas.EdgeIntent:
		cell.Taxonomy = rec.Variant
		var it generator.IntentTarget
		if json.Unmarshal(target, &it) == nil {
			s.Slots = it.Slots
		}
	}
	s.Cell = cell
	return s
}
