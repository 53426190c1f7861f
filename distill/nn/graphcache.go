package nn

import (
	"slices"
	"sync"
)

// A gorgonia graph keeps every activation and gradient of its batch shape alive
// (graphBytes: at B=16, T=544 a training graph of the 0.5M-parameter
// tiny-funccall holds ~370 MB, at T=2048 one of a 5M-parameter decoder ~8 GB),
// and a run builds one per shape it meets (batch length bucket x LM-head rows x
// mode). The graphs of every Net in the process share one budget (the
// quickstart trains three students in one worker), and each Net may have its
// own tighter bound (Options.GraphMemory). Go's collector lets the heap grow to
// about twice what is live before it collects (GOGC=100), so the budget is a
// sixth of the machine's memory: the graphs then take at most about a third.

// Graph memory budgets: the process-wide one is physical memory / 6 within
// [minGraphMemory, maxGraphMemory].
const (
	minGraphMemory = 1 << 30
	maxGraphMemory = 6 << 30
)

// graphPool accounts the cached graphs of the Nets that share a budget.
type graphPool struct {
	sync.Mutex
	total  int64
	budget int64 // 0: the default, computed on first use (budgetLocked)
}

// processGraphs is the pool of every Net of the process (tests give a Net its
// own).
var processGraphs graphPool

// budgetLocked is the pool's budget: set, or a sixth of the machine's memory
// (physicalMemory) within [minGraphMemory, maxGraphMemory].
func (p *graphPool) budgetLocked() int64 {
	if p.budget == 0 {
		p.budget = maxGraphMemory
		if phys := physicalMemory(); phys > 0 {
			p.budget = min(maxGraphMemory, max(minGraphMemory, phys/6))
		}
	}
	return p.budget
}

// SetProcessGraphMemory sets the budget of the cached graphs of all Nets in
// the process (0 restores the default, a sixth of physical memory within 1-6
// GiB) and returns the previous one. A Net drops its least recently used
// graphs when it caches a new one while the total is over the budget.
func SetProcessGraphMemory(bytes int64) int64 {
	p := &processGraphs
	p.Lock()
	defer p.Unlock()
	old := p.budgetLocked()
	p.budget = max(bytes, 0)
	return old
}

// MemoryLimit is the soft memory limit a process that trains should run under
// (runtime/debug.SetMemoryLimit): twice the process's graph budget plus 2 GiB
// for everything else. Without one the collector lets the heap reach twice
// what is live before it collects, and graphs dropped and rebuilt as batch
// shapes change are garbage of hundreds of MB each: a quickstart measured 12.6
// GB of resident memory for a 4.1 GB graph budget. The graphs' tensors hold no
// pointers, so collecting more often costs little.
func MemoryLimit() int64 {
	p := &processGraphs
	p.Lock()
	defer p.Unlock()
	return 2*p.budgetLocked() + 2<<30
}

// graphBytes estimates what a graph of batch shape (B, T) holds: per token and
// layer the activations and their gradients (norms, q/k/v, attention, o_proj,
// gate/up, SwiGLU, down, residuals: about 12 hidden and 3 intermediate widths),
// and per row of the head (every token, or the k gathered ones) the logits with
// their gradient. It is close to the heap a graph adds (tiny-funccall at B=16:
// 103 MB measured against 104 estimated at T=144, 348 against 367 at T=544).
func (n *Net) graphBytes(key graphKey) int64 {
	c := n.cfg
	perToken := int64(c.Layers) * int64(12*c.Hidden+3*c.Intermediate)
	headRows := int64(key.b) * int64(key.t)
	if key.k > 0 {
		headRows = int64(key.k)
	}
	factor := int64(2) // values and gradients
	if key.mode != modeTrain {
		factor = 1
	}
	return 4 * factor * (int64(key.b)*int64(key.t)*perToken + headRows*int64(max(c.Vocab, c.NumClasses)))
}

// cacheGraph records g under key, most recently used, and drops this Net's
// least recently used graphs while its own estimate exceeds Options.GraphMemory
// or the process's total exceeds the process budget (never the graph just
// added, so a shape too big for the budget still runs; a Net drops only its
// own graphs, since Nets run concurrently).
func (n *Net) cacheGraph(key graphKey, g *graph) {
	n.graphs[key] = g
	n.touch(key)
	size := n.graphBytes(key)
	p := n.acct.pool
	p.Lock()
	defer p.Unlock()
	n.acct.cached += size
	p.total += size
	budget := p.budgetLocked()
	for len(n.lru) > 1 && (p.total > budget || n.opts.GraphMemory > 0 && n.acct.cached > n.opts.GraphMemory) {
		old := n.lru[0]
		n.lru = n.lru[1:]
		b := n.graphBytes(old)
		n.acct.cached -= b
		p.total -= b
		if og := n.graphs[old]; og != nil {
			og.m.Close() // releases what the machine holds; the graph is garbage after
		}
		delete(n.graphs, old)
	}
}

// Close drops the Net's cached graphs, giving their share of the process's
// graph budget back to other Nets. The Net stays usable: a later step rebuilds
// what it needs.
func (n *Net) Close() {
	n.acct.release()
	for k, g := range n.graphs {
		g.m.Close()
		delete(n.graphs, k)
	}
	n.lru = nil
}

// graphAcct is a Net's share of its pool. It lives apart from the Net so that
// a Net dropped without Close gives its share back when it is collected
// (runtime.AddCleanup in New), as its graphs' memory is then.
type graphAcct struct {
	pool   *graphPool
	cached int64
}

// release gives the share back.
func (a *graphAcct) release() {
	a.pool.Lock()
	defer a.pool.Unlock()
	a.pool.total -= a.cached
	a.cached = 0
}

// touch moves key to the most recently used end of the cache order.
func (n *Net) touch(key graphKey) {
	if i := slices.Index(n.lru, key); i >= 0 {
		n.lru = slices.Delete(n.lru, i, i+1)
	}
	n.lru = append(n.lru, key)
}
