package validate

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/internal/words"
)

// Grounding asks whether a gold value is recoverable from the text a model
// will read: label-first generation samples the value, the teacher writes the
// text, and a teacher that drops or changes a value would otherwise teach the
// student to hallucinate. Values are matched by the first normalizer that
// recognizes them, and the normalizer's name is recorded with the example:
//
//	exact       the value appears verbatim, on word boundaries
//	case        it appears ignoring case and diacritics
//	normalized  its words appear ignoring punctuation and spacing ("ORD-1234" ~ "ord 1234")
//	enum-words  a code's words appear, inflected or not ("express_shipping" ~ "express shipping")
//	number      the number appears in another notation (1200 ~ "1,200", "1.2k", "twelve hundred" is not read)
//	date        the date appears as "March 14, 2026", "14/03/2026", "Mar 14" (+ the year elsewhere) ...
//	time        the time appears as "7:30", "7:30 am", "19:30", "noon" ...
//	date-time   both its date and its time appear
//	phone       the same digit sequence appears, formatting and a country code aside
//	digits      a long digit string appears with any grouping ("1234 5678")
//	exempt      booleans and nulls: texts state them in too many ways to check
//	empty       the empty string
//
// Emails and URLs only match exact or case-insensitive: "a.b@c.com" must not
// match "a b c com".

// Leaf is one scalar of a JSON value and its JSON path.
type Leaf struct {
	// Path is a JSONPath such as "$.items[0].sku".
	Path string
	// Value is a string, float64, json.Number, bool or nil.
	Value any
}

// Leaves flattens a JSON value (as decoded by encoding/json, or any value that
// marshals to JSON) into its scalars, object keys in sorted order. Empty
// objects and arrays have no leaves.
func Leaves(v any) []Leaf {
	var out []Leaf
	walkLeaves("$", canonicalJSON(v), &out)
	return out
}

// canonicalJSON returns v as encoding/json's generic types, converting other
// Go values (structs, typed maps) by a JSON round trip.
func canonicalJSON(v any) any {
	switch v.(type) {
	case nil, string, bool, float64, json.Number, map[string]any, []any:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Sprint(v)
	}
	return out
}

// walkLeaves appends the leaves of v under path p.
func walkLeaves(p string, v any, out *[]Leaf) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walkLeaves(p+"."+k, canonicalJSON(x[k]), out)
		}
	case []any:
		for i, e := range x {
			walkLeaves(p+"["+strconv.Itoa(i)+"]", canonicalJSON(e), out)
		}
	default:
		*out = append(*out, Leaf{Path: p, Value: x})
	}
}

// Grounded reports whether value is recoverable from input, and the name of
// the normalizer that found it (see the list above). Objects and arrays are
// grounded when all their leaves are ("leaves").
func Grounded(input string, value any) (bool, string) {
	return newGroundText(input).ground(value)
}

// groundText is an input prepared for grounding many values: the readings
// of numbers, dates and times are computed once, on first use.
type groundText struct {
	raw, lower string
	toks       []string
	stems      []string
	nums       []float64
	dates      []civilDate
	years      map[int]bool
	times      []clockTime
	runs       []digitRun
	parsed     map[string]bool
}

// newGroundText prepares input for grounding.
func newGroundText(input string) *groundText {
	return &groundText{raw: input, lower: words.Fold(input), toks: words.Tokens(input), parsed: map[string]bool{}}
}

// once runs f the first time name is asked for.
func (g *groundText) once(name string, f func()) {
	if !g.parsed[name] {
		g.parsed[name] = true
		f()
	}
}

// ground checks one value of any JSON type.
func (g *groundText) ground(value any) (bool, string) {
	switch v := canonicalJSON(value).(type) {
	case nil, bool:
		return true, "exempt"
	case string:
		return g.groundString(v)
	case float64:
		return g.groundNumber(v, strconv.FormatFloat(v, 'f', -1, 64))
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return false, ""
		}
		return g.groundNumber(f, v.String())
	case map[string]any, []any:
		for _, l := range Leaves(v) {
			if ok, _ := g.ground(l.Value); !ok {
				return false, ""
			}
		}
		return true, "leaves"
	}
	return false, ""
}

