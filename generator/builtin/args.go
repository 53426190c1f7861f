package builtin

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
)

// btSlotData is slots.json: phrases that mention one value.
type btSlotData struct {
	// SlotPhrases append an intent slot the pattern does not name, by
	// generator or slot name; SlotGeneric serve the others. {v} is the value,
	// {n} the humanized name.
	SlotPhrases map[string][]string `json:"slot_phrases"`
	SlotGeneric []string            `json:"slot_generic"`
	// ArgPhrases state a function argument the pattern does not name, by
	// parameter name; ArgGeneric serve every parameter.
	ArgPhrases map[string][]string `json:"arg_phrases"`
	ArgGeneric []string            `json:"arg_generic"`
	// ArgUnit serve numbers whose name ends in a unit ("transition_seconds"):
	// {b} is the base ("transition"), {u} the unit, {s} its singular.
	ArgUnit []string `json:"arg_unit"`
	// BoolTrue and BoolFalse state a boolean argument.
	BoolTrue  []string `json:"bool_true"`
	BoolFalse []string `json:"bool_false"`
	// RefPhrases replace a placeholder that refers to an earlier turn's record
	// ({noun} is the record kind); RefAppend add such a reference at the end.
	RefPhrases []string `json:"ref_phrases"`
	RefAppend  []string `json:"ref_append"`
}

// btConnectors start phrases that may follow a request without a comma.
var btConnectors = btSet([]string{"with", "and", "in", "on", "at", "for", "by", "using", "starting", "until", "from",
	"to", "via", "saying", "tagged", "titled", "called", "named", "labelled", "under", "rated", "leaving", "departing",
	"returning", "checking", "through", "ending", "avoiding", "every", "after", "before", "no", "only", "without",
	"marked", "copying", "matching", "about", "because", "that", "described", "adding", "scheduled"})

// btConnects reports whether a phrase starts with a connecting word.
func btConnects(s string) bool {
	w, _ := btFirstWord(s)
	return btConnectors[w]
}

// argPhrase states one argument value in a short phrase.
func (tw *btTurn) argPhrase(path string, node *btNode, v any) []btSeg {
	r, sd := tw.r, tw.d.slots
	name := path[strings.LastIndexByte(path, '.')+1:]
	top := !strings.Contains(path, ".")
	label := btHumanize(path)
	if b, ok := v.(bool); ok {
		return []btSeg{{text: tw.boolPhrase(label, node, b)}}
	}
	val := tw.valueSegs(path, v)
	if list := sd.ArgPhrases[name]; top && len(tw.d.part(list)) > 0 && btChance(r, 0.65) {
		return btTemplate(tw.d.template(r, "arg-phrase:"+name, list), label, val)
	}
	if _, isList := v.([]any); !isList && path != tw.plan.Invalid {
		if base, unit, one, ok := btUnitName(name); ok && btChance(r, 0.6) {
			t := tw.d.template(r, "arg-unit", sd.ArgUnit)
			if strings.Contains(t, "a {b}") && strings.ContainsRune("aeiou", rune(base[0])) {
				t = strings.Replace(t, "a {b}", "an {b}", 1)
			}
			t = strings.NewReplacer("{b}", base, "{u}", unit, "{s}", one).Replace(t)
			return btTemplate(t, label, val)
		}
	}
	if d := btDescLabel(node); d != "" && btChance(r, 0.12) {
		return btTemplate(d+": {v}", label, val)
	}
	return btTemplate(tw.d.template(r, "arg-generic", sd.ArgGeneric), label, val)
}

// btDescLabel is a node's description as a lower-case label ("" if none).
func btDescLabel(n *btNode) string {
	if n == nil {
		return ""
	}
	d := strings.TrimRight(n.Desc, ". ")
	if d == "" {
		return ""
	}
	return strings.ToLower(d[:1]) + d[1:]
}

