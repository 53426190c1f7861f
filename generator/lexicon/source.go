package lexicon

import (
	"math/rand/v2"
	"sync"
)

// Source draws values the way Value, FormatValue, PatternValue,
// PatternMismatch and NearMiss do, from one side of a held-out split: every
// list it draws from is cut to the side's part (Holdout.Keep with NSValue),
// so the test side states only reserved names, cities or products and every
// other side none. Numbers, dates and codes are built, not drawn from lists,
// and are the same on both sides. The zero Source draws from the whole lists,
// exactly as the package functions do.
type Source struct {
	Holdout
	// Trace, if set, sees every item drawn from a list.
	Trace func(Draw)
}

// sides caches the view of each side: a Holdout -> func() *data.
var sides sync.Map

// data returns the lists the source draws from.
func (s Source) data() (*data, error) {
	d, err := loadData()
	if err != nil {
		return nil, err
	}
	if s.Active() {
		f, _ := sides.LoadOrStore(s.Holdout, sync.OnceValue(func() *data { return cutLists(d, s.Holdout) }))
		d = f.(func() *data)()
	}
	if s.Trace != nil {
		c := *d
		c.trace = s.Trace
		d = &c
	}
	return d, nil
}

// cutLists returns a view of d whose lists hold only the side's part. A list
// the side has no item of (a one-item list reserved for the other side) stays
// whole and is marked as a fallback; the lexicon has none today
// (TestLexiconListSizes), so this is a guard, not a path taken.
func cutLists(d *data, h Holdout) *data {
	c := *d
	c.lists = make(map[string][]string, len(d.lists))
	c.whole = d.lists
	c.fallback = map[string]bool{}
	for name, vals := range d.lists {
		idx := h.Keep(NSValue, vals)
		if len(idx) == 0 {
			c.lists[name] = vals
			c.fallback[name] = true
			continue
		}
		part := make([]string, len(idx))
		for i, j := range idx {
			part[i] = vals[j]
		}
		c.lists[name] = part
	}
	return &c
}

// Part returns the items of a list, in namespace ns, that the side may use:
// the whole list when nothing is held out; none for a one-item list
// reserved for the other side, where the caller uses a more general list or
// leaves the item out.
func (s Source) Part(ns string, items []string) []string {
	if !s.Active() {
		return items
	}
	idx := s.Keep(ns, items)
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = items[j]
	}
	return out
}

// Pick draws an item of the named list, in namespace ns, from the side's
// part; when the side has none of it, from the whole list (a fallback the
// trace sees). It draws as pick does: with nothing held out, exactly the
// item an unsplit draw gives. An empty list gives "".
func (s Source) Pick(r *rand.Rand, ns, list string, items []string) string {
	if len(items) == 0 {
		return ""
	}
	part := s.Part(ns, items)
	fallback := len(part) == 0
	if fallback {
		part = items
	}
	v := pick(r, part)
	if s.Trace != nil {
		s.Trace(Draw{NS: ns, List: list, Items: items, Item: v, Fallback: fallback})
	}
	return v
}

// List returns a copy of the lexicon list name (a list generator such as
// "city", or an internal list such as "first_name"), and false when there is
// no such list.
func List(name string) ([]string, bool) {
	d, err := loadData()
	if err != nil {
		return nil, false
	}
	vals, ok := d.lists[name]
	return append([]string(nil), vals...), ok
}
