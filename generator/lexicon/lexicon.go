// Package lexicon samples realistic values for the catalog's value generators
// (schemas.Generators), JSON Schema string formats and simple regex patterns.
// Values are invented or generic (no real personal data), ASCII, and chosen so
// that a text can state them verbatim: the grounding validator later looks for
// every target value in the generated text.
//
// Every function draws only from the *rand.Rand it is given, so a caller that
// seeds it gets the same values on every run; the package never touches the
// global source. Word lists live in data/*.json (embedded); codes, numbers and
// addresses are built procedurally in procedural.go.
package lexicon

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path"
	"sort"
	"sync"

	"github.com/cyclecore/mlmforge/schemas"
)

// Version names the lexicon's values; bump it whenever a list or a procedural
// generator changes, because it is recorded in provenance and a different
// version means different examples for the same seed.
const Version = "v1"

// dataFS holds the word lists: each file maps list names to values.
//
//go:embed data/*.json
var dataFS embed.FS

// Special data files that are not generator lists.
const (
	wordsFile      = "data/words.json"
	enumGroupsFile = "data/enum_groups.json"
)

// data is the parsed content of dataFS.
type data struct {
	// lists maps a generator name or an internal list (street_name ...) to values.
	lists map[string][]string
	// words maps a Words kind to values.
	words map[string][]string
	// enumGroups are sets of related enum-like values (NearMiss).
	enumGroups [][]string
	// whole holds the uncut lists of a side's view (see Source): lists
	// then holds the side's part of each; nil in the loaded data.
	whole map[string][]string
	// fallback marks the lists a side's view keeps whole, because the side
	// has none of their items.
	fallback map[string]bool
	// trace, if set, sees every item drawn from lists (Source.Trace).
	trace func(Draw)
}

// loadData parses the embedded files once; a broken file is a build defect,
// reported by every call rather than a panic at init.
var loadData = sync.OnceValues(func() (*data, error) {
	d := &data{lists: map[string][]string{}, words: map[string][]string{}}
	files, err := fs.Glob(dataFS, "data/*.json")
	if err != nil {
		return nil, fmt.Errorf("list lexicon data: %w", err)
	}
	sort.Strings(files)
	for _, f := range files {
		raw, err := dataFS.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read lexicon %s: %w", f, err)
		}
		if f == enumGroupsFile {
			if err := json.Unmarshal(raw, &d.enumGroups); err != nil {
				return nil, fmt.Errorf("parse lexicon %s: %w", f, err)
			}
			continue
		}
		var m map[string][]string
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("parse lexicon %s: %w", f, err)
		}
		dst := d.lists
		if f == wordsFile {
			dst = d.words
		}
		for name, vals := range m {
			if _, dup := dst[name]; dup {
				return nil, fmt.Errorf("lexicon %s: list %q is defined twice", path.Base(f), name)
			}
			if len(vals) == 0 {
				return nil, fmt.Errorf("lexicon %s: list %q is empty", path.Base(f), name)
			}
			dst[name] = vals
		}
	}
	return d, nil
})

// Value returns a value of the generator gen, one of schemas.Generators.
func Value(gen string, r *rand.Rand) (string, error) { return Source{}.Value(gen, r) }

// Value returns a value of the generator gen, one of schemas.Generators,
// built from the side's part of the lists.
func (s Source) Value(gen string, r *rand.Rand) (string, error) {
	if _, ok := schemas.Generators[gen]; !ok {
		return "", fmt.Errorf("unknown generator %q (see schemas/generators.go)", gen)
	}
	d, err := s.data()
	if err != nil {
		return "", err
	}
	if f, ok := procedural[gen]; ok {
		return f(d, r), nil
	}
	if _, ok := d.lists[gen]; ok {
		return d.pick(r, gen), nil
	}
	return "", fmt.Errorf("generator %q has no lexicon list or procedure (lexicon %s)", gen, Version)
}

// FormatValue returns a value of a JSON Schema string format the catalog uses:
// email, date (YYYY-MM-DD), date-time (RFC 3339 in UTC, 2026-03-14T09:30:00Z),
// time (HH:MM), phone, uri or uuid.
func FormatValue(format string, r *rand.Rand) (string, error) { return Source{}.FormatValue(format, r) }

// FormatValue returns a value of a string format (see FormatValue), built
// from the side's part of the lists.
func (s Source) FormatValue(format string, r *rand.Rand) (string, error) {
	d, err := s.data()
	if err != nil {
		return "", err
	}
	switch format {
	case "email":
		return email(d, r), nil
	case "date":
		return date(d, r), nil
	case "date-time":
		return dateTime(d, r), nil
	case "time":
		return clock(d, r), nil
	case "phone":
		return phone(d, r), nil
	case "uri":
		return webURL(d, r), nil
	case "uuid":
		return uuid(r), nil
	}
	return "", fmt.Errorf("unknown string format %q (want email, date, date-time, time, phone, uri or uuid)", format)
}

// Word kinds for Words: short conversational pieces a template-based teacher
// can wrap around a request, so that inputs do not all look alike.
const (
	KindGreeting  = "greeting"  // "hi", "good morning"
	KindFiller    = "filler"    // "please", "when you get a chance"
	KindClosing   = "closing"   // "thanks", "much appreciated"
	KindHedge     = "hedge"     // "I think", "probably"
	KindConnector = "connector" // "and then", "after that" (between dialogue turns)
)

// Words returns a random entry of the word list kind (one of the Kind
// constants), or "" for an unknown kind.
func Words(kind string, r *rand.Rand) string {
	d, err := loadData()
	if err != nil {
		return ""
	}
	vals, ok := d.words[kind]
	if !ok {
		return ""
	}
	return pick(r, vals)
}

// WordKinds lists the kinds Words knows, sorted.
func WordKinds() []string {
	d, err := loadData()
	if err != nil {
		return nil
	}
	kinds := make([]string, 0, len(d.words))
	for k := range d.words {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// pick returns a uniformly chosen element of vals (non-empty by loadData).
func pick(r *rand.Rand, vals []string) string { return vals[r.IntN(len(vals))] }

// pick returns a uniformly chosen element of the named list and shows it to
// the trace.
func (d *data) pick(r *rand.Rand, list string) string {
	v := pick(r, d.lists[list])
	d.note(list, v)
	return v
}

// note shows an item drawn from the named list to the trace, if any.
func (d *data) note(list, item string) {
	if d.trace == nil {
		return
	}
	whole := d.lists[list]
	if d.whole != nil {
		whole = d.whole[list]
	}
	d.trace(Draw{NS: NSValue, List: list, Items: whole, Item: item, Fallback: d.fallback[list]})
}
