package lexicon

import (
	"encoding/json"
	"math/rand/v2"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/schemas"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

// smallLists are generators whose domain has fewer than 20 values.
var smallLists = map[string]bool{"weekday": true}

func TestLexiconEveryGenerator(t *testing.T) {
	for _, gen := range schemas.GeneratorNames() {
		t.Run(gen, func(t *testing.T) {
			r := newRand(1)
			seen := map[string]bool{}
			for range 200 {
				v, err := Value(gen, r)
				if err != nil {
					t.Fatal(err)
				}
				checkPlain(t, gen, v)
				checkGeneratorFormat(t, gen, v)
				seen[v] = true
			}
			want := 20
			if smallLists[gen] {
				want = 7
			}
			if len(seen) < want {
				t.Errorf("%d distinct values in 200 draws, want >= %d", len(seen), want)
			}
		})
	}
}

// checkPlain rejects values a text cannot state verbatim.
func checkPlain(t *testing.T, name, v string) {
	t.Helper()
	if v == "" || strings.TrimSpace(v) != v || strings.Contains(v, "  ") {
		t.Errorf("%s: value %q is empty or has stray spaces", name, v)
	}
	for _, c := range v {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\'' || c == '{' || c == '}' {
			t.Errorf("%s: value %q has the character %q", name, v, c)
			return
		}
	}
}

// checkGeneratorFormat checks the generators that stand for a format.
func checkGeneratorFormat(t *testing.T, gen, v string) {
	t.Helper()
	format := map[string]string{"email": "email", "phone": "phone", "date": "date", "date_time": "date-time", "time": "time", "url": "uri"}[gen]
	if format != "" {
		if err := checkFormat(format, v); err != nil {
			t.Errorf("generator %s: %v", gen, err)
		}
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkFormat is an independent check of a format value; phone follows the
// catalog's rule (schemas/compile.go).
func checkFormat(format, v string) error {
	bad := func(why string) error { return &formatError{format, v, why} }
	switch format {
	case "date":
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return bad(err.Error())
		}
	case "date-time":
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return bad(err.Error())
		}
	case "time":
		if _, err := time.Parse("15:04", v); err != nil || len(v) != 5 {
			return bad("want HH:MM")
		}
	case "email":
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != v || strings.Count(v, "@") != 1 || !strings.Contains(v[strings.Index(v, "@"):], ".") {
			return bad("not a plain address")
		}
	case "phone":
		n := 0
		for i, c := range v {
			switch {
			case c >= '0' && c <= '9':
				n++
			case c == '+' && i == 0, strings.ContainsRune(" -().", c):
			default:
				return bad("bad character")
			}
		}
		if n < 7 || n > 15 {
			return bad("want 7-15 digits")
		}
	case "uri":
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return bad("not an absolute https URL")
		}
	case "uuid":
		if !uuidRE.MatchString(v) {
			return bad("not a v4 UUID")
		}
	}
	return nil
}

type formatError struct{ format, v, why string }

func (e *formatError) Error() string { return e.format + " " + e.v + ": " + e.why }

func TestLexiconFormats(t *testing.T) {
	for _, format := range []string{"email", "date", "date-time", "time", "phone", "uri", "uuid"} {
		t.Run(format, func(t *testing.T) {
			r := newRand(2)
			seen := map[string]bool{}
			for range 300 {
				v, err := FormatValue(format, r)
				if err != nil {
					t.Fatal(err)
				}
				if err := checkFormat(format, v); err != nil {
					t.Error(err)
				}
				seen[v] = true
			}
			if len(seen) < 50 {
				t.Errorf("%d distinct values in 300 draws", len(seen))
			}
		})
	}
	if _, err := FormatValue("ipv4", newRand(1)); err == nil || !strings.Contains(err.Error(), "ipv4") {
		t.Errorf("unknown format: got %v, want an error naming it", err)
	}
}

func TestLexiconUnknownGenerator(t *testing.T) {
	for _, name := range []string{"nope", "street_name", "greeting", ""} {
		if _, err := Value(name, newRand(1)); err == nil || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("Value(%q): got %v, want an error naming it", name, err)
		}
	}
}

func TestLexiconDeterminism(t *testing.T) {
	draw := func() []string {
		r := newRand(42)
		var out []string
		for _, gen := range schemas.GeneratorNames() {
			for range 5 {
				v, _ := Value(gen, r)
				out = append(out, v)
			}
		}
		for _, f := range []string{"email", "date", "date-time", "time", "phone", "uri", "uuid"} {
			v, _ := FormatValue(f, r)
			out = append(out, v)
		}
		v, _ := PatternValue(`^INV-[0-9]{6}$`, r)
		return append(out, v, Words(KindGreeting, r))
	}
	a, b := draw(), draw()
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatal("the same seed gave different values")
	}
	r1, r2 := newRand(42), newRand(43)
	same := 0
	for range 20 {
		v1, _ := Value("person_name", r1)
		v2, _ := Value("person_name", r2)
		if v1 == v2 {
			same++
		}
	}
	if same == 20 {
		t.Fatal("different seeds gave the same 20 names: the seed is ignored")
	}
}

