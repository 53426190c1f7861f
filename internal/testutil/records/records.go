// Package records generates datasets for tests with the builtin teacher, the
// way the generate activity does. Only tests import it.
package records

import (
	"context"
	"sync"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/builtin"
	"github.com/cyclecore/mlmforge/internal/testutil"
	"github.com/cyclecore/mlmforge/schemas"
)

// generated caches builtin-teacher datasets by task and variant: generation
// is deterministic, so every test of a test binary sees the same records.
var generated sync.Map // string -> []datasets.Record

// Builtin returns n test-split records of a task (seed 7) generated with the
// builtin teacher (plan, batch items, runner), or fails the test when it
// generates fewer than 90% of them. A later call for the same task and
// variant with n no larger gets a prefix of the cached records: callers must
// not change them.
func Builtin(tb testing.TB, task schemas.Task, variant string, n int) []datasets.Record {
	tb.Helper()
	key := string(task) + "/" + variant
	if v, ok := generated.Load(key); ok && len(v.([]datasets.Record)) >= n {
		return v.([]datasets.Record)[:n]
	}
	recs, err := builtin.Generate(context.Background(), testutil.Catalog(tb),
		generator.Spec{Task: task, Variant: variant, Counts: map[string]int{"test": n}, Seed: 7})
	if err != nil {
		tb.Fatal(err)
	}
	if len(recs) < n*9/10 {
		tb.Fatalf("generated %d of %d %s records", len(recs), n, task)
	}
	generated.Store(key, recs)
	return recs
}
