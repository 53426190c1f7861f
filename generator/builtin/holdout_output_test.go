package builtin

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/lexicon"
	"github.com/cyclecore/mlmforge/schemas"
)

// hoCheckOutput checks a record of a held-out run from its text and target
// alone, without the trace (so a draw that bypassed the trace is caught
// too): every value it states from a lexicon list, a slot's value list or a
// person's name, and every document opener and closer line, must be reserved
// on the test split and open on any other.
func hoCheckOutput(t *testing.T, cat *schemas.Catalog, rec datasets.Record) {
	t.Helper()
	check := func(what string, list []string, item string) {
		t.Helper()
		at := slices.Index(list, item)
		if at < 0 {
			t.Errorf("record %s: %s %q is not in the list it was drawn from", rec.ID, what, item)
			return
		}
		if got := lexicon.Reserved(hoShare, lexicon.NSValue, list)[at]; got != (rec.Split == generator.HoldoutSplit) {
			t.Errorf("record %s (%s split): %s %q reserved=%v", rec.ID, rec.Split, what, item, got)
		}
	}
	switch schemas.Task(rec.Task) {
	case schemas.EdgeIntent:
		hoIntentValues(t, cat, rec, check)
	case schemas.EdgeJSON, schemas.EdgeFuncCall:
		err := generator.ListLeaves(cat, schemas.Task(rec.Task), rec.Cell, json.RawMessage(rec.Target), func(gen, v string) {
			hoGenValue(gen, v, check)
		})
		if err != nil {
			t.Fatal(err)
		}
		if schemas.Task(rec.Task) == schemas.EdgeJSON {
			hoFrameLines(t, cat, rec)
		}
	}
}

// hoIntentValues checks the slot values of an EdgeIntent record.
func hoIntentValues(t *testing.T, cat *schemas.Catalog, rec datasets.Record, check func(what string, list []string, item string)) {
	t.Helper()
	var tg generator.IntentTarget
	if err := json.Unmarshal([]byte(rec.Target), &tg); err != nil {
		t.Fatal(err)
	}
	tax, err := cat.Taxonomy(rec.Variant)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tax.Classes {
		if c.ID != tg.Intent {
			continue
		}
		for _, s := range c.Slots {
			if v, ok := tg.Slots[s.Name]; ok && len(s.Values) > 0 {
				check("slot "+s.Name+" value", s.Values, v)
			} else if ok {
				hoGenValue(s.Gen, v, check)
			}
		}
	}
}

// hoGenValue checks a value of a value generator that draws from lists: the
// list of the same name, or the first and last names of a person's name.
// Values built otherwise (codes, dates, e-mail addresses) are not checked.
func hoGenValue(gen, v string, check func(what string, list []string, item string)) {
	if list, ok := lexicon.List(gen); ok {
		check(gen+" value", list, v)
		return
	}
	if gen != "person_name" && gen != "employee_name" {
		return
	}
	first, _ := lexicon.List("first_name")
	last, _ := lexicon.List("last_name")
	f, l, _ := strings.Cut(v, " ")
	check("first name", first, f)
	check("last name", last, l)
}

// hoFrameLines checks the opener and closer lines of an EdgeJSON record's
// document: the test split's documents open and close only with reserved
// lines, the others' only with open ones.
func hoFrameLines(t *testing.T, cat *schemas.Catalog, rec datasets.Record) {
	t.Helper()
	d, err := btLoadData()
	if err != nil {
		t.Fatal(err)
	}
	sch, err := cat.Schema(rec.Cell)
	if err != nil {
		t.Fatal(err)
	}
	frame := d.docs.frame(rec.Cell)
	lines := map[string]bool{}
	for _, l := range strings.Split(rec.Input, "\n") {
		lines[l] = true
	}
	title := strings.NewReplacer("{title}", sch.Title, "{title_lower}", strings.ToLower(sch.Title))
	for _, list := range [][]string{frame.Openers, frame.Closers} {
		reserved := lexicon.Reserved(hoShare, lexicon.NSTemplate, list)
		for i, it := range list {
			text := title.Replace(it)
			if text == "" || strings.Contains(text, "\n") || !lines[text] {
				continue
			}
			if reserved[i] != (rec.Split == generator.HoldoutSplit) {
				t.Errorf("record %s (%s split): frame line %q reserved=%v", rec.ID, rec.Split, text, reserved[i])
			}
		}
	}
}
