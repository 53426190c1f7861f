package builtin

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/internal/testutil"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/lexicon"
	"github.com/cyclecore/mlmforge/schemas"
)

// hoList is one list of a task's inventory.
type hoList struct {
	ns, name string
	items    []string
}

// hoCategory groups a list for the inventory table.
func hoCategory(l hoList) string {
	switch {
	case l.ns == lexicon.NSValue:
		return "value lists"
	case strings.HasPrefix(l.name, "pattern:"):
		return "request patterns"
	case l.name == "irrelevant-request":
		return "irrelevant requests"
	case l.name == "field-sentence" || strings.HasPrefix(l.name, "style:") || strings.HasPrefix(l.name, "opener:") ||
		strings.HasPrefix(l.name, "closer:") || strings.HasPrefix(l.name, "distractor:"):
		return "document frames"
	}
	return "phrases"
}

// hoTemplateLists lists every phrasing template list a task variant's
// builtin teacher draws from.
func hoTemplateLists(t *testing.T, cat *schemas.Catalog, plan *generator.Plan) map[string]hoList {
	t.Helper()
	d, err := btLoadData()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]hoList{}
	add := func(name string, items []string) {
		if len(items) > 0 {
			out[name] = hoList{ns: lexicon.NSTemplate, name: name, items: items}
		}
	}
	b := New(cat)
	if plan.Spec.Task == schemas.EdgeJSON {
		add("field-sentence", btSentences)
		for _, c := range plan.Cells {
			f, id := d.docs.frame(c.Cell.SchemaID), c.Cell.SchemaID
			add("style:"+id, f.Styles)
			add("opener:"+id, f.Openers)
			add("closer:"+id, f.Closers)
			add("distractor:"+id, f.Distractors)
		}
		return out
	}
	for k, alts := range d.phrases.Synonyms {
		add("synonym:"+k, alts)
	}
	for kind, l := range d.phrases.Prefixes {
		add("prefix:"+kind, l)
	}
	for kind, l := range d.phrases.Suffixes {
		add("suffix:"+kind, l)
	}
	add("filler", d.phrases.Fillers)
	for _, c := range plan.Cells {
		switch {
		case plan.Spec.Task == schemas.EdgeIntent:
			bc := b.intents[c.Cell.Taxonomy][c.Cell.Class]
			add(bc.list, btSources(bc.patterns))
		case c.Cell.Function != "":
			bf := b.funcs[c.Cell.Function]
			add(bf.list, btSources(bf.patterns))
		}
	}
	if plan.Spec.Task == schemas.EdgeIntent {
		for k, l := range d.slots.SlotPhrases {
			add("slot-phrase:"+k, l)
		}
		add("slot-phrase:generic", d.slots.SlotGeneric)
		return out
	}
	for k, l := range d.slots.ArgPhrases {
		add("arg-phrase:"+k, l)
	}
	for name, l := range map[string][]string{"arg-unit": d.slots.ArgUnit, "arg-generic": d.slots.ArgGeneric,
		"bool-true": d.slots.BoolTrue, "bool-false": d.slots.BoolFalse, "ref-phrase": d.slots.RefPhrases,
		"ref-append": d.slots.RefAppend, "irrelevant-request": cat.Irrelevant} {
		add(name, l)
	}
	return out
}

// hoTrace samples and writes a few attempts of every cell of a held-out plan
// on both sides and returns every draw.
func hoTrace(t *testing.T, cat *schemas.Catalog, plan *generator.Plan, attempts int) []lexicon.Draw {
	t.Helper()
	b := New(cat)
	var draws []lexicon.Draw
	trace := func(d lexicon.Draw) { draws = append(draws, d) }
	for _, c := range plan.Cells {
		for a := range attempts {
			seed := generator.AttemptSeed(plan.Spec, c.Cell.Key, fmt.Sprint(c.Cell.HeldOut), a)
			s, err := generator.SampleTargetTrace(cat, c.Cell, rand.New(rand.NewPCG(uint64(seed), uint64(a))), trace)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.write(context.Background(), generator.Request{Mode: generator.LabelFirst, Sample: s, Seed: seed}, trace); err != nil {
				t.Fatal(err)
			}
		}
	}
	return draws
}

