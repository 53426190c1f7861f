package lexicon

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
)

// Holdout is one side of a split that keeps a share of every list (value
// lists here, phrasing templates in the builtin teacher) for the test split
// only (generator.Spec.HoldoutTemplates). Whether an item is reserved depends
// on a hash of its text and on the share alone, never on an RNG stream: the
// same items are reserved in every run and dataset, and an item reserved at
// one share is reserved at every larger share.
type Holdout struct {
	// Share is the share of each list reserved for the test split, in [0, 1);
	// 0 holds nothing out.
	Share float64
	// Test selects the reserved items; otherwise the side uses the others.
	Test bool
}

// Namespaces hash items apart, so that a phrasing template and a value with
// the same text ("Garden") are reserved independently. Within a namespace an
// item is reserved by its text, whichever list holds it ("Italian" is a
// cuisine and a language).
const (
	// NSTemplate holds phrasing templates, phrases and document styles.
	NSTemplate = "template"
	// NSValue holds values: names, cities, products, words.
	NSValue = "value"
)

// Draw is one item drawn from a list by a side of a held-out split, as a
// trace sees it (tests record draws to check which side every item is on).
type Draw struct {
	// NS is NSTemplate or NSValue.
	NS string
	// List names the list, e.g. "first_name" or "pattern:assistant-50/timer_set".
	List string
	// Items is the whole list, both sides.
	Items []string
	// Item is the item drawn.
	Item string
	// Fallback is set when the side had no item of the list (a list of one
	// item reserved for the other side), so the whole list served.
	Fallback bool
}

// Active reports whether h holds anything out.
func (h Holdout) Active() bool { return h.Share > 0 }

// units caches Unit per namespace: the lists are fixed, and hashing every
// item on every draw would cost more than the draw.
var units sync.Map // ns -> *sync.Map (item -> float64)

// Unit places an item of a namespace in [0, 1): the first 8 bytes of
// sha256(ns, NUL, item) read as a fraction. Items below the share are
// reserved (see Reserved).
func Unit(ns, item string) float64 {
	m, _ := units.LoadOrStore(ns, &sync.Map{})
	cache := m.(*sync.Map)
	if u, ok := cache.Load(item); ok {
		return u.(float64)
	}
	sum := sha256.Sum256([]byte(ns + "\x00" + item))
	u := float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
	cache.Store(item, u)
	return u
}

// Reserved reports, for each item, whether it is reserved for the test split
// at share: an item is reserved when its Unit is below share. A list of two
// or more distinct items keeps at least one on each side: when no item falls
// below share the lowest is reserved, when every item does the highest stays
// open. A list of one distinct item is reserved or not by its Unit alone.
// Equal items are always on the same side.
func Reserved(share float64, ns string, items []string) []bool {
	out := make([]bool, len(items))
	if share <= 0 || len(items) == 0 {
		return out
	}
	lo, hi := -1, -1
	reserved, distinct := 0, map[string]bool{}
	us := make([]float64, len(items))
	for i, it := range items {
		us[i] = Unit(ns, it)
		out[i] = us[i] < share
		if !distinct[it] {
			distinct[it] = true
			if out[i] {
				reserved++
			}
		}
		if lo < 0 || us[i] < us[lo] {
			lo = i
		}
		if hi < 0 || us[i] > us[hi] {
			hi = i
		}
	}
	if len(distinct) < 2 {
		return out
	}
	switch reserved {
	case 0:
		for i, it := range items {
			out[i] = it == items[lo]
		}
	case len(distinct):
		for i, it := range items {
			out[i] = it != items[hi]
		}
	}
	return out
}

// Keep returns the indices of the items side h may use, in list order: all
// of them when h holds nothing out. It is empty only for a list whose one
// distinct item is reserved for the other side.
func (h Holdout) Keep(ns string, items []string) []int {
	idx := make([]int, 0, len(items))
	if !h.Active() {
		for i := range items {
			idx = append(idx, i)
		}
		return idx
	}
	for i, r := range Reserved(h.Share, ns, items) {
		if r == h.Test {
			idx = append(idx, i)
		}
	}
	return idx
}
