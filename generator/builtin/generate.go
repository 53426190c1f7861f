package builtin

import (
	"context"
	"fmt"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/validate"
	"github.com/cyclecore/mlmforge/schemas"
)

// GenerateBuiltin generates spec's examples in this process with the builtin
// teacher and the default validators, the way one Dataset workflow batch
// does (plan, items of every cell and split, runner), without cross-batch
// dedup or top-up rounds. It is for tests, benchmarks and examples that need
// realistic records without a Temporal server; spec.Teacher is ignored.
func Generate(ctx context.Context, cat *schemas.Catalog, spec generator.Spec) ([]datasets.Record, error) {
	plan, err := generator.NewPlan(cat, spec.WithDefaults())
	if err != nil {
		return nil, err
	}
	items := plan.QuotaItems()
	r := &generator.Runner{Catalog: cat, Plan: plan, Teacher: New(cat), Info: generator.TeacherInfo{Name: "builtin"},
		Validator: validate.New(cat, validate.DefaultConfig())}
	recs, _, _, err := r.Run(ctx, 0, items, nil)
	if err != nil {
		return nil, fmt.Errorf("generate %s with the builtin teacher: %w", spec.Task, err)
	}
	return recs, nil
}
