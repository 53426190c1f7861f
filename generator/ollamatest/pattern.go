package ollamatest

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// fromPattern makes a string that matches the regular expression p, taking
// the first choice everywhere (the last with alt). It reports false for a
// pattern it cannot satisfy.
func fromPattern(p string, alt bool) (string, bool) {
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	writeRegexp(&b, re, alt)
	s := b.String()
	if ok, err := regexp.MatchString(p, s); err != nil || !ok {
		return "", false
	}
	return s, true
}

func writeRegexp(b *strings.Builder, re *syntax.Regexp, alt bool) {
	repeat := func(n int) {
		for range n {
			writeRegexp(b, re.Sub[0], alt)
		}
	}
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		if len(re.Rune) > 0 {
			r := re.Rune[0]
			if alt {
				r = re.Rune[len(re.Rune)-1]
			}
			b.WriteRune(r)
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('x')
	case syntax.OpCapture:
		writeRegexp(b, re.Sub[0], alt)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			writeRegexp(b, s, alt)
		}
	case syntax.OpAlternate:
		s := re.Sub[0]
		if alt {
			s = re.Sub[len(re.Sub)-1]
		}
		writeRegexp(b, s, alt)
	case syntax.OpPlus:
		repeat(1)
	case syntax.OpStar, syntax.OpQuest:
		if alt {
			repeat(1)
		}
	case syntax.OpRepeat:
		n := re.Min
		if alt && re.Max > re.Min {
			n = re.Max
		}
		repeat(n)
	}
}
