package constrain

import "fmt"

// Frame kinds: what the innermost open value is.
const (
	kValue  uint8 = iota // a value of frame.n is expected next
	kObject              // inside an object
	kArray               // inside an array
	kString              // inside a string value
	kNumber              // inside a number
	kLit                 // inside an enum/const literal or true/false/null
)

// Object phases.
const (
	oOpen  uint8 = iota // after '{'
	oComma              // after ','
	oKey                // inside a key
	oColon              // after a key
	oAfter              // after a member's value
)

// Array phases.
const (
	aOpen  uint8 = iota // after '['
	aComma              // after ','
	aAfter              // after an item
)

// frame is the recognizer state of one open value. Fields are shared between
// kinds to keep a frame small, since every byte step copies one.
type frame struct {
	n     *node
	kind  uint8
	phase uint8
	// esc is the escape progress in a string or key: 0 none, 1 after '\',
	// 2-5 reading the hex digits of \uXXXX.
	esc uint8
	// utf is the number of UTF-8 continuation bytes still due, each in [lo, hi].
	utf, lo, hi uint8
	neg         bool
	// pos is the trie node of a literal or key (-1: a free key), or the
	// pattern DFA state of a string.
	pos int32
	// count is the number of array items, string characters or integer digits.
	count int32
	// cur is the property whose value follows (-1: a free key), or the number
	// of fraction digits of a number.
	cur  int32
	seen seenSet
	// val is a number's magnitude so far, scale the weight of its next
	// fraction digit.
	val, scale float64
}

// cell is one frame of the stack below the top; cells are immutable once
// linked, so States share them and a copy costs one frame.
type cell struct {
	f  frame
	up *cell
}

// arena hands out cells for scratch states (mask computation) without
// garbage; it is reset between steps. A nil arena allocates on the heap.
type arena struct {
	cells []cell
	used  int
}

func (a *arena) alloc() *cell {
	if a != nil && a.used < len(a.cells) {
		a.used++
		return &a.cells[a.used-1]
	}
	return new(cell)
}

// State is a recognizer state: the JSON prefix read so far against a Schema.
// It is a small value; copy it to branch. The zero State is not valid: use
// Schema.Start.
type State struct {
	top  frame
	up   *cell
	done bool
}

// Start returns the state before the first byte.
func (sc *Schema) Start() State {
	return State{top: frame{n: sc.root, kind: kValue}}
}

// Step advances s by byte b and reports whether b was allowed; s is left
// unchanged when it was not.
func (s *State) Step(b byte) bool {
	t := *s
	if !t.step(b, nil) {
		return false
	}
	*s = t
	return true
}

// Allows reports whether byte b may come next.
func (s State) Allows(b byte) bool { return s.step(b, nil) }

// Complete reports whether the bytes read form a whole value that the schema
// accepts: the decoder may stop here.
func (s *State) Complete() bool {
	if s.done {
		return true
	}
	if s.up != nil {
		return false
	}
	switch f := &s.top; f.kind {
	case kNumber:
		return f.numEndable()
	case kLit:
		return f.litTrie().nodes[f.pos].term >= 0
	}
	return false
}

// Done reports whether the value is closed: no byte may follow.
func (s *State) Done() bool { return s.done }

// Accepts reports whether data is a whole value the recognizer accepts.
func (sc *Schema) Accepts(data []byte) bool { return sc.Check(data) == nil }

// Check returns nil when the recognizer accepts data as a whole value, else
// an error naming the offset of the first rejected byte.
func (sc *Schema) Check(data []byte) error {
	st := sc.Start()
	for i, b := range data {
		if !st.step(b, nil) {
			return fmt.Errorf("byte %d (%q) not allowed after %q", i, rune(b), data[:i])
		}
	}
	if !st.Complete() {
		return fmt.Errorf("value incomplete after %d bytes", len(data))
	}
	return nil
}

// push opens a value of child inside the top frame.
func (s *State) push(child *node, a *arena) {
	c := a.alloc()
	c.f, c.up = s.top, s.up
	s.up = c
	s.top = frame{n: child, kind: kValue}
}

