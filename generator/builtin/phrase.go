package builtin

import (
	"math/rand/v2"
	"sort"
	"strings"
)

// btSeg is a piece of an utterance under construction. Fixed pieces hold
// label values (slot values, argument values): the paraphrase rules never
// touch them, so they stay verbatim for the grounding validator.
type btSeg struct {
	text  string
	fixed bool
}

// btKind is the sentence type of an utterance; it decides which politeness
// phrases fit and how it is punctuated.
type btKind int

const (
	btStatement btKind = iota
	btImperative
	btQuestion
)

// btKindNames are the keys of the prefix and suffix tables.
var btKindNames = [...]string{btStatement: "statement", btImperative: "imperative", btQuestion: "question"}

// btPhraseData is phrases.json.
type btPhraseData struct {
	// Synonyms maps a lower-case word or phrase to replacements that fit
	// wherever the phrase occurs in the catalogs' patterns.
	Synonyms map[string][]string `json:"synonyms"`
	// Contractions pairs an expanded form with its contraction.
	Contractions [][2]string `json:"contractions"`
	// Prefixes and Suffixes hold politeness phrases by sentence kind.
	Prefixes map[string][]string `json:"prefixes"`
	Suffixes map[string][]string `json:"suffixes"`
	// Fillers are hesitations put in front of an utterance.
	Fillers []string `json:"fillers"`
	// ImperativeVerbs and QuestionWords classify an utterance by its first word.
	ImperativeVerbs []string `json:"imperative_verbs"`
	QuestionWords   []string `json:"question_words"`
	// TimeAdverbs may move from the end of a short request to its front.
	TimeAdverbs []string `json:"time_adverbs"`
	// TypoSkip are words never misspelled.
	TypoSkip []string `json:"typo_skip"`
}

// btSynonym is one synonym table entry.
type btSynonym struct {
	key  string
	alts []string
}

// index builds the lookup tables of the phrase data.
func (d *btData) index() {
	d.synIndex = map[string][]btSynonym{}
	for key, alts := range d.phrases.Synonyms {
		first := key
		if i := strings.IndexByte(key, ' '); i >= 0 {
			first = key[:i]
		}
		d.synIndex[first] = append(d.synIndex[first], btSynonym{key: key, alts: alts})
	}
	for _, list := range d.synIndex {
		sort.Slice(list, func(i, j int) bool {
			if len(list[i].key) != len(list[j].key) {
				return len(list[i].key) > len(list[j].key)
			}
			return list[i].key < list[j].key
		})
	}
	d.imperative = btSet(d.phrases.ImperativeVerbs)
	d.question = btSet(d.phrases.QuestionWords)
}

// btSet makes a set of words.
func btSet(words []string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// Probabilities of the paraphrase rules, per utterance.
const (
	btPSynonym  = 0.3  // each synonym table match
	btPReorder  = 0.25 // word-order variant of a short request
	btPTypo     = 0.05 // one misspelled word
	btPPrefix   = 0.55 // politeness prefix
	btPFiller   = 0.2  // hesitation filler
	btPSuffix   = 0.45 // politeness suffix
	btPSentence = 0.35 // sentence case instead of all lower case
	btPFirstCap = 0.2  // only the first letter capitalized, as typed in a hurry
)

// paraphrase applies the paraphrase rules to an utterance and renders it.
// In a held-out run, synonyms and politeness phrases come from the side's
// part of their lists.
func (d *btWriter) paraphrase(r *rand.Rand, segs []btSeg) string {
	kind := d.kindOf(segs)
	btMapFree(segs, func(s string) string { return d.synonymize(r, s) })
	switch r.IntN(10) {
	case 0, 1, 2:
		btMapFree(segs, func(s string) string { return d.contract(s, false) })
	case 3, 4, 5:
		btMapFree(segs, func(s string) string { return d.contract(s, true) })
	}
	if btChance(r, btPReorder) {
		segs = d.reorder(segs)
	}
	if btChance(r, btPTypo) {
		d.typo(r, segs)
	}
	segs, kind, suffix := d.polite(r, segs, kind)
	switch x := r.Float64(); {
	case x < btPSentence:
		btSentenceCase(segs, true)
	case x < btPSentence+btPFirstCap:
		btSentenceCase(segs, false)
	}
	return btFinish(r, segs, kind, suffix)
}

// kindOf classifies an utterance by its first word.
func (d *btData) kindOf(segs []btSeg) btKind {
	if len(segs) == 0 || segs[0].fixed {
		return btStatement
	}
	first, _, _ := strings.Cut(strings.TrimSpace(segs[0].text), " ")
	first = strings.Trim(first, ",.:;!?")
	switch {
	case d.question[first]:
		return btQuestion
	case d.imperative[first], first == "please":
		return btImperative
	}
	return btStatement
}

// btMapFree rewrites the text of every segment that is not fixed.
func btMapFree(segs []btSeg, f func(string) string) {
	for i := range segs {
		if !segs[i].fixed {
			segs[i].text = f(segs[i].text)
		}
	}
}

// btIsWordByte reports whether c belongs to a word (apostrophes and hyphens do).
func btIsWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '\'' || c == '-' || c >= 0x80
}

// btWordAt reports whether a word starts at s[i].
func btWordAt(s string, i int) bool {
	return btIsWordByte(s[i]) && (i == 0 || !btIsWordByte(s[i-1]))
}

// btBoundary reports whether position i of s ends a word.
func btBoundary(s string, i int) bool { return i >= len(s) || !btIsWordByte(s[i]) }

// synonymize replaces synonym table matches, each with probability
// btPSynonym. In a held-out run a match whose replacements are all reserved
// for the other side stays as it is.
func (d *btWriter) synonymize(r *rand.Rand, s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !btWordAt(s, i) {
			i++
			continue
		}
		j := i
		for j < len(s) && btIsWordByte(s[j]) {
			j++
		}
		next := j
		for _, syn := range d.synIndex[s[i:j]] {
			if strings.HasPrefix(s[i:], syn.key) && btBoundary(s, i+len(syn.key)) {
				if len(d.part(syn.alts)) > 0 && btChance(r, btPSynonym) {
					b.WriteString(s[last:i])
					b.WriteString(d.template(r, "synonym:"+syn.key, syn.alts))
					next = i + len(syn.key)
					last = next
				}
				break
			}
		}
		i = next
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// contract contracts (or, with expand, expands) the contraction table's phrases.
func (d *btData) contract(s string, expand bool) string {
	for _, pair := range d.phrases.Contractions {
		from, to := pair[0], pair[1]
		if expand {
			from, to = to, from
		}
		s = btReplaceWord(s, from, to)
	}
	return s
}

// btReplaceWord replaces whole-word occurrences of from in s.
func btReplaceWord(s, from, to string) string {
	var b strings.Builder
	last := 0
	for i := 0; ; {
		k := strings.Index(s[i:], from)
		if k < 0 {
			break
		}
		k += i
		if (k == 0 || !btIsWordByte(s[k-1])) && btBoundary(s, k+len(from)) {
			b.WriteString(s[last:k])
			b.WriteString(to)
			last = k + len(from)
		}
		i = k + len(from)
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
