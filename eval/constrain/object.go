package constrain

import "slices"

// seenSet is the set of properties an object has written. Objects with more
// than 64 properties (a union of function parameters) keep the rest in hi,
// which is copied on write because States share it.
type seenSet struct {
	lo uint64
	hi *[]uint64
}

// word returns bits [64w, 64w+64).
func (s *seenSet) word(w int) uint64 {
	if w == 0 {
		return s.lo
	}
	if s.hi == nil || w-1 >= len(*s.hi) {
		return 0
	}
	return (*s.hi)[w-1]
}

func (s *seenSet) has(i int32) bool { return s.word(int(i/64))&(1<<(i%64)) != 0 }

func (s *seenSet) set(i int32) {
	if i < 64 {
		s.lo |= 1 << i
		return
	}
	w := int(i/64) - 1
	var hi []uint64
	if s.hi != nil {
		hi = slices.Clone(*s.hi)
	}
	if len(hi) <= w {
		hi = append(hi, make([]uint64, w+1-len(hi))...)
	}
	hi[w] |= 1 << (i % 64)
	s.hi = &hi
}

// moreKeys reports whether the object may take another member.
func (f *frame) moreKeys() bool {
	return f.n.addl != nil || f.n.keys.anyUnseen(0, &f.seen)
}

// requiredDone reports whether every required property was written.
func (f *frame) requiredDone() bool {
	for w, m := range f.n.required {
		if m&^f.seen.word(w) != 0 {
			return false
		}
	}
	return true
}

// stepObject reads one byte inside an object.
func (s *State) stepObject(b byte, a *arena) bool {
	f := &s.top
	n := f.n
	switch f.phase {
	case oOpen, oComma:
		if b == '}' && f.phase == oOpen && f.requiredDone() {
			s.pop()
			return true
		}
		if b != '"' || !f.moreKeys() {
			return false
		}
		f.phase, f.esc, f.utf = oKey, 0, 0
		f.pos = n.keys.child(0, '"')
		return true
	case oKey:
		return f.stepKey(b)
	case oColon:
		if b != ':' {
			return false
		}
		child := n.addl
		if f.cur >= 0 {
			child = n.props[f.cur].n
		}
		s.push(child, a)
		return true
	}
	switch {
	case b == ',' && f.moreKeys():
		f.phase = oComma
		return true
	case b == '}' && f.requiredDone():
		s.pop()
		return true
	}
	return false
}

// stepKey reads one byte of a key (after its opening quote). The key trie is
// followed while the key is a prefix of a declared name's encoding; objects
// with free keys also lex the key as a string, since it may be any string.
func (f *frame) stepKey(b byte) bool {
	keys := f.n.keys
	next := int32(-1)
	if f.pos >= 0 {
		next = keys.child(f.pos, b)
	}
	if f.n.addl == nil {
		if next < 0 {
			return false
		}
		if t := keys.nodes[next].term; t >= 0 {
			return f.closeKey(t)
		}
		if !keys.anyUnseen(next, &f.seen) {
			return false
		}
		f.pos = next
		return true
	}
	closed, ok := f.stepChars(b, nil, 0, -1)
	if !ok {
		return false
	}
	if closed {
		t := int32(-1)
		if next >= 0 {
			t = keys.nodes[next].term
		}
		return f.closeKey(t)
	}
	f.pos = next
	return true
}

// closeKey ends a key: property t, or a free key when t < 0.
func (f *frame) closeKey(t int32) bool {
	if t >= 0 {
		if f.seen.has(t) {
			return false
		}
		f.seen.set(t)
	}
	f.cur, f.phase = t, oColon
	return true
}

// stepChars reads one byte inside a string (or key) whose opening quote was
// read: closed reports the closing quote. Patterned strings take printable
// ASCII without escapes only (see the package doc).
func (f *frame) stepChars(b byte, pat *dfa, minLen, maxLen int) (closed, ok bool) {
	switch {
	case f.utf > 0:
		if b < f.lo || b > f.hi {
			return false, false
		}
		f.utf, f.lo, f.hi = f.utf-1, 0x80, 0xBF
		return false, true
	case f.esc == 1:
		switch b {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			f.esc = 0
		case 'u':
			f.esc = 2
		default:
			return false, false
		}
		return false, true
	case f.esc >= 2:
		if !isHex(b) {
			return false, false
		}
		if f.esc++; f.esc == 6 {
			f.esc = 0
		}
		return false, true
	case b == '"':
		if int(f.count) < minLen || (pat != nil && !pat.accept[f.pos]) {
			return false, false
		}
		return true, true
	case maxLen >= 0 && int(f.count) >= maxLen:
		return false, false
	case pat != nil:
		next := pat.step(f.pos, b)
		if next < 0 {
			return false, false
		}
		f.pos, f.count = next, f.count+1
		return false, true
	}
	if !f.startChar(b) {
		return false, false
	}
	f.count++
	return false, true
}

// startChar reads the first byte of a character: ASCII, '\' or a UTF-8 lead
// byte (setting the range of the next continuation byte so that overlong
// forms, surrogates and code points past U+10FFFF are refused).
func (f *frame) startChar(b byte) bool {
	switch {
	case b == '\\':
		f.esc = 1
	case b < 0x20:
		return false
	case b < 0x80:
	case b >= 0xC2 && b <= 0xDF:
		f.utf, f.lo, f.hi = 1, 0x80, 0xBF
	case b == 0xE0:
		f.utf, f.lo, f.hi = 2, 0xA0, 0xBF
	case b == 0xED:
		f.utf, f.lo, f.hi = 2, 0x80, 0x9F
	case b >= 0xE1 && b <= 0xEF:
		f.utf, f.lo, f.hi = 2, 0x80, 0xBF
	case b == 0xF0:
		f.utf, f.lo, f.hi = 3, 0x90, 0xBF
	case b >= 0xF1 && b <= 0xF3:
		f.utf, f.lo, f.hi = 3, 0x80, 0xBF
	case b == 0xF4:
		f.utf, f.lo, f.hi = 3, 0x80, 0x8F
	default:
		return false
	}
	return true
}

func isHex(b byte) bool {
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')
}
