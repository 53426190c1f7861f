package tokenizer

import (
	"container/heap"
	"math"
	"strings"
	"sync"
)

// pairKey packs a symbol pair (left, right) into one map key.
func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// merge is one BPE merge rule: its rank (position in the merge list, lower
// merges first) and the id of the merged token.
type merge struct {
	rank int32
	id   int32
}

// bpe is the BPE model: vocabulary and merges over raw byte strings.
type bpe struct {
	// tokens maps id to the token's raw bytes ("" for an unused id).
	tokens []string
	// ids maps raw bytes to id.
	ids map[string]int32
	// byteIDs is the id of each single byte, -1 when the vocabulary lacks it.
	byteIDs [256]int32
	// merges maps pairKey(left, right) to the rule.
	merges map[uint64]merge
	// mergeList holds the merged pairs in rank order, for saving.
	mergeList [][2]int32
	// ignoreMerges emits a word that is in the vocabulary as one token without
	// merging (Hugging Face's ignore_merges, Llama 3 style).
	ignoreMerges bool
	// unk is the id used for a byte missing from the vocabulary, -1 for none
	// (the byte is then dropped, as Hugging Face does).
	unk int32
}

// heapThreshold is the word length (bytes) from which encodeWord uses a heap:
// the linear scan is O(n^2) and only faster for short words.
const heapThreshold = 48

// encodeWord returns the ids of one pre-tokenized word, in a new slice.
func (m *bpe) encodeWord(word string) []int32 {
	if m.ignoreMerges {
		if id, ok := m.ids[word]; ok {
			return []int32{id}
		}
	}
	syms := make([]int32, 0, len(word))
	for i := 0; i < len(word); i++ {
		switch id := m.byteIDs[word[i]]; {
		case id >= 0:
			syms = append(syms, id)
		case m.unk >= 0:
			syms = append(syms, m.unk)
		}
	}
	if len(syms) < heapThreshold {
		return m.mergeScan(syms)
	}
	return m.mergeHeap(syms)
}

// rankOf returns the rule merging (a, b), or rank MaxInt32 when there is none.
func (m *bpe) rankOf(a, b int32) merge {
	if r, ok := m.merges[pairKey(a, b)]; ok {
		return r
	}
	return merge{rank: math.MaxInt32}
}

// mergeScan merges syms in place: repeatedly the lowest-rank pair, the leftmost
// among equal ranks, keeping each pair's rule so a merge only looks up its two
// new neighbours.
func (m *bpe) mergeScan(syms []int32) []int32 {
	if len(syms) < 2 {
		return syms
	}
	var buf [heapThreshold]merge
	var rules []merge
	if len(syms)-1 <= len(buf) {
		rules = buf[:len(syms)-1]
	} else {
		rules = make([]merge, len(syms)-1)
	}
	for i := range rules {
		rules[i] = m.rankOf(syms[i], syms[i+1])
	}
	for len(rules) > 0 {
		best := 0
		for i := 1; i < len(rules); i++ {
			if rules[i].rank < rules[best].rank {
				best = i
			}
		}
		if rules[best].rank == math.MaxInt32 {
			break
		}
		syms[best] = rules[best].id
		syms = append(syms[:best+1], syms[best+2:]...)
		rules = append(rules[:best], rules[best+1:]...)
		if best > 0 {
			rules[best-1] = m.rankOf(syms[best-1], syms[best])
		}
		if best < len(rules) {
			rules[best] = m.rankOf(syms[best], syms[best+1])
		}
	}
	return syms
}

// heapSym is a symbol of a word being merged: a doubly linked list over the
// original positions, so positions keep their left-to-right order.
type heapSym struct {
	id         int32
	prev, next int32
	dead       bool
}

// pending is a candidate merge of the symbol at pos with its right neighbour.
type pending struct {
	rank, pos   int32
	left, right int32
	id          int32
}

type pendingHeap []pending

func (h pendingHeap) Len() int { return len(h) }
func (h pendingHeap) Less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].pos < h[j].pos
}
func (h pendingHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pendingHeap) Push(x any)   { *h = append(*h, x.(pending)) }
func (h *pendingHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// mergeHeap gives the same result as mergeScan in O(n log n): candidates are
// ordered by (rank, position) and dropped when a neighbour changed since.
func (m *bpe) mergeHeap(ids []int32) []int32 {
	syms := make([]heapSym, len(ids))
	for i, id := range ids {
		syms[i] = heapSym{id: id, prev: int32(i - 1), next: int32(i + 1)}
	}
	syms[len(syms)-1].next = -1
	h := make(pendingHeap, 0, len(syms))
	push := func(pos int32) {
		next := syms[pos].next
		if next < 0 {
			return
		}
		if r := m.rankOf(syms[pos].id, syms[next].id); r.rank != math.MaxInt32 {
			heap.Push(&h, pending{rank: r.rank, pos: pos, left: syms[pos].id, right: syms[next].id, id: r.id})
		}
	}
	for i := range syms {
		push(int32(i))
	}
	for h.Len() > 0 {
		c := heap.Pop(&h).(pending)
		s := &syms[c.pos]
		if s.dead || s.id != c.left || s.next < 0 || syms[s.next].id != c.right {
			continue
		}
		right := &syms[s.next]
		right.dead = true
		s.id = c.id
		s.next = right.next
		if s.next >= 0 {
			syms[s.next].prev = c.pos
		}
		if s.prev >= 0 {
			push(s.prev)
		}
		push(c.pos)
	}
	out := ids[:0]
	for i := int32(0); i >= 0; i = syms[i].next {
		out = append(out, syms[i].id)
	}
	return out
}

// wordCache memoizes encodeWord per word: text repeats its words, and a map
// lookup is much cheaper than merging. It is safe for concurrent use.
type wordCache struct {
	mu sync.RWMutex
	m  map[string][]int32
}

// cacheLimit bounds the cache; when full it starts over, which keeps memory
// bounded on endless streams of new words at little cost on real text.
const cacheLimit = 1 << 17

func (c *wordCache) get(word string) ([]int32, bool) {
	c.mu.RLock()
	ids, ok := c.m[word]
	c.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(word string, ids []int32) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= cacheLimit {
		c.m = make(map[string][]int32, 1024)
	}
	// Clone: word usually points into a large input text.
	c.m[strings.Clone(word)] = ids
	c.mu.Unlock()
}

func (c *wordCache) reset() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}
