package builtin

import (
	"math/rand/v2"
	"strings"
)

// btWordCount counts the words of an utterance.
func btWordCount(segs []btSeg) int {
	n := 0
	for _, s := range segs {
		n += len(strings.Fields(s.text))
	}
	return n
}

// btReorderPreps are the prepositions whose trailing phrase may move to the front.
var btReorderPreps = []string{"in", "on", "at", "for", "from", "with", "by"}

// reorder moves the tail of a short request to its front: a time adverb
// ("tomorrow, set an alarm for 7:00"), a prepositional phrase with a value
// ("in Paris, what's the weather like") or "please".
func (d *btData) reorder(segs []btSeg) []btSeg {
	if len(segs) == 0 || btWordCount(segs) > 9 {
		return segs
	}
	n := len(segs)
	last := segs[n-1]
	if !last.fixed {
		t := strings.TrimSpace(last.text)
		for _, tail := range append([]string{"please"}, d.phrases.TimeAdverbs...) {
			if !strings.HasSuffix(t, " "+tail) || (n == 1 && len(strings.Fields(t)) < 3) {
				continue
			}
			lead := last.text[:len(last.text)-len(strings.TrimLeft(last.text, " "))]
			head := lead + strings.TrimSuffix(t, " "+tail)
			out := []btSeg{{text: tail + ", "}}
			if tail == "please" {
				out[0].text = "please "
			}
			out = append(out, segs[:n-1]...)
			return append(out, btSeg{text: head})
		}
		return segs
	}
	if n < 3 || segs[n-2].fixed {
		return segs
	}
	prev := segs[n-2].text
	for _, prep := range btReorderPreps {
		if !strings.HasSuffix(prev, " "+prep+" ") {
			continue
		}
		head := strings.TrimSuffix(prev, prep+" ")
		out := []btSeg{{text: prep + " "}, last, {text: ", "}}
		out = append(out, segs[:n-2]...)
		return append(out, btSeg{text: head})
	}
	return segs
}

// typo misspells one free word of four or more letters: mostly two swapped
// neighbouring letters, sometimes a dropped or doubled one.
func (d *btData) typo(r *rand.Rand, segs []btSeg) {
	type cand struct{ seg, start, end int }
	var cands []cand
	for si, s := range segs {
		if s.fixed {
			continue
		}
		for i := 0; i < len(s.text); i++ {
			if !btWordAt(s.text, i) {
				continue
			}
			j := i
			for j < len(s.text) && s.text[j] >= 'a' && s.text[j] <= 'z' {
				j++
			}
			if j-i >= 4 && btBoundary(s.text, j) && !btContains(d.phrases.TypoSkip, s.text[i:j]) {
				cands = append(cands, cand{si, i, j})
			}
			i = j
		}
	}
	if len(cands) == 0 {
		return
	}
	c := btPick(r, cands)
	w := []byte(segs[c.seg].text[c.start:c.end])
	k := 1 + r.IntN(len(w)-2)
	switch op := r.IntN(20); {
	case op < 14 && w[k] != w[k+1]:
		w[k], w[k+1] = w[k+1], w[k]
	case op < 17:
		w = append(w[:k], w[k+1:]...)
	default:
		w = append(w[:k+1], w[k:]...)
	}
	t := segs[c.seg].text
	segs[c.seg].text = t[:c.start] + string(w) + t[c.end:]
}

// btContains reports whether list holds s.
func btContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// btAskPrefixes are the prefixes that turn a request into a question.
var btAskPrefixes = map[string]bool{"could you ": true, "can you ": true, "would you ": true}

