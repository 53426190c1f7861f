package infer

import (
	"runtime"
	"sync"
)

// team is a fixed set of goroutines that run one function at a time, each call with its
// own worker index. It exists so that a decode step, which runs a few hundred small
// parallel matrix products, starts no goroutine and allocates nothing: run sends a
// prepared function value over channels the helpers already wait on.
type team struct {
	helpers []chan func(worker int)
	wg      sync.WaitGroup
}

// newTeam starts size-1 helper goroutines (the caller of run is worker 0). size <= 0
// means one worker per usable CPU.
func newTeam(size int) *team {
	if size <= 0 {
		size = runtime.GOMAXPROCS(0)
	}
	t := &team{helpers: make([]chan func(int), size-1)}
	for i := range t.helpers {
		ch := make(chan func(int))
		t.helpers[i] = ch
		// The helper holds only its channel and the WaitGroup, never the team's owner,
		// so an abandoned owner can still be collected and its cleanup close the team.
		go helper(ch, &t.wg, i+1)
	}
	return t
}

func helper(ch chan func(int), wg *sync.WaitGroup, worker int) {
	for fn := range ch {
		fn(worker)
		wg.Done()
	}
}

// size is the number of workers, the caller included.
func (t *team) size() int { return len(t.helpers) + 1 }

// run calls fn(0) .. fn(size-1) concurrently and returns when all have returned. fn
// shares the work itself (usually through an atomic tile counter).
func (t *team) run(fn func(worker int)) {
	if len(t.helpers) == 0 {
		fn(0)
		return
	}
	t.wg.Add(len(t.helpers))
	for _, ch := range t.helpers {
		ch <- fn
	}
	fn(0)
	t.wg.Wait()
}

// close stops the helpers; the team must not be used afterwards.
func (t *team) close() {
	for _, ch := range t.helpers {
		close(ch)
	}
	t.helpers = nil
}
