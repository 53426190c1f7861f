package constrain

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/cyclecore/mlmforge/distill/tokenizer"
)

// Vocab is what the Masker needs of a tokenizer: the raw bytes of each id,
// which ids are control tokens, and the end-of-sequence id.
type Vocab interface {
	// VocabSize is one more than the largest id.
	VocabSize() int
	// Token returns the raw bytes of id (false for an unused id).
	Token(id int) (string, bool)
	// IsSpecial reports control tokens, which the mask always forbids except EOS.
	IsSpecial(id int) bool
	// EOS is the id that ends a generation, -1 for none.
	EOS() int
}

var _ Vocab = (*tokenizer.Tokenizer)(nil)

// arenaCells bounds the scratch cells of one mask computation; more spill
// to the heap.
const arenaCells = 1 << 12

// Masker computes, for a schema and a vocabulary, which tokens may come next.
// It is immutable and safe for concurrent use; each Hook has its own state.
type Masker struct {
	schema *Schema
	trie   *tokTrie
	// toks[id] is the bytes of a token the mask may allow, nil for the others.
	toks [][]byte
	eos  int
}

// NewMasker compiles schema and precomputes the vocabulary's token bytes and
// their trie.
func NewMasker(v Vocab, schema json.RawMessage) (*Masker, error) {
	sc, err := Compile(schema)
	if err != nil {
		return nil, fmt.Errorf("new masker: %w", err)
	}
	return NewSchemaMasker(v, sc), nil
}

// NewSchemaMasker is NewMasker for an already compiled schema.
func NewSchemaMasker(v Vocab, sc *Schema) *Masker {
	m := &Masker{schema: sc, toks: make([][]byte, v.VocabSize()), eos: v.EOS()}
	for id := range m.toks {
		// EOS stays out of the trie even when not marked special: it is
		// allowed by completeness, never as text.
		if tok, ok := v.Token(id); ok && !v.IsSpecial(id) && id != m.eos {
			m.toks[id] = []byte(tok)
		}
	}
	m.trie = newTokTrie(m.toks)
	return m
}

// WithSchema returns a Masker for sc over m's vocabulary, sharing its token
// bytes and trie: the way to mask many schemas (one per record) without
// walking the vocabulary again for each.
func (m *Masker) WithSchema(sc *Schema) *Masker {
	return &Masker{schema: sc, trie: m.trie, toks: m.toks, eos: m.eos}
}

// Schema returns the compiled schema.
func (m *Masker) Schema() *Schema { return m.schema }

// Hook returns a logits hook for distill/infer's LogitsProcessor. It keeps the
// recognizer state between calls: each call advances it over the tokens
// generated since the last call, and a generated slice that is empty, shorter
// or different from the one seen starts over. Then it sets -Inf on every
// token whose bytes cannot extend a valid prefix and on EOS unless the value
// is complete; once the value is closed only EOS is left. It never masks every
// token: with nothing allowed (a forced token broke the schema), EOS stays.
// A hook serves one generation at a time.
func (m *Masker) Hook() func(generated []int, logits []float32) { return m.newHook().apply }

func (m *Masker) newHook() *hook {
	h := &hook{m: m, st: m.schema.Start()}
	h.w.states = make([]State, m.trie.depth+1)
	h.w.bits = make([]uint64, (len(m.trie.ids)+63)/64)
	h.w.arena.cells = make([]cell, arenaCells)
	h.w.trie = m.trie
	return h
}

// hook is the state of one Hook.
type hook struct {
	m  *Masker
	st State
	// n tokens were consumed, the last one being last.
	n, last int
	// dead is set when a generated token broke the schema.
	dead bool
	w    walker
}

// apply is the hook function.
func (h *hook) apply(generated []int, logits []float32) {
	h.sync(generated)
	w := &h.w
	w.next()
	if !h.dead && !h.st.done {
		w.states[0] = h.st
		w.walk(0, 0)
	}
	eos := h.m.eos
	eosOK := eos >= 0 && (h.dead || h.st.Complete())
	if w.count == 0 && !eosOK {
		if eos < 0 {
			return // nothing to allow: leave the logits alone
		}
		eosOK = true
	}
	var eosLogit float32
	if eos >= 0 && eos < len(logits) {
		eosLogit = logits[eos]
	}
	w.apply(logits)
	if eosOK && eos < len(logits) {
		logits[eos] = eosLogit
	}
}

// sync advances the recognizer over the tokens generated since the last call.
func (h *hook) sync(gen []int) {
	if len(gen) < h.n || (h.n > 0 && gen[h.n-1] != h.last) {
		h.st, h.n, h.dead = h.m.schema.Start(), 0, false
	}
	for _, id := range gen[h.n:] {
		h.advance(id)
	}
	h.n = len(gen)
	if h.n > 0 {
		h.last = gen[h.n-1]
	}
}

// advance consumes one generated token.
func (h *hook) advance(id int) {
	if h.dead {
		return
	}
	if id < 0 || id >= len(h.m.toks) || h.m.toks[id] == nil {
		h.dead = true
		return
	}
	for _, b := range h.m.toks[id] {
		if !h.st.step(b, nil) {
			h.dead = true
			return
		}
	}
}

// walker computes one mask: a bitset over the trie's depth-first token
// order, where a subtree is one range, so a whole string-safe subtree is a
// few word writes.
type walker struct {
	trie   *tokTrie
	states []State
	arena  arena
	bits   []uint64
	count  int
	saved  []savedLogit
}

// next starts a new mask.
func (w *walker) next() {
	clear(w.bits)
	w.count = 0
	w.arena.used = 0
}

