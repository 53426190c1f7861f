package nn

import "slices"

// defaultGraphMemory bounds the estimated memory of a Net's cached graphs (see
// Options.GraphMemory): a gorgonia graph keeps every activation and gradient of
// its batch shape alive, and a decoder trained on long answers builds several
// shapes (one per batch length bucket): at B=16, T=2048 one training graph of a
// 5M-parameter decoder holds about 8 GB.
const defaultGraphMemory = 6 << 30

// graphBytes estimates what a graph of batch shape (B, T) holds: per token and
// layer the activations and their gradients (norms, q/k/v, attention, o_proj,
// gate/up, SwiGLU, down, residuals: about 12 hidden and 3 intermediate widths),
// and per row of the head (every token, or the k gathered ones) the logits with
// their gradient.
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

// cacheGraph records g under key, most recently used, and drops the least
// recently used graphs while the cache's estimate exceeds the budget (never the
// one just added, so a shape too big for the budget still runs).
func (n *Net) cacheGraph(key graphKey, g *graph) {
	n.graphs[key] = g
	n.touch(key)
	budget := n.opts.GraphMemory
	if budget <= 0 {
		budget = defaultGraphMemory
	}
	var total int64
	for k := range n.graphs {
		total += n.graphBytes(k)
	}
	for total > budget && len(n.lru) > 1 {
		old := n.lru[0]
		n.lru = n.lru[1:]
		total -= n.graphBytes(old)
		if og := n.graphs[old]; og != nil {
			og.m.Close() // releases what the machine holds; the graph is garbage after
		}
		delete(n.graphs, old)
	}
}

// touch moves key to the most recently used end of the cache order.
func (n *Net) touch(key graphKey) {
	if i := slices.Index(n.lru, key); i >= 0 {
		n.lru = slices.Delete(n.lru, i, i+1)
	}
	n.lru = append(n.lru, key)
}
