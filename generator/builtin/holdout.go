package builtin

import (
	"math/rand/v2"

	"github.com/cyclecore/mlmforge/generator/lexicon"
)

// btWriter writes one request: the phrase data, and the side of a held-out
// split the request's cell writes for. Outside a held-out run h holds
// nothing out, and every draw is the one the builtin made before held-out
// splits existed.
type btWriter struct {
	*btData
	h lexicon.Source
}

// template draws a phrasing template of the named list from the side's part.
func (w *btWriter) template(r *rand.Rand, list string, items []string) string {
	return w.h.Pick(r, lexicon.NSTemplate, list, items)
}

// noteTemplate shows the trace, if any, a template drawn from the side's
// part of a list without template (btDistractors draws several at once).
func (w *btWriter) noteTemplate(list string, items []string, item string) {
	if w.h.Trace != nil {
		w.h.Trace(lexicon.Draw{NS: lexicon.NSTemplate, List: list, Items: items, Item: item})
	}
}

// part returns the templates of a list the side may use (none for a one-item
// list reserved for the other side).
func (w *btWriter) part(items []string) []string { return w.h.Part(lexicon.NSTemplate, items) }

// btSidePatterns returns the catalog patterns the side may use, and whether
// it had none of them and got them all (a fallback; the catalog gives every
// intent class three patterns and every function two, so a side always has
// one).
func btSidePatterns(h lexicon.Source, pats []btPattern) ([]btPattern, bool) {
	if !h.Active() {
		return pats, false
	}
	idx := h.Keep(lexicon.NSTemplate, btSources(pats))
	if len(idx) == 0 {
		return pats, true
	}
	out := make([]btPattern, len(idx))
	for i, j := range idx {
		out[i] = pats[j]
	}
	return out, false
}

// btNotePattern shows the trace, if any, the pattern chosen from a list.
func btNotePattern(h lexicon.Source, list string, all []btPattern, p btPattern, fallback bool) {
	if h.Trace != nil {
		h.Trace(lexicon.Draw{NS: lexicon.NSTemplate, List: list, Items: btSources(all), Item: p.src, Fallback: fallback})
	}
}

// btSources returns the catalog text of each pattern.
func btSources(pats []btPattern) []string {
	out := make([]string, len(pats))
	for i, p := range pats {
		out[i] = p.src
	}
	return out
}