var (
	emailRe      = regexp.MustCompile(`^[^\s@]+@[^\s@]+$`)
	urlRe        = regexp.MustCompile(`(?i)^([a-z][a-z0-9+.-]*://|www\.)\S+$`)
	numericRe    = regexp.MustCompile(`^-?(0|[1-9]\d*)(\.\d+)?$`)
	phoneShapeRe = regexp.MustCompile(`^\+?[\d\s().\-]+$`)
	codeRe       = regexp.MustCompile(`^[a-z][a-z0-9]*(?:[_\-][a-z0-9]+)*$`)
)

// groundString checks a string value: verbatim first, then by the shape of
// the value (date, time, phone, number, code), then word by word.
func (g *groundText) groundString(s string) (bool, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return true, "empty"
	}
	if numericRe.MatchString(s) {
		// Numbers skip the verbatim test: "1200" is in "1200.50" on word boundaries.
		f, _ := strconv.ParseFloat(s, 64)
		if ok, how := g.groundNumber(f, s); ok {
			return ok, how
		}
		if d := onlyDigits(s); len(d) >= 7 {
			return matched(g.groundDigits(d, false), "digits")
		}
		return false, ""
	}
	if containsOnBoundary(g.raw, s) {
		return true, "exact"
	}
	fs := words.Fold(s)
	if containsOnBoundary(g.lower, fs) {
		return true, "case"
	}
	switch {
	case emailRe.MatchString(s) || urlRe.MatchString(s):
		return false, ""
	case valueDateTimeRe.MatchString(fs):
		return g.groundDateTime(fs)
	case valueDateRe.MatchString(fs):
		return matched(g.groundDate(fs), "date")
	case valueTimeRe.MatchString(fs):
		return matched(g.groundTime(fs), "time")
	case phoneShapeRe.MatchString(s):
		if d := onlyDigits(s); len(d) >= 7 && len(d) <= 15 {
			name := "phone"
			if d == s {
				name = "digits"
			}
			return matched(g.groundDigits(d, true), name)
		}
	}
	if codeRe.MatchString(s) {
		if g.containsStems(strings.FieldsFunc(s, func(r rune) bool { return r == '_' || r == '-' })) || g.containsSqueezed(words.Tokens(s)) {
			return true, "enum-words"
		}
		return false, ""
	}
	if g.containsSqueezed(words.Tokens(s)) {
		return true, "normalized"
	}
	return false, ""
}

// matched returns ok and the normalizer's name, or no name when nothing matched.
func matched(ok bool, name string) (bool, string) {
	if !ok {
		return false, ""
	}
	return true, name
}

// containsSqueezed reports whether the value's words, with all separators
// removed, equal a run of consecutive text words with theirs removed: "ORD-1234",
// "ord 1234" and "ORD1234" all match one another.
func (g *groundText) containsSqueezed(ws []string) bool {
	want := strings.Join(ws, "")
	if want == "" {
		return false
	}
	for i := range g.toks {
		rest := want
		for j := i; j < len(g.toks) && strings.HasPrefix(rest, g.toks[j]); j++ {
			if rest = rest[len(g.toks[j]):]; rest == "" {
				return true
			}
		}
	}
	return false
}

// containsStems reports whether the stems of ws occur consecutively among
// the stems of the text's words.
func (g *groundText) containsStems(ws []string) bool {
	g.once("stems", func() {
		g.stems = make([]string, len(g.toks))
		for i, t := range g.toks {
			g.stems[i] = stemWord(t)
		}
	})
	if len(ws) == 0 {
		return false
	}
	want := make([]string, len(ws))
	for i, w := range ws {
		want[i] = stemWord(words.Fold(w))
	}
outer:
	for i := 0; i+len(want) <= len(g.stems); i++ {
		for j, w := range want {
			if g.stems[i+j] != w {
				continue outer
			}
		}
		return true
	}
	return false
}

