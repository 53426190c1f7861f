package nn

import (
	"runtime"
	"testing"
)

// TestGraphPoolShared checks the process-wide graph budget: Nets of one pool
// count against one total, a Net over it drops only its own least recently used
// graphs (never the one it just built), and Close or the garbage collection of
// a dropped Net gives its share back.
func TestGraphPoolShared(t *testing.T) {
	cfg := tinyDecoder()
	pool := &graphPool{}
	newPooled := func() *Net {
		n := newNet(t, cfg, Options{})
		n.acct.pool = pool
		return n
	}
	a, b := newPooled(), newPooled()
	one := a.graphBytes(graphKey{b: 2, t: 8, mode: modeTrain})
	pool.budget = 2*one + one/2 // two B=2, T=8..10 training graphs (their sizes differ by a few percent)
	step := func(n *Net, T int) {
		t.Helper()
		if _, err := n.ForwardBackward(lmBatch(cfg, 2, T, 5)); err != nil {
			t.Fatal(err)
		}
	}
	has := func(n *Net, T int) bool {
		_, ok := n.graphs[graphKey{b: 2, t: T, mode: modeTrain}]
		return ok
	}
	step(a, 8)
	step(a, 9)
	step(b, 8) // over the budget, but b's only graph stays
	if !has(a, 8) || !has(a, 9) || !has(b, 8) {
		t.Fatalf("a %v, b %v: a Net dropped a graph of another or its only one", a.lru, b.lru)
	}
	step(a, 10) // a drops its own oldest until the pool fits
	if has(a, 8) || has(a, 9) || !has(a, 10) || !has(b, 8) {
		t.Fatalf("after a's T=10: a %v, b %v, want a [T=10], b [T=8]", a.lru, b.lru)
	}
	if want := a.acct.cached + b.acct.cached; pool.total != want || pool.total > pool.budget {
		t.Fatalf("pool total %d, Nets hold %d, budget %d", pool.total, want, pool.budget)
	}
	b.Close()
	if pool.total != a.acct.cached || len(b.graphs) != 0 {
		t.Fatalf("after b.Close: pool total %d, a holds %d, b still has %d graphs", pool.total, a.acct.cached, len(b.graphs))
	}
	step(b, 8) // a closed Net still runs
	a = nil    // dropped without Close: its cleanup gives its share back
	total := func() int64 { pool.Lock(); defer pool.Unlock(); return pool.total }
	for i := 0; i < 100 && total() != b.acct.cached; i++ {
		runtime.GC() // the cleanup runs on its own goroutine after a collection
		runtime.Gosched()
	}
	if got := total(); got != b.acct.cached {
		t.Fatalf("after a was collected: pool total %d, b holds %d", got, b.acct.cached)
	}
}

// TestProcessGraphBudget checks the default budget's bounds and the setter.
func TestProcessGraphBudget(t *testing.T) {
	old := SetProcessGraphMemory(123 << 20)
	defer SetProcessGraphMemory(old)
	if old < minGraphMemory || old > maxGraphMemory {
		t.Errorf("default budget %d outside [%d, %d]", old, minGraphMemory, maxGraphMemory)
	}
	if phys := physicalMemory(); phys > 0 && old != min(maxGraphMemory, max(minGraphMemory, phys/6)) {
		t.Errorf("default budget %d, physical memory %d", old, phys)
	}
	if got := MemoryLimit(); got != 2*(123<<20)+2<<30 {
		t.Errorf("memory limit %d for a 123 MiB graph budget", got)
	}
	if got := SetProcessGraphMemory(0); got != 123<<20 {
		t.Errorf("budget after setting 123 MiB: %d", got)
	}
	if got := SetProcessGraphMemory(0); got != old {
		t.Errorf("budget after restoring the default: %d, want %d", got, old)
	}
}
