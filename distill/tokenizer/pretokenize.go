package tokenizer

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PreTokenizer configures how text is cut into words before BPE. The zero value is
// plain GPT-2 without the regex; use GPT2PreTokenizer or SmolLM2PreTokenizer.
type PreTokenizer struct {
	// SplitDigits runs Hugging Face's Digits pre-tokenizer first: numbers become
	// pieces of their own, so BPE never merges a digit with a letter or a space.
	SplitDigits bool `json:"split_digits"`
	// IndividualDigits (with SplitDigits) makes every digit its own piece, as
	// SmolLM2 does, instead of one piece per run of digits.
	IndividualDigits bool `json:"individual_digits"`
	// AddPrefixSpace prepends a space to a piece that does not start with one
	// (ByteLevel add_prefix_space; GPT-2 and SmolLM2 leave it off).
	AddPrefixSpace bool `json:"add_prefix_space"`
	// UseRegex splits with GPT-2's regex; without it each piece is one word.
	UseRegex bool `json:"use_regex"`
	// IsolateStructure runs a Split step first: every whitespace run, the JSON
	// separators `":"` and `","` and every other double quote become pieces of
	// their own (Hugging Face: Split{Regex StructurePattern, behavior Isolated}).
	// A word then tokenizes the same wherever it stands: "Liam" in the text
	// " Liam Ueda" and in the JSON string "Liam Ueda" are one id, where GPT-2's
	// regex gives " Liam" and "Liam" two unrelated ids. Students that copy spans
	// of their input into JSON need that (StudentPreTokenizer).
	IsolateStructure bool `json:"isolate_structure,omitempty"`
	// DecimalPoints keeps a '.' between two digits with the digit after it: the
	// piece ".5" (which BPE learns as one token) instead of "." and "5". A
	// decimal point and a full stop after a number are then different tokens,
	// so a student copying "Total is 2211. The ..." into a JSON number sees that
	// the '.' after "2211" ends the sentence, where "3150.05" goes on. Without
	// it the two look alike until the token after the '.', and students wrote
	// "2211." and dropped ".05". It needs IsolateStructure, SplitDigits,
	// IndividualDigits and UseRegex, and no AddPrefixSpace (StudentPreTokenizer);
	// Hugging Face: Sequence[Split StructurePattern, Split DecimalPattern,
	// ByteLevel{use_regex: false}], both splits Isolated.
	DecimalPoints bool `json:"decimal_points,omitempty"`
	// TrimOffsets is the ByteLevel trim_offsets flag. It only affects offsets,
	// which this package does not compute; it is kept so a file saves unchanged.
	TrimOffsets bool `json:"trim_offsets"`
}

// GPT2PreTokenizer is GPT-2's ByteLevel{add_prefix_space: false, use_regex: true}.
func GPT2PreTokenizer() PreTokenizer {
	return PreTokenizer{UseRegex: true, TrimOffsets: true}
}

// SmolLM2PreTokenizer is SmolLM2's Sequence[Digits{individual_digits: true},
// ByteLevel{add_prefix_space: false, use_regex: true}].
func SmolLM2PreTokenizer() PreTokenizer {
	return PreTokenizer{SplitDigits: true, IndividualDigits: true, UseRegex: true, TrimOffsets: true}
}

// StudentPreTokenizer is the pre-tokenizer of the students mlmforge trains
// from scratch: SmolLM2's (individual digits, GPT-2 regex) after an
// IsolateStructure split, so values copied from the input into a JSON answer
// keep their token ids.
func StudentPreTokenizer() PreTokenizer {
	p := SmolLM2PreTokenizer()
	p.IsolateStructure = true
	p.DecimalPoints = true
	return p
}

// DecimalPattern is the regex of DecimalPoints' Split step: GPT-2's regex
// with individual digits (what the Digits step and then GPT-2's " ?\p{N}+"
// give on pieces without whitespace) and a decimal point kept with the digit
// after it.
const DecimalPattern = `(?<=\p{N})\.\p{N}|\p{N}|'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// check reports a combination of options this package cannot honour.
func (p PreTokenizer) check() error {
	if p.DecimalPoints && (!p.IsolateStructure || !p.SplitDigits || !p.IndividualDigits || !p.UseRegex || p.AddPrefixSpace) {
		return errors.New("pre_tokenizer: decimal_points needs isolate_structure, split_digits, individual_digits and use_regex, without add_prefix_space")
	}
	return nil
}

// StructurePattern is the regex of IsolateStructure's Split step, as written to
// tokenizer.json (Oniguruma syntax; \s is the same class the GPT-2 regex uses).
const StructurePattern = `\s+|"[:,]"|"`

// Character classes of the GPT-2 regex. They use Go's unicode tables, which are
// the ones github.com/dlclark/regexp2 (and so tiktoken-go) uses for \s, \p{L}, \p{N}.
const (
	classOther = iota
	classSpace
	classLetter
	classNumber
)

// asciiClass is the class of each ASCII byte, so the common case skips the
// unicode range tables.
var asciiClass [utf8.RuneSelf]uint8

func init() {
	for c := range rune(utf8.RuneSelf) {
		asciiClass[c] = slowClass(c)
	}
}