// catalogPatterns returns every "pattern" in the embedded catalog.
func catalogPatterns(t *testing.T) []string {
	t.Helper()
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch n := v.(type) {
		case map[string]any:
			if p, ok := n["pattern"].(string); ok {
				out = append(out, p)
			}
			for _, c := range n {
				walk(c)
			}
		case []any:
			for _, c := range n {
				walk(c)
			}
		}
	}
	for _, s := range cat.Schemas {
		var doc any
		if err := json.Unmarshal(s.Schema, &doc); err != nil {
			t.Fatal(err)
		}
		walk(doc)
	}
	for _, f := range cat.Functions {
		var doc any
		if err := json.Unmarshal(f.Parameters, &doc); err != nil {
			t.Fatal(err)
		}
		walk(doc)
	}
	if len(out) == 0 {
		t.Fatal("the catalog has no patterns; the test would prove nothing")
	}
	return out
}

func TestLexiconPatterns(t *testing.T) {
	patterns := append(catalogPatterns(t),
		`^[A-Z]{2}-[0-9]{3,5}$`, `^(foo|bar)+baz?$`, `^\d{4}-\d{2}$`, `^[^a-z]{3}$`, `^x*y+$`, `^[a-f0-9]{8}$`, `^v[0-9]+\.[0-9]+$`)
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		r := newRand(3)
		seen := map[string]bool{}
		for range 100 {
			v, err := PatternValue(p, r)
			if err != nil {
				t.Fatal(err)
			}
			if !re.MatchString(v) {
				t.Errorf("PatternValue(%q) = %q does not match", p, v)
			}
			seen[v] = true
			m, err := PatternMismatch(p, r)
			if err != nil {
				t.Fatal(err)
			}
			if re.MatchString(m) {
				t.Errorf("PatternMismatch(%q) = %q matches", p, m)
			}
		}
		if len(seen) < 5 {
			t.Errorf("PatternValue(%q): only %d distinct values", p, len(seen))
		}
	}
	r := newRand(9)
	for range 50 {
		v, _ := PatternValue(`^[a-z][a-z0-9_]{2,20}\.(jpg|png)$`, r)
		if strings.ContainsAny(strings.TrimSuffix(strings.TrimSuffix(v, ".jpg"), ".png"), "0123456789") {
			t.Errorf("file name %q: want words, not random characters", v)
		}
	}
	if _, err := PatternValue(`^[0-9`, newRand(1)); err == nil {
		t.Error("a broken pattern gave no error")
	}
}

func TestLexiconNearMiss(t *testing.T) {
	cases := [][]string{
		{"daily", "weekly", "monthly"},
		{"sms", "whatsapp", "signal", "telegram"},
		{"on", "off"},
		{"USD", "EUR", "GBP"},
		{"zebra", "quokka"}, // no group: generic fallback
	}
	// The best-matching family only: "other" must not pull in loan purposes.
	lock := []string{"misplaced", "stolen", "suspicious_activity", "travel", "other"}
	r := newRand(10)
	for range 50 {
		if v, _ := NearMiss(lock, r); !slices.Contains([]string{"broken", "expired", "lost_in_mail"}, v) {
			t.Errorf("NearMiss(%v) = %q, not a card-lock reason", lock, v)
		}
	}
	for _, members := range cases {
		r := newRand(4)
		for range 50 {
			v, err := NearMiss(members, r)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range members {
				if enumKey(m) == enumKey(v) {
					t.Errorf("NearMiss(%v) = %q, a member", members, v)
				}
			}
		}
	}
}

func TestLexiconImpossibleDates(t *testing.T) {
	r := newRand(5)
	for range 200 {
		if d := ImpossibleDate(r); checkFormat("date", d) == nil {
			t.Errorf("ImpossibleDate() = %q parses", d)
		}
		if c := ImpossibleTime(r); checkFormat("time", c) == nil {
			t.Errorf("ImpossibleTime() = %q parses", c)
		}
		d := DateIn(r, 1945, 2007)
		if y := d[:4]; y < "1945" || y > "2007" || checkFormat("date", d) != nil {
			t.Errorf("DateIn(1945, 2007) = %q", d)
		}
	}
}

func TestLexiconWords(t *testing.T) {
	kinds := WordKinds()
	for _, k := range []string{KindGreeting, KindFiller, KindClosing, KindHedge, KindConnector} {
		if !strings.Contains(strings.Join(kinds, ","), k) {
			t.Errorf("WordKinds() = %v, missing %q", kinds, k)
		}
		if w := Words(k, newRand(6)); w == "" {
			t.Errorf("Words(%q) is empty", k)
		}
	}
	if w := Words("nope", newRand(6)); w != "" {
		t.Errorf("Words(unknown) = %q, want empty", w)
	}
}

func TestLexiconListSizes(t *testing.T) {
	d, err := loadData()
	if err != nil {
		t.Fatal(err)
	}
	for _, gen := range schemas.GeneratorNames() {
		_, proc := procedural[gen]
		vals, list := d.lists[gen]
		switch {
		case proc && list:
			t.Errorf("%s has both a list and a procedure; the list is dead", gen)
		case !proc && !list:
			t.Errorf("%s has neither a list nor a procedure", gen)
		case list && len(vals) < 40 && !smallLists[gen]:
			t.Logf("%s: %d values (aim for 40+)", gen, len(vals))
		}
		seen := map[string]bool{}
		for _, v := range vals {
			if seen[v] {
				t.Errorf("%s: duplicate value %q", gen, v)
			}
			seen[v] = true
			checkPlain(t, gen, v)
		}
	}
}
