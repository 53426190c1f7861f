package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/schemas"
)

// Scramble returns a copy of r in which every free-text value of the answer that
// occurs verbatim in the input is replaced, in the input and in the answer alike,
// by a random string of the same shape: each letter by a random letter of the same
// case, each digit by a random digit, everything else kept ("Liam Ueda" may become
// "Qorx Tbel", "(194) 555-0132" "(607) 281-9945"). It reports false when r has no
// such value.
//
// The copy is a training example whose answer cannot be guessed from the value
// pools the other examples came from: the only way to get it right is to copy it
// from the text. Students trained from scratch otherwise learn the pools first
// (plausible names in place of the one in the text) and the copying late;
// scrambled copies make copying pay from the first steps, and teach it for
// strings the pools never had (what a held-out test split and real data hold).
//
// Free-text values are strings whose schema (the record's, or its functions'
// parameters) sets no enum, const or pattern and no date/time format: those carry
// meaning a random string would break. Values of two or fewer characters are kept
// too, as their replacements could collide with unrelated text.
func Scramble(cat *schemas.Catalog, r *datasets.Record, rng *rand.Rand) (datasets.Record, bool) {
	target, err := parseOrdered([]byte(r.Target))
	if err != nil {
		return *r, false
	}
	var values []string
	collect := func(v string, schema *jnode) {
		if len(v) > 2 && freeText(schema) && strings.Contains(r.Input, v) && !slices.Contains(values, v) {
			values = append(values, v)
		}
	}
	switch r.Task {
	case string(schemas.EdgeJSON):
		_, raw, err := RecordSchema(cat, r)
		if err != nil {
			return *r, false
		}
		schema, err := parseOrdered(raw)
		if err != nil {
			return *r, false
		}
		walkStrings(target, schema, collect)
	case string(schemas.EdgeFuncCall):
		funcs, err := offeredFunctions(cat, r)
		if err != nil {
			return *r, false
		}
		for _, t := range target.get("turns").itemsOrNil() {
			for _, c := range t.get("calls").itemsOrNil() {
				for _, f := range funcs {
					if f.name == c.get("name").str() {
						walkStrings(c.get("arguments"), f.params, collect)
					}
				}
			}
		}
	}
	if len(values) == 0 {
		return *r, false
	}
	// Longer values first, so a value inside another is replaced as part of it.
	slices.SortStableFunc(values, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(values))
	for _, v := range values {
		pairs = append(pairs, v, scrambleString(v, rng))
	}
	rep := strings.NewReplacer(pairs...)
	out := *r
	out.ID = r.ID + "~s"
	out.Input = rep.Replace(r.Input)
	replaceStrings(target, rep)
	out.Target = target.String()
	return out, true
}

// walkStrings calls f on every string leaf of value with its schema node.
func walkStrings(value, schema *jnode, f func(string, *jnode)) {
	if value == nil {
		return
	}
	switch {
	case value.object:
		props := schema.get("properties")
		for i, k := range value.keys {
			walkStrings(value.vals[i], props.get(k), f)
		}
	case value.array:
		prefix, items := schema.get("prefixItems"), schema.get("items")
		for i, it := range value.items {
			if prefix != nil && i < len(prefix.items) {
				walkStrings(it, prefix.items[i], f)
			} else {
				walkStrings(it, items, f)
			}
		}
	case bytes.HasPrefix(value.raw, []byte(`"`)):
		f(value.str(), schema)
	}
}

// freeText reports whether a string schema leaves the value free: no enum,
// const or pattern, and no date or time format.
func freeText(schema *jnode) bool {
	if schema == nil {
		return false
	}
	for _, k := range []string{"enum", "const", "pattern", "anyOf", "oneOf"} {
		if schema.get(k) != nil {
			return false
		}
	}
	switch schema.get("format").str() {
	case "date", "time", "date-time", "duration":
		return false
	}
	return true
}

// replaceStrings applies rep to every string leaf of n.
func replaceStrings(n *jnode, rep *strings.Replacer) {
	switch {
	case n == nil:
	case n.object:
		for _, v := range n.vals {
			replaceStrings(v, rep)
		}
	case n.array:
		for _, v := range n.items {
			replaceStrings(v, rep)
		}
	case bytes.HasPrefix(n.raw, []byte(`"`)):
		n.raw, _ = json.Marshal(rep.Replace(n.str())) // a string always marshals
	}
}

// scrambleString keeps the shape of s: letters become random letters of the same
// case, digits random digits, anything else stays.
func scrambleString(s string, rng *rand.Rand) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', unicode.IsLower(c):
			b.WriteRune(rune('a' + rng.IntN(26)))
		case c >= 'A' && c <= 'Z', unicode.IsUpper(c):
			b.WriteRune(rune('A' + rng.IntN(26)))
		case c >= '0' && c <= '9':
			b.WriteRune(rune('0' + rng.IntN(10)))
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// itemsOrNil is an array's items, nil for anything else.
func (n *jnode) itemsOrNil() []*jnode {
	if n == nil || !n.array {
		return nil
	}
	return n.items
}

// Augment returns recs followed by copies scrambled copies of each record that
// has free-text values (Scramble), drawn from a generator seeded by (seed, record
// id, copy), so the same records and seed always give the same data.
func Augment(cat *schemas.Catalog, recs []datasets.Record, copies int, seed uint64) []datasets.Record {
	out := slices.Clone(recs)
	for c := 1; c <= copies; c++ {
		for i := range recs {
			h := fnv.New64a()
			h.Write([]byte(recs[i].ID))
			rng := rand.New(rand.NewPCG(seed^h.Sum64(), uint64(c)))
			if s, ok := Scramble(cat, &recs[i], rng); ok {
				s.ID = fmt.Sprintf("%s~s%d", recs[i].ID, c)
				out = append(out, s)
			}
		}
	}
	return out
}
