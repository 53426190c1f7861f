package lexicon

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// genericMisses are the fallback near misses for an enum that no group of
// data/enum_groups.json knows.
var genericMisses = []string{"custom", "maximum", "default", "special", "extra", "unknown", "automatic", "premium"}

// NearMiss returns a plausible value that is NOT one of the enum members: a
// sibling from the same family ("hourly" for daily/weekly/monthly, "email"
// for sms/whatsapp/signal/telegram). The invalid_value scenario states it so
// that the model must ask for a valid one. Comparison ignores case and treats
// "_" as a space.
func NearMiss(members []string, r *rand.Rand) (string, error) { return Source{}.NearMiss(members, r) }

// NearMiss returns a near miss for an enum (see NearMiss) from the side's
// part of the candidates.
func (s Source) NearMiss(members []string, r *rand.Rand) (string, error) {
	d, err := s.data()
	if err != nil {
		return "", err
	}
	in := map[string]bool{}
	for _, m := range members {
		in[enumKey(m)] = true
	}
	var cands []string
	seen := map[string]bool{}
	add := func(v string) {
		if k := enumKey(v); !in[k] && !seen[k] {
			seen[k] = true
			cands = append(cands, v)
		}
	}
	// Only the groups that share the most members with the enum: "other"
	// alone must not pull loan purposes into card-lock reasons.
	best := 1
	for _, g := range d.enumGroups {
		best = max(best, overlap(g, in))
	}
	for _, g := range d.enumGroups {
		if overlap(g, in) == best {
			for _, v := range g {
				add(v)
			}
		}
	}
	if len(cands) == 0 {
		for _, v := range genericMisses {
			add(v)
		}
	}
	if len(cands) == 0 {
		return "", fmt.Errorf("no near miss for enum %v", members)
	}
	part, fallback := cands, false
	if s.Active() {
		idx := s.Keep(NSValue, cands)
		if fallback = len(idx) == 0; !fallback {
			part = make([]string, len(idx))
			for i, j := range idx {
				part[i] = cands[j]
			}
		}
	}
	v := pick(r, part)
	if d.trace != nil {
		d.trace(Draw{NS: NSValue, List: "near_miss", Items: cands, Item: v, Fallback: fallback})
	}
	return v, nil
}

// overlap counts the members of group that the enum holds.
func overlap(group []string, in map[string]bool) int {
	n := 0
	for _, v := range group {
		if in[enumKey(v)] {
			n++
		}
	}
	return n
}

func enumKey(v string) string { return strings.ToLower(strings.ReplaceAll(v, "_", " ")) }