// TestHoldoutInventory measures, per task variant, how many phrasing
// templates and values there are and how many a share of 0.25 reserves for
// the test split, and logs the table of docs/holdout.md. Template lists are
// listed from the phrase data and the catalog; value lists are the ones the
// sampler drew from in 4 attempts per cell and side. It checks that every
// template list drawn from is in the inventory, that every list of two or
// more items leaves items on both sides, and that no draw fell back to a
// whole list of more than one item.
func TestHoldoutInventory(t *testing.T) {
	cat := testutil.Catalog(t)
	var table strings.Builder
	table.WriteString("| task | kind | lists | items | reserved | reserved % | lists of one item |\n|---|---|---|---|---|---|---|\n")
	for _, tc := range []struct {
		name string
		spec generator.Spec
	}{
		{"edgejson (all levels)", generator.Spec{Task: schemas.EdgeJSON}},
		{"edgeintent assistant-50", generator.Spec{Task: schemas.EdgeIntent, Variant: "50"}},
		{"edgeintent assistant-100", generator.Spec{Task: schemas.EdgeIntent, Variant: "100"}},
		{"edgeintent assistant-200", generator.Spec{Task: schemas.EdgeIntent, Variant: "200"}},
		{"edgefunccall (all functions)", generator.Spec{Task: schemas.EdgeFuncCall}},
	} {
		spec := tc.spec
		spec.Seed, spec.Counts, spec.HoldoutTemplates = 1, map[string]int{"train": 1, generator.HoldoutSplit: 1}, hoShare
		plan, err := generator.NewPlan(cat, spec)
		if err != nil {
			t.Fatal(err)
		}
		lists := hoTemplateLists(t, cat, plan)
		fallbacks := 0
		for _, d := range hoTrace(t, cat, plan, 4) {
			if d.Fallback && len(hoDistinct(d.Items)) > 1 {
				t.Errorf("%s: a draw from %s fell back to the whole list of %d items", tc.name, d.List, len(d.Items))
			}
			if d.Fallback {
				fallbacks++
			}
			if _, ok := lists[d.List]; !ok && d.NS == lexicon.NSTemplate {
				t.Errorf("%s: template list %s is drawn from but missing from the inventory", tc.name, d.List)
			}
			if d.NS == lexicon.NSValue {
				// near_miss draws from each enum's own candidates: key by content.
				lists["value:"+d.List+"\x00"+strings.Join(d.Items, "\x00")] = hoList{ns: d.NS, name: d.List, items: d.Items}
			}
		}
		hoInventoryRows(t, &table, tc.name, lists)
		fmt.Fprintf(&table, "| %s | draws that fell back to a whole list | | | %d | | |\n", tc.name, fallbacks)
	}
	t.Logf("held-out inventory at share %g:\n%s", hoShare, table.String())
}

// hoInventoryRows appends one row per category of a task's lists.
func hoInventoryRows(t *testing.T, table *strings.Builder, task string, lists map[string]hoList) {
	t.Helper()
	type row struct{ lists, items, reserved, single int }
	rows := map[string]*row{}
	for _, l := range lists {
		cat := hoCategory(l)
		if rows[cat] == nil {
			rows[cat] = &row{}
		}
		r := rows[cat]
		r.lists++
		seen := map[string]bool{}
		open := 0
		for i, res := range lexicon.Reserved(hoShare, l.ns, l.items) {
			if seen[l.items[i]] {
				continue
			}
			seen[l.items[i]] = true
			r.items++
			if res {
				r.reserved++
			} else {
				open++
			}
		}
		switch {
		case len(seen) == 1:
			r.single++
		case open == 0 || open == len(seen):
			t.Errorf("%s: list %s of %d items has no item on one side", task, l.name, len(seen))
		}
	}
	for _, cat := range slices.Sorted(maps.Keys(rows)) {
		r := rows[cat]
		fmt.Fprintf(table, "| %s | %s | %d | %d | %d | %.1f | %d |\n", task, cat, r.lists, r.items, r.reserved,
			100*float64(r.reserved)/float64(r.items), r.single)
	}
}
