package builtin

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/lexicon"
	"github.com/cyclecore/mlmforge/schemas"
)

// btPart is a literal piece of a pattern or, when name is set, a placeholder.
type btPart struct {
	lit  string
	name string
}

// btPattern is a parsed catalog pattern.
type btPattern struct {
	parts []btPart
	// names are the distinct placeholder names, in order.
	names []string
	// src is the catalog text, the pattern's identity in a held-out split.
	src string
}

// btParsePattern splits a catalog pattern at its {name} placeholders. The
// catalog loader has checked that braces pair up.
func btParsePattern(p string) btPattern {
	pat := btPattern{src: p}
	for p != "" {
		i := strings.IndexByte(p, '{')
		j := strings.IndexByte(p, '}')
		if i < 0 || j < i {
			pat.parts = append(pat.parts, btPart{lit: p})
			break
		}
		if i > 0 {
			pat.parts = append(pat.parts, btPart{lit: p[:i]})
		}
		name := p[i+1 : j]
		pat.parts = append(pat.parts, btPart{name: name})
		if !btContains(pat.names, name) {
			pat.names = append(pat.names, name)
		}
		p = p[j+1:]
	}
	return pat
}

// btClass is an intent class with parsed patterns.
type btClass struct {
	// list names the class's patterns in a trace: "pattern:<taxonomy>/<class>".
	list     string
	patterns []btPattern
	// gens maps a slot name to its generator ("" for a value list).
	gens map[string]string
}

// newBTClass parses the patterns of a class of a taxonomy.
func newBTClass(taxonomy string, c *schemas.IntentClass) *btClass {
	bc := &btClass{list: "pattern:" + taxonomy + "/" + c.ID, gens: map[string]string{}}
	for _, p := range c.Patterns {
		bc.patterns = append(bc.patterns, btParsePattern(p))
	}
	for _, s := range c.Slots {
		bc.gens[s.Name] = s.Gen
	}
	return bc
}

// intentClass finds the sample's class: the cell names it, else the target does.
func (b *Teacher) intentClass(s generator.Sample) (*btClass, error) {
	classes, ok := b.intents[s.Cell.Taxonomy]
	if !ok && b.cat != nil {
		if t, err := b.cat.Taxonomy(s.Cell.Taxonomy); err == nil {
			classes, ok = b.intents[t.ID]
		}
	}
	if !ok {
		return nil, fmt.Errorf("unknown taxonomy %q", s.Cell.Taxonomy)
	}
	id := s.Cell.Class
	if id == "" {
		var t generator.IntentTarget
		if err := json.Unmarshal(s.Target, &t); err != nil {
			return nil, fmt.Errorf("decode intent target: %w", err)
		}
		id = t.Intent
	}
	c, ok := classes[id]
	if !ok {
		return nil, fmt.Errorf("taxonomy %q has no class %q", s.Cell.Taxonomy, id)
	}
	return c, nil
}