// pop closes the top value; its parent goes on after it.
func (s *State) pop() {
	if s.up == nil {
		s.done = true
		s.top = frame{}
		return
	}
	s.top, s.up = s.up.f, s.up.up
	switch s.top.kind {
	case kObject:
		s.top.phase = oAfter
	case kArray:
		s.top.phase = aAfter
		s.top.count++
	}
}

// step advances s by b in place and reports whether b was allowed; on false
// s is garbage. Scratch cells come from a.
func (s *State) step(b byte, a *arena) bool {
	for !s.done {
		f := &s.top
		switch f.kind {
		case kValue:
			return s.startValue(b)
		case kObject:
			return s.stepObject(b, a)
		case kArray:
			return s.stepArray(b, a)
		case kString:
			closed, ok := f.stepChars(b, f.n.pattern, f.n.minLen, f.n.maxLen)
			if closed {
				s.pop()
			}
			return ok
		case kNumber:
			switch f.stepNumber(b) {
			case numOK:
				return true
			case numBad:
				return false
			}
			s.pop() // the number ended before b, which belongs to the parent
		case kLit:
			t := f.litTrie()
			if c := t.child(f.pos, b); c >= 0 {
				f.pos = c
				if t.leaf(c) {
					s.pop()
				}
				return true
			}
			if t.nodes[f.pos].term < 0 {
				return false
			}
			s.pop() // a literal such as 1 in enum [1, 10] ended before b
		}
	}
	return false
}

// litTrie returns the trie a literal frame walks.
func (f *frame) litTrie() *btrie {
	if f.phase == 1 {
		return f.n.kw
	}
	return f.n.lits
}

// startValue reads the first byte of a value of the top frame's node.
func (s *State) startValue(b byte) bool {
	f := &s.top
	n := f.n
	for n.alts != nil {
		i := n.first[b]
		if i < 0 {
			return false
		}
		n = n.alts[i]
	}
	if n.lits != nil {
		c := n.lits.child(0, b)
		if c < 0 {
			return false
		}
		*f = frame{n: n, kind: kLit, pos: c}
		if n.lits.leaf(c) {
			s.pop()
		}
		return true
	}
	switch {
	case b == '{' && n.types&tObject != 0:
		*f = frame{n: n, kind: kObject, phase: oOpen}
		return true
	case b == '[' && n.types&tArray != 0:
		*f = frame{n: n, kind: kArray, phase: aOpen}
		return true
	case b == '"' && n.types&tString != 0:
		*f = frame{n: n, kind: kString}
		return true
	case (b == '-' || (b >= '0' && b <= '9')) && n.types&(tInteger|tNumber) != 0:
		*f = frame{n: n, kind: kNumber, phase: nBegin}
		return f.stepNumber(b) == numOK
	}
	c := n.kw.child(0, b)
	if c < 0 {
		return false
	}
	*f = frame{n: n, kind: kLit, phase: 1, pos: c}
	return true
}

// stepArray reads one byte inside an array.
func (s *State) stepArray(b byte, a *arena) bool {
	f := &s.top
	n := f.n
	switch f.phase {
	case aOpen:
		if b == ']' {
			if n.minItems > 0 {
				return false
			}
			s.pop()
			return true
		}
		if n.maxItems == 0 {
			return false
		}
		s.push(n.itemAt(0), a)
		return s.startValue(b)
	case aComma:
		s.push(n.itemAt(int(f.count)), a)
		return s.startValue(b)
	}
	switch {
	case b == ',' && (n.maxItems < 0 || int(f.count) < n.maxItems):
		f.phase = aComma
		return true
	case b == ']' && int(f.count) >= n.minItems:
		s.pop()
		return true
	}
	return false
}

// itemAt is the schema of an array's i-th item: its prefixItems entry, else items.
func (n *node) itemAt(i int) *node {
	if i < len(n.prefix) {
		return n.prefix[i]
	}
	return n.items
}