func slowClass(r rune) uint8 {
	switch {
	case unicode.IsSpace(r):
		return classSpace
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	}
	return classOther
}

// runeAt decodes the rune at s[i] with its class and width. An invalid byte is a
// one-byte rune of class other, so that every byte string splits and round-trips.
func runeAt(s string, i int) (r rune, class uint8, width int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), asciiClass[c], 1
	}
	r, width = utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && width == 1 {
		return r, classOther, 1
	}
	return r, slowClass(r), width
}

// split cuts text into words and calls yield on each, in order. Every byte of
// text lands in exactly one word (plus the prefix spaces AddPrefixSpace adds).
func (p PreTokenizer) split(text string, yield func(word string)) {
	if !p.IsolateStructure {
		p.splitDigits(text, yield)
		return
	}
	start := 0
	for i := 0; i < len(text); {
		n := structureMatch(text, i)
		if n == 0 {
			_, _, w := runeAt(text, i)
			i += w
			continue
		}
		if start < i {
			p.splitDigits(text[start:i], yield)
		}
		p.splitDigits(text[i:i+n], yield)
		start, i = i+n, i+n
	}
	if start < len(text) {
		p.splitDigits(text[start:], yield)
	}
}

// structureMatch returns the length of StructurePattern's match at s[i:], 0 if
// none: a whitespace run, `":"` or `","`, or a lone `"`.
func structureMatch(s string, i int) int {
	if s[i] == '"' {
		if i+2 < len(s) && (s[i+1] == ':' || s[i+1] == ',') && s[i+2] == '"' {
			return 3
		}
		return 1
	}
	if _, class, _ := runeAt(s, i); class != classSpace {
		return 0
	}
	return runEnd(s, i, classSpace) - i
}

// splitDigits is the Digits step (when SplitDigits is set) and then ByteLevel.
func (p PreTokenizer) splitDigits(text string, yield func(word string)) {
	if !p.SplitDigits {
		p.byteLevel(text, yield)
		return
	}
	start := 0
	for i := 0; i < len(text); {
		_, class, w := runeAt(text, i)
		if class != classNumber {
			i += w
			continue
		}
		end := i + w
		if !p.IndividualDigits {
			end = runEnd(text, end, classNumber)
		}
		if p.DecimalPoints && start == i-1 && start > 0 && text[start] == '.' {
			if _, c, _ := lastRune(text[:start]); c == classNumber {
				// A decimal point: one piece with the digit after it.
				yield(text[start:end])
				start, i = end, end
				continue
			}
		}
		if start < i {
			p.byteLevel(text[start:i], yield)
		}
		p.byteLevel(text[i:end], yield)
		start, i = end, end
	}
	if start < len(text) {
		p.byteLevel(text[start:], yield)
	}
}

// lastRune is runeAt for the last rune of s (which must not be empty).
func lastRune(s string) (r rune, class uint8, width int) {
	r, width = utf8.DecodeLastRuneInString(s)
	if r == utf8.RuneError && width <= 1 {
		return r, classOther, 1
	}
	return r, slowClass(r), width
}

// byteLevel is the ByteLevel pre-tokenizer on one piece: optional prefix space,
// then the GPT-2 regex.
func (p PreTokenizer) byteLevel(piece string, yield func(word string)) {
	if p.AddPrefixSpace && !strings.HasPrefix(piece, " ") {
		piece = " " + piece
	}
	if !p.UseRegex {
		yield(piece)
		return
	}
	gpt2Split(piece, yield)
}

// gpt2Split applies 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// with the regex's leftmost-alternative semantics.
func gpt2Split(s string, yield func(word string)) {
	for i := 0; i < len(s); {
		end := gpt2Next(s, i)
		yield(s[i:end])
		i = end
	}
}

// gpt2Next returns the end of the regex match starting at i.
func gpt2Next(s string, i int) int {
	r, class, w := runeAt(s, i)
	if r == '\'' {
		if n := contraction(s[i+1:]); n > 0 {
			return i + 1 + n
		}
	}
	if r == ' ' && i+w < len(s) {
		if _, next, w2 := runeAt(s, i+w); next != classSpace {
			return runEnd(s, i+w+w2, next)
		}
	}
	if class != classSpace {
		return runEnd(s, i+w, class)
	}
	// \s+(?!\S): a whitespace run followed by a non-space gives back its last
	// character, which then starts the next word (" hello" keeps its space).
	last, j := i, i+w
	for j < len(s) {
		_, c, w2 := runeAt(s, j)
		if c != classSpace {
			break
		}
		last, j = j, j+w2
	}
	if j < len(s) && last > i {
		return last
	}
	return j
}

// runEnd returns the end of the run of class starting at i.
func runEnd(s string, i int, class uint8) int {
	for i < len(s) {
		_, c, w := runeAt(s, i)
		if c != class {
			break
		}
		i += w
	}
	return i
}

// contraction returns the length of the contraction suffix at the start of s
// (after an apostrophe), or 0.
func contraction(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		if len(s) > 1 && s[1] == 'e' {
			return 2
		}
	case 'l':
		if len(s) > 1 && s[1] == 'l' {
			return 2
		}
	}
	return 0
}
