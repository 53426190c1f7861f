package schemas

import (
	"fmt"
	"sort"
	"strings"
)

// Placeholders returns the names referenced as {name} in a pattern, in order.
// It fails when braces do not pair up, because a stray brace would otherwise
// end up verbatim in generated utterances.
func Placeholders(pattern string) ([]string, error) {
	var names []string
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '{':
			j := strings.IndexAny(pattern[i+1:], "{}")
			if j < 0 || pattern[i+1+j] != '}' {
				return nil, fmt.Errorf("pattern %q has \"{\" without a matching \"}\"", pattern)
			}
			names = append(names, pattern[i+1:i+1+j])
			i += 1 + j
		case '}':
			return nil, fmt.Errorf("pattern %q has \"}\" without a matching \"{\"", pattern)
		}
	}
	return names, nil
}

// replacePlaceholders rewrites every {name} of a (well-formed) pattern with f(name).
func replacePlaceholders(pattern string, f func(name string) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			b.WriteString(pattern)
			return b.String()
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			b.WriteString(pattern)
			return b.String()
		}
		b.WriteString(pattern[:i])
		b.WriteString(f(pattern[i+1 : i+j]))
		pattern = pattern[i+j+1:]
	}
}

// slotIdentity is what a slot contributes to a normalized pattern: two slots
// with the same generator (or the same value list) produce the same utterances,
// so {city} and {town} over the generator "city" are the same pattern.
func slotIdentity(s Slot) string {
	if s.Gen != "" {
		return "{gen:" + s.Gen + "}"
	}
	vals := make([]string, len(s.Values))
	for i, v := range s.Values {
		vals[i] = normalize(v)
	}
	sort.Strings(vals)
	return "{values:" + strings.Join(vals, "|") + "}"
}

// checkPattern reports an empty or malformed pattern and placeholders that
// known does not accept (known returns "" when it accepts a name, else the
// problem). It returns whether the pattern is usable.
func (l *loader) checkPattern(file, p, pattern string, known func(name string) string) bool {
	if strings.TrimSpace(pattern) == "" {
		l.ps.add(file, p, "pattern must not be empty")
		return false
	}
	names, err := Placeholders(pattern)
	if err != nil {
		l.ps.add(file, p, "%v", err)
		return false
	}
	ok := true
	for _, n := range names {
		if msg := known(n); msg != "" {
			l.ps.add(file, p, "%s", msg)
			ok = false
		}
	}
	return ok
}
