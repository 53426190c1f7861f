// Package testutil holds the fixtures that the tests of several packages
// share, so that each lives once. Only tests import it.
//
// It imports nothing heavier than schemas, so that the tests of any package,
// generator's included, may use it; fixtures that need the generator live in
// records, and the external programs and child processes in extproc.
package testutil

import (
	"testing"

	"github.com/cyclecore/mlmforge/schemas"
)

// Catalog loads the embedded catalog or fails the test. Each call loads a
// fresh copy, so a test may change its catalog without touching another's.
func Catalog(tb testing.TB) *schemas.Catalog {
	tb.Helper()
	cat, err := schemas.Load()
	if err != nil {
		tb.Fatal(err)
	}
	return cat
}