// groundNumber checks a number against every number the text states; text is
// the value as written in JSON, and the normalizer is "exact" when the text
// uses that very form.
func (g *groundText) groundNumber(v float64, text string) (bool, string) {
	g.once("nums", func() { g.nums = textNumbers(g.lower, g.toks) })
	for _, n := range g.nums {
		if sameNumber(n, v) {
			if numberLiteralIn(g.lower, text) {
				return true, "exact"
			}
			return true, "number"
		}
	}
	return false, ""
}

// groundDate checks an ISO date "YYYY-MM-DD" against every date the text
// states. A date without a year matches when the text names the year elsewhere.
func (g *groundText) groundDate(iso string) bool {
	m := valueDateRe.FindStringSubmatch(iso)
	if m == nil {
		return false
	}
	want := civilDate{atoi(m[1]), atoi(m[2]), atoi(m[3])}
	g.once("dates", func() {
		g.dates = textDates(g.lower)
		g.years = textYears(g.lower)
	})
	for _, d := range g.dates {
		if d.Month != want.Month || d.Day != want.Day {
			continue
		}
		if d.Year == want.Year || (d.Year == 0 && g.years[want.Year]) {
			return true
		}
	}
	return false
}

// groundTime checks a time "HH:MM[:SS][offset]" against every time the text
// states. The offset is not checked: texts rarely say one.
func (g *groundText) groundTime(hhmm string) bool {
	m := valueTimeRe.FindStringSubmatch(hhmm)
	if m == nil {
		return false
	}
	h, mi, s := atoi(m[1]), atoi(m[2]), atoi(m[3])
	g.once("times", func() { g.times = textTimes(g.lower) })
	for _, t := range g.times {
		if t.matches(h, mi, s) {
			return true
		}
	}
	return false
}

// groundDateTime checks an RFC 3339 date-time: the text must state both its
// date and its time of day.
func (g *groundText) groundDateTime(dt string) (bool, string) {
	m := valueDateTimeRe.FindStringSubmatch(dt)
	if m == nil {
		return false, ""
	}
	return matched(g.groundDate(m[1]) && g.groundTime(m[2]), "date-time")
}

// groundDigits checks a digit sequence against runs of digits in the text
// joined across phone separators. With phone set, a country code may be added
// or dropped (see samePhone); otherwise the digits must be equal.
func (g *groundText) groundDigits(want string, phone bool) bool {
	g.once("runs", func() { g.runs = textDigitRuns(g.raw) })
	for i := range g.runs {
		got := ""
		for j := i; j < len(g.runs) && len(got) <= len(want)+3; j++ {
			if j > i && !g.runs[j].joined {
				break
			}
			got += g.runs[j].digits
			if got == want || (phone && samePhone(got, want)) {
				return true
			}
		}
	}
	return false
}

// groundLeaves grounds leaves in one text, recording each normalizer under
// the leaf's path; where names the text in the rejection ("input", "turn 2").
// Booleans and nulls are exempt and not recorded.
func groundLeaves(g *groundText, leaves []Leaf, where string, val *generator.Validation) *generator.Rejection {
	for _, l := range leaves {
		switch l.Value.(type) {
		case nil, bool:
			continue
		}
		ok, how := g.ground(l.Value)
		if !ok {
			return rejectf(generator.RejectGrounding, "%s %s not found in %s", l.Path, leafString(l.Value), where)
		}
		if val.Grounded == nil {
			val.Grounded = map[string]string{}
		}
		val.Grounded[l.Path] = how
	}
	return nil
}

// leafString formats a leaf value for a rejection: JSON, cut to 100 bytes.
func leafString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 100 {
		return string(b[:100]) + "..."
	}
	return string(b)
}

// prefixLeaves returns the leaves of v with paths under prefix.
func prefixLeaves(prefix string, v any) []Leaf {
	ls := Leaves(v)
	for i := range ls {
		ls[i].Path = prefix + strings.TrimPrefix(ls[i].Path, "$")
	}
	return ls
}
