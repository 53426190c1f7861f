// Package words folds text and splits it into words, the one tokenization
// that dedup (generator) and grounding (generator/validate) share, so that a
// duplicate and a grounded value are judged on the same words.
package words

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold lowercases s and strips diacritics, so that "Zürich" and "ZURICH"
// compare equal. ASCII input, the common case, takes a fast path.
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	// Transformers keep state, so each call builds its own chain.
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return cases.Fold().String(out)
}

// IsApostrophe reports whether r joins a word ("don't") rather than splitting it.
func IsApostrophe(r rune) bool { return r == '\'' || r == '’' || r == 'ʼ' }

// Tokens folds s and splits it into runs of letters and digits. All other
// characters separate words, except apostrophes, which are dropped ("don't" is
// "dont"), so punctuation and spacing never decide whether two texts match.
func Tokens(s string) []string {
	f := Fold(s)
	toks := make([]string, 0, len(f)/5+1)
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			toks = append(toks, b.String())
			b.Reset()
		}
	}
	for _, r := range f {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case IsApostrophe(r):
		default:
			flush()
		}
	}
	flush()
	return toks
}