// allow marks the tokens at depth-first positions [a, b).
func (w *walker) allow(a, b int32) {
	if a >= b {
		return
	}
	w.count += int(b - a)
	first, last := a>>6, (b-1)>>6
	lo, hi := ^uint64(0)<<(a&63), ^uint64(0)>>(63-(b-1)&63)
	if first == last {
		w.bits[first] |= lo & hi
		return
	}
	w.bits[first] |= lo
	for i := first + 1; i < last; i++ {
		w.bits[i] = ^uint64(0)
	}
	w.bits[last] |= hi
}

// apply sets -Inf on the logits of tokens not allowed, and on logits past
// the vocabulary (a model's padded embedding rows). Its cost follows the
// smaller side: with few tokens allowed (structure) it saves them, fills
// everything and restores them; with most allowed (inside a string) it masks
// the complement, found by scanning the bitset's zero bits.
func (w *walker) apply(logits []float32) {
	neg := float32(math.Inf(-1))
	t := w.trie
	if 2*w.count < len(logits) {
		w.saved = w.saved[:0]
		w.eachBit(false, func(p int) {
			if id := int(t.ids[p]); id < len(logits) {
				w.saved = append(w.saved, savedLogit{int32(id), logits[id]})
			}
		})
		for rest := logits; len(rest) > 0; {
			rest = rest[copy(rest, t.negInf):]
		}
		for _, s := range w.saved {
			logits[s.id] = s.v
		}
		return
	}
	w.eachBit(true, func(p int) {
		if id := int(t.ids[p]); id < len(logits) {
			logits[id] = neg
		}
	})
	for _, id := range t.outside {
		if int(id) < len(logits) {
			logits[id] = neg
		}
	}
	for i := t.vocab; i < len(logits); i++ {
		logits[i] = neg
	}
}

// savedLogit is a logit kept across the fill of apply.
type savedLogit struct {
	id int32
	v  float32
}

// eachBit calls f with every trie position whose bit is set (zeros false)
// or clear (zeros true).
func (w *walker) eachBit(zeros bool, f func(p int)) {
	n := len(w.trie.ids)
	for i, word := range w.bits {
		if zeros {
			word = ^word
		}
		if rest := n - i*64; rest < 64 {
			if rest <= 0 {
				return
			}
			word &= 1<<rest - 1
		}
		for word != 0 {
			f(i*64 + bits.TrailingZeros64(word))
			word &= word - 1
		}
	}
}

// walk visits the children of trie node ni, whose bytes led to
// w.states[depth], allowing each token whose last byte the state accepts.
func (w *walker) walk(ni int32, depth int) {
	t := w.trie
	nd := &t.nodes[ni]
	st := &w.states[depth]
	if cands, ok := st.candidates(); ok && len(cands) < int(nd.e1-nd.e0) {
		// Few bytes can follow (a key, a literal, punctuation): look them
		// up rather than trying every edge.
		edges := t.eb[nd.e0:nd.e1]
		for _, b := range cands {
			if k, found := slices.BinarySearch(edges, b); found {
				w.visit(nd.e0+int32(k), depth)
			}
		}
		return
	}
	if st.plainString() {
		for e := nd.e0; e < nd.e1; e++ {
			if cn := &t.nodes[t.ec[e]]; cn.safe {
				w.allow(cn.t0, cn.sub)
			} else {
				w.visit(e, depth)
			}
		}
		return
	}
	for e := nd.e0; e < nd.e1; e++ {
		w.visit(e, depth)
	}
}

// visit follows edge e from w.states[depth].
func (w *walker) visit(e int32, depth int) {
	t := w.trie
	c := t.ec[e]
	next := &w.states[depth+1]
	*next = w.states[depth]
	if !next.step(t.eb[e], &w.arena) {
		return
	}
	cn := &t.nodes[c]
	w.allow(cn.t0, cn.t1)
	if cn.e1 > cn.e0 {
		w.walk(c, depth+1)
	}
}

// Byte sets of the states whose next byte is fixed punctuation.
var (
	bytesOpenObject  = []byte{'"', '}'}
	bytesQuote       = []byte{'"'}
	bytesColon       = []byte{':'}
	bytesAfterMember = []byte{',', '}'}
	bytesAfterItem   = []byte{',', ']'}
)

// candidates returns a sorted superset of the bytes that may follow s, when
// it is small and cheap to know.
func (s *State) candidates() ([]byte, bool) {
	if s.done {
		return nil, true
	}
	f := &s.top
	switch f.kind {
	case kLit:
		t := f.litTrie()
		if t.nodes[f.pos].term >= 0 {
			return nil, false // the literal may end: the parent's bytes follow
		}
		return t.nodes[f.pos].edges, true
	case kArray:
		if f.phase == aAfter {
			return bytesAfterItem, true
		}
	case kObject:
		switch f.phase {
		case oOpen:
			return bytesOpenObject, true
		case oComma:
			return bytesQuote, true
		case oColon:
			return bytesColon, true
		case oAfter:
			return bytesAfterMember, true
		case oKey:
			if f.n.addl == nil {
				return f.n.keys.nodes[f.pos].edges, true
			}
		}
	}
	return nil, false
}

// plainString reports whether s is inside a string that any run of safe
// characters extends: no pattern, no length limit, no escape or UTF-8 pending.
func (s *State) plainString() bool {
	f := &s.top
	return !s.done && f.kind == kString && f.esc == 0 && f.utf == 0 && f.n.pattern == nil && f.n.maxLen < 0
}