// polite adds a politeness prefix, a filler and a suffix. The suffix is
// returned apart, because thanks go after the end punctuation.
func (d *btWriter) polite(r *rand.Rand, segs []btSeg, kind btKind) ([]btSeg, btKind, string) {
	var all strings.Builder
	for _, s := range segs {
		all.WriteString(s.text)
	}
	whole := strings.TrimSpace(all.String())
	hasPlease := strings.Contains(whole, "please")
	asks := strings.HasPrefix(whole, "please") || strings.HasPrefix(whole, "can you") ||
		strings.HasPrefix(whole, "could you") || strings.HasPrefix(whole, "would you")
	var front string
	// A one-word request ("cheers") always gets a prefix, to read as a turn.
	if btChance(r, btPPrefix) || !strings.Contains(whole, " ") {
		p := d.template(r, "prefix:"+btKindNames[kind], d.phrases.Prefixes[btKindNames[kind]])
		switch {
		case strings.Contains(p, "please") && hasPlease:
		case asks && (btAskPrefixes[p] || strings.HasSuffix(p, " to ") || strings.HasSuffix(p, " and ") || p == "please "):
		default:
			front = p
			if btAskPrefixes[p] {
				kind = btQuestion
			}
		}
	}
	if btChance(r, btPFiller) {
		front = d.template(r, "filler", d.phrases.Fillers) + front
	}
	var suffix string
	if btChance(r, btPSuffix) {
		s := d.template(r, "suffix:"+btKindNames[kind], d.phrases.Suffixes[btKindNames[kind]])
		if !(hasPlease && strings.Contains(s, "please")) && !strings.Contains(front, "please") {
			suffix = s
		}
	}
	if front != "" {
		segs = append([]btSeg{{text: front}}, segs...)
	}
	return segs, kind, suffix
}

// btSentenceCase capitalizes the first letter and, with pronoun set, the
// pronoun "I".
func btSentenceCase(segs []btSeg, pronoun bool) {
	for i := range segs {
		if segs[i].fixed {
			continue
		}
		t := segs[i].text
		for _, w := range []string{"i", "i'm", "i'd", "i'll", "i've"} {
			if pronoun {
				t = btReplaceWord(t, w, "I"+w[1:])
			}
		}
		if i == 0 {
			t = btCapitalize(t)
		}
		segs[i].text = t
	}
}

// btThanks reports whether a suffix thanks rather than asks, so that it
// belongs after the end punctuation.
func btThanks(s string) bool {
	return strings.Contains(s, "thank") || strings.Contains(s, "cheers") || strings.Contains(s, "thx")
}

// btFinish joins the segments, normalizes spacing and punctuates.
func btFinish(r *rand.Rand, segs []btSeg, kind btKind, suffix string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(s.text)
	}
	core := btTidy(b.String())
	var punct string
	if core != "" && !strings.ContainsRune(".?!:", rune(core[len(core)-1])) {
		switch x := r.IntN(12); kind {
		case btQuestion:
			punct = [...]string{"?", "?", "?", "?", "?", "?", "??", "", "", "", ".", "?!"}[x]
		case btImperative:
			punct = [...]string{"", "", "", "", "", ".", ".", ".", "!", "!", "...", "!!"}[x]
		default:
			punct = [...]string{"", "", "", "", "", ".", ".", ".", ".", "!", "...", "!!"}[x]
		}
	}
	switch {
	case suffix == "":
		return core + punct
	case btThanks(suffix) && punct != "":
		return core + punct + " " + strings.TrimLeft(suffix, ", ")
	case strings.ContainsRune(".?!:)(", rune(suffix[len(suffix)-1])):
		return core + suffix // the suffix ends the text; " :)" keeps its space
	default:
		return btTidy(core+suffix) + punct
	}
}

// btDoubled are the words a filled pattern may repeat across a seam ("that
// are on on friday"); the repetition is dropped.
var btDoubled = []string{"on", "in", "at", "for", "to", "the", "from", "with", "please", "and"}

// btTidy collapses runs of spaces and removes spaces before punctuation.
func btTidy(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for _, p := range []string{" ,", " .", " ?", " !", " :"} {
		s = strings.ReplaceAll(s, p, p[1:])
	}
	s = strings.ReplaceAll(s, ",,", ",")
	for _, w := range btDoubled {
		s = btReplaceWord(s, w+" "+w, w)
	}
	return strings.Trim(s, ", ")
}
