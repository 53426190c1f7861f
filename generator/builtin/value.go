package builtin

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// btNormalize turns a value into the generic JSON form (map[string]any,
// []any, string, bool, json.Number, nil), so that numbers print exactly as
// they do in the JSON target, whatever Go type the sampler used.
func btNormalize(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, json.Number:
		return v, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := btNormalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := btNormalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return btDecode(raw)
}

// btDecode decodes JSON with numbers kept as json.Number.
func btDecode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// btText is a leaf value's verbatim text: strings as they are, numbers as in JSON.
func btText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	case nil:
		return "none"
	}
	raw, _ := json.Marshal(v)
	return string(raw)
}

// btFormatText spells a date, date-time or time value in one of the forms the
// grounding validator accepts; ok is false for any other format.
func btFormatText(r *rand.Rand, format, s string) (text string, ok bool) {
	switch format {
	case "date":
		return btDateText(r, s), true
	case "date-time":
		return btDateTimeText(r, s), true
	case "time":
		return btTimeText(r, s), true
	}
	return "", false
}

// btDateText writes a YYYY-MM-DD date as given or spelled out ("March 14, 2026",
// "14 March 2026"), the spellings the grounding validator accepts.
func btDateText(r *rand.Rand, s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	switch r.IntN(4) {
	case 0:
		return t.Format("January 2, 2006")
	case 1:
		return t.Format("2 January 2006")
	}
	return s
}

// btDateTimeText writes an RFC 3339 date-time as given or as "2026-03-14 at
// 09:30". Only whole-minute UTC (or zone-less) times are reworded, because the
// reworded form has no seconds and no offset.
func btDateTimeText(r *rand.Rand, s string) string {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05"} {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		zoneOK := layout != time.RFC3339 || strings.HasSuffix(s, "Z")
		if t.Second() == 0 && t.Nanosecond() == 0 && zoneOK && btChance(r, 0.5) {
			return t.Format("2006-01-02") + " at " + t.Format("15:04")
		}
		return s
	}
	return s
}

// btTimeText writes an HH:MM time as given or without its leading zero.
func btTimeText(r *rand.Rand, s string) string {
	if len(s) == 5 && s[0] == '0' && s[2] == ':' && btChance(r, 0.5) {
		return s[1:]
	}
	return s
}

// btRefAnchors are words after which a reference phrase reads well:
// prepositions, pronouns and verbs that are not requests (imperative verbs
// come from the phrase data).
var btRefAnchors = btSet([]string{"to", "of", "for", "on", "in", "from", "with", "about", "into", "by", "at",
	"via", "under", "off", "up", "down", "out", "me", "i", "does", "do", "is", "are", "need", "want", "pay", "pass",
	"reschedule", "end", "and", "then", "also", "did", "was", "give", "rename", "unsend", "trash", "wishlist"})

// btRefPattern replaces the placeholder name with a phrase that refers to
// an earlier turn's record ("it", "that event"). The noun phrase that named
// the record goes, since the phrase carries it: "show me event {event_id}"
// -> "show me that event", "release the meeting room reservation {id}" ->
// "release the booking i just made", "stop the {timer_id} timer" -> "stop
// that timer". noun names the record ("event"); anchor reports the words
// (verbs) a phrase may follow.
func btRefPattern(p btPattern, name, noun, phrase string, anchor func(string) bool) btPattern {
	nounWords := strings.Fields(noun)
	parts := slices.Clone(p.parts)
	for k := range parts {
		if parts[k].name != name {
			continue
		}
		var prev, next string
		if k > 0 && parts[k-1].name == "" {
			prev = parts[k-1].lit
		}
		if k+1 < len(parts) && parts[k+1].name == "" {
			next = parts[k+1].lit
		}
		lead := prev[:len(prev)-len(strings.TrimLeft(prev, " "))]
		words := strings.Fields(prev)
		last := func() string {
			if len(words) == 0 {
				return ""
			}
			return words[len(words)-1]
		}
		nw, rest := btFirstWord(next)
		if btDropDets[last()] && nw != "" && !btDropStop[nw] {
			// "the {id} timer": the placeholder modifies the noun after it.
			words, next = words[:len(words)-1], rest
		} else {
			// "meeting room reservation {id}": drop the noun phrase back to
			// its determiner or to the verb or preposition before it.
			for i := 0; i < 4 && len(words) > 0; i++ {
				w := last()
				isNoun := slices.Contains(nounWords, w) // "draft" names the record even though it is a verb too
				if !isNoun && (anchor(w) || btRefAnchors[w] || strings.Trim(w, ",.:;!?") != w) {
					break
				}
				words = words[:len(words)-1]
				if btDropDets[w] {
					break
				}
			}
		}
		prev = lead + strings.Join(words, " ")
		if len(words) > 0 {
			prev += " "
		}
		if k > 0 && parts[k-1].name == "" {
			parts[k-1].lit = prev
		}
		if k+1 < len(parts) && parts[k+1].name == "" {
			parts[k+1].lit = next
		}
		parts[k] = btPart{lit: phrase}
	}
	names := slices.DeleteFunc(slices.Clone(p.names), func(n string) bool { return n == name })
	return btPattern{parts: parts, names: names}
}
