package lexicon

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
)

// maxExtra bounds the repetitions of an unbounded quantifier (*, +, {n,}).
const maxExtra = 3

// compiledPattern is a pattern parsed for generation and compiled for checking.
type compiledPattern struct {
	tree *syntax.Regexp
	re   *regexp.Regexp
}

var patternCache sync.Map // pattern -> *compiledPattern

func compilePattern(pattern string) (*compiledPattern, error) {
	if c, ok := patternCache.Load(pattern); ok {
		return c.(*compiledPattern), nil
	}
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("parse pattern %q: %w", pattern, err)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("compile pattern %q: %w", pattern, err)
	}
	c, _ := patternCache.LoadOrStore(pattern, &compiledPattern{tree: tree, re: re})
	return c.(*compiledPattern), nil
}

// PatternValue returns a string that matches pattern, a regular expression in
// the RE2 syntax JSON Schema patterns use. Literals, classes ([0-9], [A-Z],
// [1-5A-E]), groups, alternation, anchors and quantifiers (?, *, +, {n},
// {n,m}) are supported; unbounded ones repeat at most 3 extra times and
// negated or huge classes are sampled from printable ASCII.
func PatternValue(pattern string, r *rand.Rand) (string, error) {
	return Source{}.PatternValue(pattern, r)
}

// PatternValue returns a string that matches pattern (see PatternValue),
// its words drawn from the side's part of the word list.
func (s Source) PatternValue(pattern string, r *rand.Rand) (string, error) {
	c, err := compilePattern(pattern)
	if err != nil {
		return "", err
	}
	d, err := s.data()
	if err != nil {
		return "", err
	}
	// A generated string can still miss (e.g. a lookalike anchor inside a
	// group); retry a few times rather than hand back a wrong value.
	for range 10 {
		var b strings.Builder
		if err := generate(&b, c.tree, r, d); err != nil {
			return "", fmt.Errorf("pattern %q: %w", pattern, err)
		}
		if s := b.String(); c.re.MatchString(s) {
			return s, nil
		}
	}
	return "", fmt.Errorf("pattern %q: could not generate a matching value", pattern)
}

// PatternMismatch returns a near miss for pattern: a matching value with one
// character dropped, added or changed, checked not to match. It is what a
// user states by mistake ("card ending 123" for four digits).
func PatternMismatch(pattern string, r *rand.Rand) (string, error) {
	return Source{}.PatternMismatch(pattern, r)
}

// PatternMismatch returns a near miss for pattern (see PatternMismatch),
// made from a value of s.
func (s Source) PatternMismatch(pattern string, r *rand.Rand) (string, error) {
	c, err := compilePattern(pattern)
	if err != nil {
		return "", err
	}
	for range 20 {
		v, err := s.PatternValue(pattern, r)
		if err != nil {
			return "", err
		}
		// A dropped or doubled last character is the likeliest slip; a
		// changed character is the fallback for patterns that allow both.
		cands := []string{v + v[len(v)-1:]}
		if len(v) > 1 {
			cands = append(cands, v[:len(v)-1])
		}
		r.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
		i := r.IntN(len(v))
		cands = append(cands, v[:i]+"#"+v[i+1:])
		for _, cand := range cands {
			if !c.re.MatchString(cand) {
				return cand, nil
			}
		}
	}
	return "", fmt.Errorf("pattern %q: could not generate a non-matching value", pattern)
}

// generate appends a random string matching re to b, its words from d.
func generate(b *strings.Builder, re *syntax.Regexp, r *rand.Rand, d *data) error {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			b.WriteRune(c)
		}
	case syntax.OpCharClass:
		b.WriteRune(classRune(re.Rune, r))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte(lowerChars[r.IntN(len(lowerChars))])
	case syntax.OpCapture:
		return generate(b, re.Sub[0], r, d)
	case syntax.OpConcat:
		for i := 0; i < len(re.Sub); i++ {
			if i+1 < len(re.Sub) && wordRun(b, re.Sub[i], re.Sub[i+1], r, d) {
				i++
				continue
			}
			if err := generate(b, re.Sub[i], r, d); err != nil {
				return err
			}
		}
	case syntax.OpAlternate:
		return generate(b, re.Sub[r.IntN(len(re.Sub))], r, d)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		if wordRun(b, nil, re, r, d) {
			return nil
		}
		lo, hi := repeatBounds(re)
		for range lo + r.IntN(hi-lo+1) {
			if err := generate(b, re.Sub[0], r, d); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unsupported regex construct %s", re.Op)
	}
	return nil
}

// wordRun writes words instead of random letters where a pattern allows
// them: a repeated class holding a-z (file names "travel_photos.pdf", not
// "qx7_kd.pdf"), optionally led by a single class (the first letter). It
// reports false, writing nothing, when no words fit.
func wordRun(b *strings.Builder, lead, rep *syntax.Regexp, r *rand.Rand, d *data) bool {
	switch rep.Op {
	case syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
	default:
		return false
	}
	if len(rep.Sub) != 1 || rep.Sub[0].Op != syntax.OpCharClass || (lead != nil && lead.Op != syntax.OpCharClass) {
		return false
	}
	lo, hi := repeatBounds(rep)
	if lead != nil {
		lo, hi = lo+1, hi+1
	}
	in := func(re *syntax.Regexp, c rune) bool {
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= c && c <= re.Rune[i+1] {
				return true
			}
		}
		return false
	}
	if !in(rep.Sub[0], 'a') || !in(rep.Sub[0], 'z') {
		return false
	}
	sep := ""
	if in(rep.Sub[0], '_') {
		sep = "_"
	}
	words := d.lists["word"]
	for range 3 {
		w1, w2 := pick(r, words), ""
		w := w1
		if sep != "" && r.IntN(2) == 0 {
			w2 = pick(r, words)
			w += sep + w2
		}
		ok := len(w) >= lo && len(w) <= hi
		for i, c := range w {
			if lead != nil && i == 0 {
				ok = ok && in(lead, c)
			} else {
				ok = ok && in(rep.Sub[0], c)
			}
		}
		if ok {
			b.WriteString(w)
			d.note("word", w1)
			if w2 != "" {
				d.note("word", w2)
			}
			return true
		}
	}
	return false
}

// repeatBounds returns how often a quantified expression may repeat.
func repeatBounds(re *syntax.Regexp) (lo, hi int) {
	switch re.Op {
	case syntax.OpStar:
		return 0, maxExtra
	case syntax.OpPlus:
		return 1, 1 + maxExtra
	case syntax.OpQuest:
		return 0, 1
	}
	if re.Max < 0 {
		return re.Min, re.Min + maxExtra
	}
	return re.Min, re.Max
}

// classRune picks a rune from a class given as [lo, hi] pairs, preferring
// printable ASCII so that values stay typeable.
func classRune(ranges []rune, r *rand.Rand) rune {
	var ascii []rune
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := max(ranges[i], 0x21), min(ranges[i+1], 0x7e)
		if lo <= hi {
			ascii = append(ascii, lo, hi)
		}
	}
	if len(ascii) > 0 {
		ranges = ascii
	}
	total := 0
	for i := 0; i+1 < len(ranges); i += 2 {
		total += int(ranges[i+1]-ranges[i]) + 1
	}
	n := r.IntN(total)
	for i := 0; i+1 < len(ranges); i += 2 {
		size := int(ranges[i+1]-ranges[i]) + 1
		if n < size {
			return ranges[i] + rune(n)
		}
		n -= size
	}
	return ranges[0]
}
