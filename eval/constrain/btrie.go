package constrain

import "slices"

// btrie is a trie over a small set of byte strings (object keys, enum
// literals); node 0 is the root.
type btrie struct {
	nodes []bnode
	// words is the length of each node's mask.
	words int
}

// bnode is one trie node.
type bnode struct {
	// edges[i] leads to kids[i]; edges are sorted.
	edges []byte
	kids  []int32
	// term is the index of the string ending here, or -1.
	term int32
	// mask has bit i set when string i ends in this node's subtree.
	mask []uint64
}

// newBtrie builds the trie of strs; string i is item i.
func newBtrie(strs []string) *btrie {
	t := &btrie{words: (len(strs) + 63) / 64}
	t.nodes = append(t.nodes, bnode{term: -1, mask: make([]uint64, t.words)})
	for i, s := range strs {
		cur := int32(0)
		t.nodes[0].mask[i/64] |= 1 << (i % 64)
		for j := 0; j < len(s); j++ {
			next := t.child(cur, s[j])
			if next < 0 {
				next = int32(len(t.nodes))
				t.nodes = append(t.nodes, bnode{term: -1, mask: make([]uint64, t.words)})
				nd := &t.nodes[cur]
				at, _ := slices.BinarySearch(nd.edges, s[j])
				nd.edges = slices.Insert(nd.edges, at, s[j])
				nd.kids = slices.Insert(nd.kids, at, next)
			}
			cur = next
			t.nodes[cur].mask[i/64] |= 1 << (i % 64)
		}
		t.nodes[cur].term = int32(i)
	}
	return t
}

// child returns the node reached from n by byte b, or -1.
func (t *btrie) child(n int32, b byte) int32 {
	nd := &t.nodes[n]
	for i, e := range nd.edges {
		if e == b {
			return nd.kids[i]
		}
		if e > b {
			break
		}
	}
	return -1
}

// leaf reports whether n has no children.
func (t *btrie) leaf(n int32) bool { return len(t.nodes[n].edges) == 0 }

// anyUnseen reports whether some string in n's subtree is not in seen.
func (t *btrie) anyUnseen(n int32, seen *seenSet) bool {
	for w, m := range t.nodes[n].mask {
		if m&^seen.word(w) != 0 {
			return true
		}
	}
	return false
}
