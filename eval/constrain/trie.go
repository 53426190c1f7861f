package constrain

import (
	"math"
	"slices"
	"unicode/utf8"
)

// tokTrie is a trie over the byte strings of a vocabulary, flattened in
// depth-first order so that the tokens of a subtree are one range of ids.
// The mask walks it once per step: tokens sharing a prefix share the walk
// of that prefix, and a rejected byte prunes its whole subtree.
type tokTrie struct {
	nodes []tnode
	// eb[e] is the byte of edge e, ec[e] the node it leads to.
	eb []byte
	ec []int32
	// ids holds token ids in depth-first order; outside lists the ids of the
	// vocabulary not in the trie (control tokens, unused ids).
	ids     []int32
	outside []int32
	// vocab is the vocabulary size; negInf holds vocab times -Inf, copied
	// over the logits to mask most of them at memmove speed.
	vocab  int
	negInf []float32
	// depth is the length of the longest token.
	depth int
}

// tnode is one node of a tokTrie; node 0 is the root (the empty string).
type tnode struct {
	// e0, e1 delimit the node's edges, sorted by byte.
	e0, e1 int32
	// ids[t0:t1] end exactly here; ids[t0:sub] end in the subtree.
	t0, t1, sub int32
	// safe is true when, for every token in the subtree, the bytes from the
	// edge into this node on are whole UTF-8 characters without '"', '\'
	// or control characters: inside an unconstrained string, at a character
	// boundary, the whole subtree is allowed without a walk.
	safe bool
}

// buildNode is a node of the trie while it is built.
type buildNode struct {
	kids map[byte]*buildNode
	ids  []int32
	// unsafe is set when some token below is not string-safe from here.
	unsafe bool
}

// safeSuffixes returns safe[k] for k in [0, len(tok)]: whether tok[k:] is
// whole UTF-8 characters without '"', '\' or control characters.
func safeSuffixes(tok []byte) []bool {
	safe := make([]bool, len(tok)+1)
	safe[len(tok)] = true
	for k := len(tok) - 1; k >= 0; k-- {
		b := tok[k]
		switch {
		case b < 0x80:
			safe[k] = b >= 0x20 && b != '"' && b != '\\' && safe[k+1]
		case utf8.RuneStart(b):
			r, size := utf8.DecodeRune(tok[k:])
			safe[k] = r != utf8.RuneError && safe[k+size]
		}
	}
	return safe
}

// newTokTrie builds the trie of toks (toks[id] == nil: never allowed).
func newTokTrie(toks [][]byte) *tokTrie {
	root := &buildNode{}
	t := &tokTrie{}
	for id, tok := range toks {
		if len(tok) == 0 {
			continue
		}
		t.depth = max(t.depth, len(tok))
		safe := safeSuffixes(tok)
		n := root
		for k, b := range tok {
			if n.kids == nil {
				n.kids = map[byte]*buildNode{}
			}
			next := n.kids[b]
			if next == nil {
				next = &buildNode{}
				n.kids[b] = next
			}
			n = next
			n.unsafe = n.unsafe || !safe[k]
		}
		n.ids = append(n.ids, int32(id))
	}
	t.nodes = append(t.nodes, tnode{})
	t.flatten(root, 0)
	t.vocab = len(toks)
	t.negInf = make([]float32, max(len(toks), 1))
	for i := range t.negInf {
		t.negInf[i] = float32(math.Inf(-1))
	}
	for id, tok := range toks {
		if len(tok) == 0 {
			t.outside = append(t.outside, int32(id))
		}
	}
	return t
}

// flatten lays out bn as node i (already allocated) and its subtree.
func (t *tokTrie) flatten(bn *buildNode, i int32) {
	t.nodes[i].t0 = int32(len(t.ids))
	t.ids = append(t.ids, bn.ids...)
	t.nodes[i].t1 = int32(len(t.ids))
	bytes := make([]byte, 0, len(bn.kids))
	for b := range bn.kids {
		bytes = append(bytes, b)
	}
	slices.Sort(bytes)
	e0 := int32(len(t.eb))
	t.nodes[i].e0, t.nodes[i].e1 = e0, e0+int32(len(bytes))
	for _, b := range bytes {
		t.eb = append(t.eb, b)
		t.ec = append(t.ec, int32(len(t.nodes)))
		t.nodes = append(t.nodes, tnode{})
	}
	for k, b := range bytes {
		t.flatten(bn.kids[b], t.ec[e0+int32(k)])
	}
	t.nodes[i].sub = int32(len(t.ids))
	t.nodes[i].safe = !bn.unsafe
}
