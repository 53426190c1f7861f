package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// fanOut keeps at most limit futures in flight. While fewer run and more
// reports another to start, it calls start, which schedules one and returns
// its future and what to do when it ends; then it waits for one to end. It
// returns once nothing runs and more reports nothing left (or a reason to
// stop scheduling). Commands are issued in the order of the loops this
// replaced, so recorded histories replay unchanged.
func fanOut(ctx workflow.Context, limit int, more func() bool, start func() (workflow.Future, func(workflow.Future))) {
	sel := workflow.NewSelector(ctx)
	running := 0
	for {
		for running < limit && more() {
			f, done := start()
			sel.AddFuture(f, func(f workflow.Future) {
				running--
				done(f)
			})
			running++
		}
		if running == 0 {
			return
		}
		sel.Select(ctx)
	}
}

// awaitAll waits for every future and calls done with its index as each
// ends, in the order they end, so a progress query is never behind.
func awaitAll[F workflow.Future](ctx workflow.Context, futures []F, done func(i int, f workflow.Future)) {
	sel := workflow.NewSelector(ctx)
	for i, fut := range futures {
		sel.AddFuture(fut, func(f workflow.Future) { done(i, f) })
	}
	for range futures {
		sel.Select(ctx)
	}
}

// inputKey is the first 16 hex digits of the sha256 of v's JSON: the id of
// a child workflow derived from its inputs, so a rerun finds its work.
func inputKey(v any) (string, error) {
	// encoding/json is deterministic: struct fields in declaration order,
	// map keys sorted.
	//workflowcheck:ignore
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("key of %T: %w", v, err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])[:16], nil
}