// boolPhrase states a boolean argument, from its description when that
// reads well ("Only unread emails" -> "only unread emails").
func (tw *btTurn) boolPhrase(label string, node *btNode, b bool) string {
	r, sd := tw.r, tw.d.slots
	desc := ""
	if node != nil {
		desc = strings.TrimRight(node.Desc, ". ")
	}
	if btChance(r, 0.5) {
		switch rest, ok := strings.CutPrefix(desc, "Whether to "); {
		case ok && b:
			return "and " + rest
		case ok:
			return "and don't " + rest
		}
		if rest, ok := strings.CutPrefix(desc, "Whether "); ok && b {
			return "and make sure " + rest
		}
		if rest, ok := strings.CutPrefix(desc, "Only "); ok && b {
			return "only " + rest
		}
	}
	name, list := "bool-false", sd.BoolFalse
	if b {
		name, list = "bool-true", sd.BoolTrue
	}
	return strings.ReplaceAll(tw.d.template(r, name, list), "{n}", label)
}

// valueSegs renders an argument value verbatim as fixed segments: lists
// joined with "and", objects in a list as "label value" groups.
func (tw *btTurn) valueSegs(path string, v any) []btSeg {
	switch x := v.(type) {
	case []any:
		items := make([][]btSeg, len(x))
		for i, it := range x {
			if obj, ok := it.(map[string]any); ok {
				items[i] = tw.itemSegs(obj)
			} else {
				items[i] = []btSeg{{text: btText(it), fixed: true}}
			}
		}
		return btJoinSegs(tw.r, items)
	case map[string]any:
		return tw.itemSegs(x)
	case bool:
		return []btSeg{{text: map[bool]string{true: "yes", false: "no"}[x]}}
	}
	return []btSeg{{text: tw.leafText(path, v), fixed: true}}
}

// leafText writes a stated leaf: verbatim, or in a spelling the grounding
// validator reads as the same value (a spelled-out date, "7:30", an enum code
// with spaces). The invalid value of invalid_value stays verbatim: a
// respelling could repair it ("2026-02-30" has no spelled form).
func (tw *btTurn) leafText(path string, v any) string {
	s, ok := v.(string)
	node := tw.f.params.lookup(path)
	if !ok || node == nil || path == tw.plan.Invalid {
		return btText(v)
	}
	if text, ok := btFormatText(tw.r, node.Format, s); ok {
		return text
	}
	if node.isEnum() && btChance(tw.r, 0.5) {
		return strings.ReplaceAll(s, "_", " ")
	}
	return s
}

// itemSegs renders an object in a list: "email ann@x.org, name Ann Lee".
func (tw *btTurn) itemSegs(obj map[string]any) []btSeg {
	var out []btSeg
	for i, k := range slices.Sorted(maps.Keys(obj)) {
		if i > 0 {
			out = append(out, btSeg{text: ", "})
		}
		out = append(out, btSeg{text: btHumanize(k) + " "})
		out = append(out, tw.valueSegs(k, obj[k])...)
	}
	return append([]btSeg{{text: "("}}, append(out, btSeg{text: ")"})...)
}

// btJoinSegs joins list items: "a", "a and b", "a, b and c".
func btJoinSegs(r *rand.Rand, items [][]btSeg) []btSeg {
	var out []btSeg
	for i, it := range items {
		switch {
		case i == 0:
		case i == len(items)-1:
			out = append(out, btSeg{text: btPick(r, []string{" and ", " & ", ", and "})})
		default:
			out = append(out, btSeg{text: ", "})
		}
		out = append(out, it...)
	}
	return out
}

// btUnitSuffixes map a parameter name suffix to its unit, plural and singular.
var btUnitSuffixes = [][3]string{
	{"_seconds", "seconds", "second"}, {"_minutes", "minutes", "minute"}, {"_hours", "hours", "hour"},
	{"_days", "days", "day"}, {"_km", "km", "km"}, {"_kb", "KB", "KB"}, {"_mg", "mg", "mg"},
	{"_percent", "percent", "percent"},
}

// btUnitName splits a parameter name that ends in a unit: "transition_seconds"
// -> "transition", "seconds", "second".
func btUnitName(name string) (base, unit, one string, ok bool) {
	for _, u := range btUnitSuffixes {
		if b, found := strings.CutSuffix(name, u[0]); found && b != "" {
			return btHumanize(b), u[1], u[2], true
		}
	}
	return "", "", "", false
}

// btRefNoun names the record a reference parameter points to: "event_id" -> "event".
func btRefNoun(param string) string {
	if param == "sku" {
		return "item"
	}
	return btHumanize(strings.TrimSuffix(param, "_id"))
}