// writeIntent verbalizes an EdgeIntent sample: a class pattern whose
// placeholders the sample's slots fill, slot values the pattern does not name
// appended as short phrases, then the paraphrase rules.
func (b *Teacher) writeIntent(r *rand.Rand, w *btWriter, s generator.Sample) (string, error) {
	c, err := b.intentClass(s)
	if err != nil {
		return "", err
	}
	slots := s.Slots
	if len(slots) == 0 && len(s.Target) > 0 {
		var t generator.IntentTarget
		if err := json.Unmarshal(s.Target, &t); err == nil {
			slots = t.Slots
		}
	}
	names := make([]string, 0, len(slots))
	for n, v := range slots {
		if strings.TrimSpace(v) != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	pat := c.choose(r, w.h, names)
	segs := btFill(pat, func(name string) []btSeg {
		if v, ok := slots[name]; ok && strings.TrimSpace(v) != "" {
			return []btSeg{{text: v, fixed: true}}
		}
		return nil
	})
	for _, n := range names {
		if btContains(pat.names, n) {
			continue
		}
		name, list := w.slotPhrases(c.gens[n], n)
		sep := " "
		if btChance(r, 0.3) {
			sep = ", "
		}
		segs = append(segs, btSeg{text: sep})
		segs = append(segs, btTemplate(w.template(r, name, list), btHumanize(n), []btSeg{{text: slots[n], fixed: true}})...)
	}
	return w.paraphrase(r, segs), nil
}

// slotPhrases returns the phrases that may append a slot, with their list's
// name: the slot generator's, else the slot name's, else the generic ones.
// In a held-out run a list the side has no phrase of is passed over.
func (w *btWriter) slotPhrases(gen, slot string) (string, []string) {
	for _, k := range []string{gen, slot} {
		if list := w.slots.SlotPhrases[k]; len(list) > 0 && len(w.part(list)) > 0 {
			return "slot-phrase:" + k, list
		}
	}
	return "slot-phrase:generic", w.slots.SlotGeneric
}

// choose picks a pattern for the given slot names. Patterns that need a slot
// the sample lacks are avoided. Patterns that name every slot are preferred;
// failing those, the ones that name the most. A pattern that names none of
// the slots serves only when no pattern names any ("make an alarm for six in
// the morning at 07:30" contradicts itself). When every pattern needs a
// missing slot, one that needs the fewest is used and the missing
// placeholders are dropped.
//
// In a held-out run only the side's patterns are candidates.
func (c *btClass) choose(r *rand.Rand, h lexicon.Source, names []string) btPattern {
	pats, fallback := btSidePatterns(h, c.patterns)
	if len(pats) == 0 {
		return btPattern{} // the loader requires patterns; the slots are still appended
	}
	p := pats[btChooseIn(r, pats, names)]
	btNotePattern(h, c.list, c.patterns, p, fallback)
	return p
}

// btChooseIn returns the index of the pattern of pats to use (see choose).
func btChooseIn(r *rand.Rand, pats []btPattern, names []string) int {
	cover := make([]int, len(pats))
	best := -1
	fewest, fewestAt := -1, []int(nil)
	for i, p := range pats {
		extra := 0
		for _, n := range p.names {
			if btContains(names, n) {
				cover[i]++
			} else {
				extra++
			}
		}
		if extra > 0 {
			cover[i] = -1
			switch {
			case fewest < 0 || extra < fewest:
				fewest, fewestAt = extra, []int{i}
			case extra == fewest:
				fewestAt = append(fewestAt, i)
			}
			continue
		}
		best = max(best, cover[i])
	}
	if best < 0 {
		return btPick(r, fewestAt)
	}
	weights := make([]float64, len(pats))
	total := 0.0
	for i, n := range cover {
		switch {
		case n < 0:
		case n == best:
			weights[i] = 8
		case n > 0:
			weights[i] = 1
		}
		total += weights[i]
	}
	return btWeighted(r, weights, total)
}

// btWeighted draws an index with probability weights[i]/total.
func btWeighted(r *rand.Rand, weights []float64, total float64) int {
	x := r.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	for i := len(weights) - 1; i >= 0; i-- {
		if weights[i] > 0 {
			return i
		}
	}
	return 0
}

// btTemplate expands a phrase template: {v} becomes the value segments, {n}
// the humanized name.
func btTemplate(t, name string, value []btSeg) []btSeg {
	var out []btSeg
	for {
		i := strings.Index(t, "{v}")
		if i < 0 {
			return append(out, btSeg{text: strings.ReplaceAll(t, "{n}", name)})
		}
		out = append(out, btSeg{text: strings.ReplaceAll(t[:i], "{n}", name)})
		out = append(out, value...)
		t = t[i+3:]
	}
}

// btDropStop are the words after a dropped placeholder that show it ended a
// phrase ("set a timer for {duration} please"): the phrase's preposition goes too.
var btDropStop = btSet([]string{"please", "thanks", "now", "right", "at", "on", "in", "for", "to", "from", "with",
	"by", "and", "or", "tomorrow", "today", "tonight", "this", "next", "every", "starting", "until", "before",
	"after", "that", "so", "if", "when", "because", "using", "via", "saying", "called", "named", "between",
	"near", "nearby", "within", "rated", "sorted", "under", "over", "as", "into", "up", "off", "out", "is", "are",
	"returning", "leaving", "checking", "departing"})

// btUnitWords follow a number placeholder and go with it when it is dropped.
var btUnitWords = btSet([]string{"minutes", "minute", "seconds", "second", "hours", "hour", "degrees", "percent",
	"kelvin", "stars", "star", "km", "people", "guests", "bags", "days", "more", "x"})

// btDropWords end a phrase before a dropped placeholder: label words,
// determiners, then one preposition or connector.
var (
	btDropLabels = btSet([]string{"number", "code", "subject", "reason", "reason:", "routing", "id", "named", "called", "titled"})
	btDropDets   = btSet([]string{"the", "my", "a", "an", "this", "your"})
	btDropPreps  = btSet([]string{"in", "on", "at", "for", "to", "from", "with", "by", "of", "about", "saying",
		"until", "between", "via", "under", "over", "within", "after", "before", "starting", "leaving", "returning",
		"because", "ending", "tagged", "and", "is", "that", "says", "checking", "departing"})
)

// btFill renders a pattern: value(name) gives a placeholder's segments, or
// nil to drop the placeholder together with the words that only make sense
// with it ("for {duration}" at the end, "{n} minutes").
func btFill(p btPattern, value func(name string) []btSeg) []btSeg {
	var out []btSeg
	pending := "" // literal text carried to the next part
	for k := 0; k < len(p.parts); k++ {
		part := p.parts[k]
		if part.name == "" {
			pending += part.lit
			continue
		}
		if v := value(part.name); v != nil {
			out = append(out, btSeg{text: pending})
			out = append(out, v...)
			pending = ""
			continue
		}
		next, consumed := "", false
		if k+1 < len(p.parts) && p.parts[k+1].name == "" {
			next, consumed = p.parts[k+1].lit, true
			if w, rest := btFirstWord(next); btUnitWords[w] {
				next = rest
			}
		}
		w, _ := btFirstWord(next)
		nextIsValue := !consumed && k+1 < len(p.parts)
		if (w == "" || btDropStop[w]) && !nextIsValue {
			pending = btTrimTail(pending)
		}
		pending += next
		if consumed {
			k++
		}
	}
	return append(out, btSeg{text: pending})
}

// btFirstWord returns the first word of s ("" when s starts with punctuation
// or is blank) and the rest of s after it.
func btFirstWord(s string) (string, string) {
	t := strings.TrimLeft(s, " ")
	j := 0
	for j < len(t) && btIsWordByte(t[j]) {
		j++
	}
	return strings.ToLower(t[:j]), t[j:]
}

// btTrimTail removes the words that only led up to a dropped placeholder:
// label words, determiners and one preposition ("with the subject").
func btTrimTail(s string) string {
	lead := s[:len(s)-len(strings.TrimLeft(s, " "))]
	words := strings.Fields(s)
	drop := func(set map[string]bool, most int) {
		for ; most > 0 && len(words) > 0 && set[words[len(words)-1]]; most-- {
			words = words[:len(words)-1]
		}
	}
	drop(btDropLabels, 2)
	drop(btDropDets, 2)
	drop(btDropPreps, 1)
	drop(btDropDets, 2)
	if len(words) == 0 {
		return lead
	}
	return lead + strings.Join(words, " ") + " "
}
