package schemas

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// minClassPatterns is the fewest patterns an intent class may have: fewer give
// the generator too little variety to produce a class's share of examples.
const minClassPatterns = 3

// patternSite is where a normalized pattern was first seen in a taxonomy.
type patternSite struct {
	class   int
	pattern int
}

// taxonomySeen tracks what must be unique within one taxonomy.
type taxonomySeen struct {
	ids      map[string]int
	descs    map[string]int
	patterns map[string]patternSite
}

// loadTaxonomy loads one catalog/edgeintent/*.json file: a Taxonomy.
func (l *loader) loadTaxonomy(file string, data []byte) {
	doc, ok := parseJSON(&l.ps, file, data)
	var t Taxonomy
	if !ok || !decodeStrict(&l.ps, file, data, doc, &t) {
		return
	}
	t.File = file
	before := l.ps.len()
	l.checkTaxonomyMeta(file, &t)
	seen := &taxonomySeen{ids: map[string]int{}, descs: map[string]int{}, patterns: map[string]patternSite{}}
	for i := range t.Classes {
		l.checkClass(file, &t, i, seen)
	}
	if l.ps.len() == before {
		l.cat.Taxonomies = append(l.cat.Taxonomies, &t)
	}
}

// checkTaxonomyMeta checks the id ("<domain>-<N>", N one of 50, 100, 200, and
// the file name), the domain, the description and that there are exactly N classes.
func (l *loader) checkTaxonomyMeta(file string, t *Taxonomy) {
	l.requireSnake(file, "$", "domain", t.Domain)
	l.requireText(file, "$", "description", t.Description)
	if t.ID == "" {
		l.ps.add(file, "$.id", `"id" is required and must not be empty`)
		return
	}
	domain, size, ok := sizeOf(t.ID)
	if !ok {
		l.ps.add(file, "$.id", `taxonomy id %q must be "<domain>-<N>" with N one of 50, 100, 200`, t.ID)
		return
	}
	if domain != t.Domain {
		l.ps.add(file, "$.id", "taxonomy id %q must start with its domain %q", t.ID, t.Domain)
	}
	if stem(file) != t.ID {
		l.ps.add(file, "$.id", "taxonomy id %q must match the file name %q", t.ID, stem(file)+".json")
	}
	if len(t.Classes) != size {
		l.ps.add(file, "$.classes", "taxonomy %q needs exactly %d classes, has %d", t.ID, size, len(t.Classes))
	}
	if prev, dup := l.sizeFiles[size]; dup {
		l.ps.add(file, "$.id", "a taxonomy of %d classes is already defined in %s (one taxonomy per size)", size, prev)
	} else {
		l.sizeFiles[size] = file
	}
}

// checkClass checks one intent class: id, description, slots and patterns.
func (l *loader) checkClass(file string, t *Taxonomy, i int, seen *taxonomySeen) {
	c := &t.Classes[i]
	p := jidx("$.classes", i)
	if l.requireSnake(file, p, "id", c.ID) {
		if j, dup := seen.ids[c.ID]; dup {
			l.ps.add(file, jkey(p, "id"), "duplicate class id %q (also $.classes[%d])", c.ID, j)
		} else {
			seen.ids[c.ID] = i
		}
	}
	l.requireText(file, p, "description", c.Description)
	if d := normalize(c.Description); d != "" {
		if j, dup := seen.descs[d]; dup {
			l.ps.add(file, jkey(p, "description"), "class %q has the same description as class %q ($.classes[%d])",
				c.ID, t.Classes[j].ID, j)
		} else {
			seen.descs[d] = i
		}
	}
	slots := l.checkSlots(file, p, c)
	if len(c.Patterns) < minClassPatterns {
		l.ps.add(file, jkey(p, "patterns"), "class %q needs at least %d patterns, has %d", c.ID, minClassPatterns, len(c.Patterns))
	}
	known := func(name string) string {
		if _, ok := slots[name]; ok {
			return ""
		}
		if len(slots) == 0 {
			return fmt.Sprintf("placeholder {%s} is not a slot of class %q (the class declares no slots)", name, c.ID)
		}
		return fmt.Sprintf("placeholder {%s} is not a slot of class %q (slots: %s)", name, c.ID, strings.Join(slices.Sorted(maps.Keys(slots)), ", "))
	}
	for j, pat := range c.Patterns {
		pp := jidx(jkey(p, "patterns"), j)
		if !l.checkPattern(file, pp, pat, known) {
			continue
		}
		key := normalize(replacePlaceholders(pat, func(n string) string { return slots[n] }))
		prev, dup := seen.patterns[key]
		switch {
		case !dup:
			seen.patterns[key] = patternSite{i, j}
		case prev.class == i:
			l.ps.add(file, pp, "pattern %q repeats $.classes[%d].patterns[%d] of the same class", pat, i, prev.pattern)
		default:
			l.ps.add(file, pp, "pattern %q of class %q is the same as $.classes[%d].patterns[%d] of class %q: classes %q and %q cannot be distinguished",
				pat, c.ID, prev.class, prev.pattern, t.Classes[prev.class].ID, t.Classes[prev.class].ID, c.ID)
		}
	}
}

// checkSlots checks a class's slots and returns their identities by name.
func (l *loader) checkSlots(file, p string, c *IntentClass) map[string]string {
	slots := map[string]string{}
	for k, s := range c.Slots {
		sp := jidx(jkey(p, "slots"), k)
		if !l.requireSnake(file, sp, "name", s.Name) {
			continue
		}
		if _, dup := slots[s.Name]; dup {
			l.ps.add(file, sp, "slot %q is declared twice in class %q", s.Name, c.ID)
			continue
		}
		slots[s.Name] = slotIdentity(s)
		switch {
		case s.Gen != "" && s.Values != nil:
			l.ps.add(file, sp, `slot %q has both "gen" and "values"; set exactly one`, s.Name)
		case s.Gen != "":
			if Generators[s.Gen] == "" {
				l.ps.add(file, jkey(sp, "gen"), `unknown generator %q (see schemas/generators.go)`, s.Gen)
			}
		case len(s.Values) == 0:
			l.ps.add(file, sp, `slot %q needs "gen" (a generator) or non-empty "values"`, s.Name)
		}
		for v, val := range s.Values {
			if strings.TrimSpace(val) == "" {
				l.ps.add(file, jidx(jkey(sp, "values"), v), "slot value must not be empty")
			}
		}
	}
	return slots
}
