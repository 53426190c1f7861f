package constrain

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"strings"
)

// A pattern runs as a DFA over the string's bytes. Patterned strings are
// limited to printable ASCII without '"' and '\\' (no escapes), so one byte is
// one character and the DFA needs no UTF-8 or escape handling.
const (
	dfaLo      = 0x20
	dfaSyms    = 0x7f - dfaLo
	maxDFASize = 4096
)

// dfa is a pattern compiled to a deterministic automaton over printable
// ASCII. State 0 is the start; next is -1 where no match can follow.
type dfa struct {
	next   [][dfaSyms]int32
	accept []bool
}

// step returns the state after byte b, or -1.
func (d *dfa) step(s int32, b byte) int32 {
	if b < dfaLo || b >= 0x7f || b == '"' || b == '\\' {
		return -1
	}
	return d.next[s][b-dfaLo]
}

// compilePattern compiles a JSON Schema pattern (an unanchored ECMA-262
// regular expression; Go's RE2 syntax covers what catalogs use) to a DFA.
func compilePattern(pattern string) (*dfa, error) {
	re, err := syntax.Parse(`(?s:.)*(?:`+pattern+`)(?s:.)*`, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("parse pattern %q: %w", pattern, err)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, fmt.Errorf("compile pattern %q: %w", pattern, err)
	}
	for _, in := range prog.Inst {
		if in.Op == syntax.InstEmptyWidth && syntax.EmptyOp(in.Arg)&(syntax.EmptyWordBoundary|syntax.EmptyNoWordBoundary) != 0 {
			return nil, fmt.Errorf("pattern %q: word boundaries are unsupported", pattern)
		}
	}
	b := &dfaBuilder{prog: prog, ids: map[string]int32{}}
	begin := syntax.EmptyBeginText | syntax.EmptyBeginLine
	b.state(b.closure([]uint32{uint32(prog.Start)}, begin))
	for i := 0; i < len(b.sets); i++ {
		if len(b.sets) > maxDFASize {
			return nil, fmt.Errorf("pattern %q: DFA exceeds %d states", pattern, maxDFASize)
		}
		b.expand(i)
	}
	if !b.prune() {
		return nil, fmt.Errorf("pattern %q matches no string of printable ASCII without '\"' and '\\'", pattern)
	}
	return &b.d, nil
}

// dfaBuilder runs the subset construction.
type dfaBuilder struct {
	prog *syntax.Prog
	sets [][]uint32
	ids  map[string]int32
	d    dfa
}

// state returns the id of a set of program counters, adding it if new.
func (b *dfaBuilder) state(set []uint32) int32 {
	var key strings.Builder
	for _, pc := range set {
		fmt.Fprintf(&key, "%d,", pc)
	}
	if id, ok := b.ids[key.String()]; ok {
		return id
	}
	id := int32(len(b.sets))
	b.ids[key.String()] = id
	b.sets = append(b.sets, set)
	end := syntax.EmptyEndText | syntax.EmptyEndLine
	if id == 0 {
		end |= syntax.EmptyBeginText | syntax.EmptyBeginLine
	}
	acc := slices.ContainsFunc(b.closure(set, end), func(pc uint32) bool { return b.prog.Inst[pc].Op == syntax.InstMatch })
	b.d.accept = append(b.d.accept, acc)
	b.d.next = append(b.d.next, [dfaSyms]int32{})
	return id
}

// expand computes the transitions of state i.
func (b *dfaBuilder) expand(i int) {
	for c := range dfaSyms {
		r := rune(c + dfaLo)
		var out []uint32
		for _, pc := range b.sets[i] {
			if in := &b.prog.Inst[pc]; matchRune(in, r) {
				out = append(out, in.Out)
			}
		}
		next := int32(-1)
		if len(out) > 0 {
			next = b.state(b.closure(out, 0))
		}
		b.d.next[i][c] = next
	}
}

// matchRune reports whether a rune-consuming instruction accepts r.
func matchRune(in *syntax.Inst, r rune) bool {
	switch in.Op {
	case syntax.InstRune1:
		return in.Rune[0] == r
	case syntax.InstRune:
		return in.MatchRune(r)
	case syntax.InstRuneAny:
		return true
	case syntax.InstRuneAnyNotNL:
		return r != '\n'
	}
	return false
}

// closure returns the sorted set of pcs reachable from pcs without reading,
// following empty-width assertions that flags satisfy. Every visited pc is
// kept, so that unsatisfied assertions ($) can be resolved at the end.
func (b *dfaBuilder) closure(pcs []uint32, flags syntax.EmptyOp) []uint32 {
	seen := map[uint32]bool{}
	stack := slices.Clone(pcs)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		in := &b.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Out, in.Arg)
		case syntax.InstNop, syntax.InstCapture:
			stack = append(stack, in.Out)
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(in.Arg)&^flags == 0 {
				stack = append(stack, in.Out)
			}
		}
	}
	out := make([]uint32, 0, len(seen))
	for pc := range seen {
		out = append(out, pc)
	}
	slices.Sort(out)
	return out
}

// prune redirects transitions into states that cannot reach an accepting
// state to -1, so that every state reached can still complete a match. It
// reports whether the start state is live.
func (b *dfaBuilder) prune() bool {
	live := slices.Clone(b.d.accept)
	for changed := true; changed; {
		changed = false
		for s := range b.d.next {
			if live[s] {
				continue
			}
			for _, t := range b.d.next[s] {
				if t >= 0 && live[t] {
					live[s], changed = true, true
					break
				}
			}
		}
	}
	for s := range b.d.next {
		for c, t := range b.d.next[s] {
			if t >= 0 && !live[t] {
				b.d.next[s][c] = -1
			}
		}
	}
	return live[0]
}
