package builtin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// btFunc is a catalog function with parsed parameters and patterns.
type btFunc struct {
	// list names the function's patterns in a trace: "pattern:<function>".
	list     string
	params   *btNode
	patterns []btPattern
}

// newBTFunc parses a function's parameters and patterns.
func newBTFunc(f *schemas.Function) (*btFunc, error) {
	params, err := btParseSchema(f.Parameters, "", "")
	if err != nil {
		return nil, fmt.Errorf("parse parameters of %s: %w", f.Name, err)
	}
	bf := &btFunc{list: "pattern:" + f.Name, params: params}
	for _, p := range f.Patterns {
		bf.patterns = append(bf.patterns, btParsePattern(p))
	}
	return bf, nil
}

// writeFuncCall verbalizes an EdgeFuncCall sample: one utterance per turn,
// the plain text for a single-turn scenario, a JSON array of utterances for
// multi_turn.
func (b *Teacher) writeFuncCall(r *rand.Rand, d *btWriter, s generator.Sample) (string, error) {
	if len(s.Turns) == 0 {
		return "", fmt.Errorf("function-calling sample has no turns")
	}
	utts := make([]string, len(s.Turns))
	for i, t := range s.Turns {
		u, err := b.writeTurn(r, d, t)
		if err != nil {
			return "", fmt.Errorf("turn %d: %w", i+1, err)
		}
		utts[i] = u
	}
	// The validator and the Ollama teacher read a multi_turn input as a JSON
	// array whatever its length; without a scenario, more than one turn is a dialogue.
	if s.Cell.Scenario != schemas.MultiTurn && (s.Cell.Scenario != "" || len(utts) == 1) {
		return utts[0], nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(utts); err != nil {
		return "", fmt.Errorf("encode turns: %w", err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// writeTurn verbalizes one user turn.
func (b *Teacher) writeTurn(r *rand.Rand, d *btWriter, t generator.TurnPlan) (string, error) {
	if strings.TrimSpace(t.Request) != "" {
		return d.paraphrase(r, []btSeg{{text: t.Request}}), nil
	}
	if t.Function == "" {
		return "", fmt.Errorf("turn has neither a function nor a request")
	}
	bf, ok := b.funcs[t.Function]
	if !ok {
		if err := b.prepErr["function "+t.Function]; err != nil {
			return "", err
		}
		return "", fmt.Errorf("unknown function %q", t.Function)
	}
	args := make(map[string]any, len(t.Args))
	for k, v := range t.Args {
		nv, err := btNormalize(v)
		if err != nil {
			return "", fmt.Errorf("argument %s: %w", k, err)
		}
		args[k] = nv
	}
	tw := &btTurn{r: r, d: d, f: bf, plan: t, args: args, covered: map[string]bool{}}
	return d.paraphrase(r, tw.segments()), nil
}

// btTurn writes one function-calling turn.
type btTurn struct {
	r    *rand.Rand
	d    *btWriter
	f    *btFunc
	plan generator.TurnPlan
	args map[string]any
	// covered holds the argument paths the pattern already states.
	covered map[string]bool
}

// stated reports whether the user states the argument at path.
func (tw *btTurn) stated(path string) bool {
	v, ok := btArgAt(tw.args, path)
	return ok && v != nil
}

// omitted reports whether path is, or lies below, an omitted parameter.
func (tw *btTurn) omitted(path string) bool {
	for _, o := range tw.plan.Omit {
		if path == o || strings.HasPrefix(path, o+".") {
			return true
		}
	}
	return false
}

// isRef reports whether the parameter refers to an earlier turn's record.
func (tw *btTurn) isRef(path string) bool {
	_, ok := tw.plan.Refs[path]
	return ok
}

// segments builds the turn's utterance before paraphrasing: a pattern, its
// placeholders filled, then the stated arguments it does not name.
func (tw *btTurn) segments() []btSeg {
	pat := tw.choose()
	placed := map[string]bool{}
	for _, n := range pat.names {
		if tw.isRef(n) && !tw.omitted(n) {
			noun := btRefNoun(n)
			phrase := strings.ReplaceAll(tw.d.template(tw.r, "ref-phrase", tw.d.slots.RefPhrases), "{noun}", noun)
			pat = btRefPattern(pat, n, noun, phrase, func(w string) bool { return tw.d.imperative[w] })
			placed[n] = true
		}
	}
	segs := btFill(pat, func(name string) []btSeg {
		if tw.omitted(name) || !tw.stated(name) {
			return nil
		}
		v, _ := btArgAt(tw.args, name)
		tw.covered[name] = true
		return tw.valueSegs(name, v)
	})
	var extra [][]btSeg
	keys := slices.Sorted(maps.Keys(tw.args))
	tw.r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	for _, k := range keys {
		if !tw.omitted(k) {
			extra = append(extra, tw.remaining(k, tw.args[k])...)
		}
	}
	refs := slices.Sorted(maps.Keys(tw.plan.Refs))
	for _, n := range refs {
		if !placed[n] && !tw.omitted(n) {
			t := strings.ReplaceAll(tw.d.template(tw.r, "ref-append", tw.d.slots.RefAppend), "{noun}", btRefNoun(n))
			extra = append(extra, []btSeg{{text: t}})
		}
	}
	for i, e := range extra {
		sep := ", "
		switch {
		case i == len(extra)-1 && i > 0 && btChance(tw.r, 0.5):
			sep = " and "
		case len(e) > 0 && !e[0].fixed && btConnects(e[0].text) && btChance(tw.r, 0.6):
			sep = " "
		}
		segs = append(segs, btSeg{text: sep})
		segs = append(segs, e...)
	}
	return segs
}

// choose picks a pattern whose placeholders are all stated or referred to
// and none omitted, favouring patterns that state more; failing that, the
// pattern with the fewest unusable placeholders (they are dropped). In a
// held-out run only the side's patterns are candidates.
func (tw *btTurn) choose() btPattern {
	pats, fallback := btSidePatterns(tw.d.h, tw.f.patterns)
	if len(pats) == 0 {
		return btPattern{} // the loader requires patterns; stated arguments still follow
	}
	p := pats[tw.chooseIn(pats)]
	btNotePattern(tw.d.h, tw.f.list, tw.f.patterns, p, fallback)
	return p
}

// chooseIn returns the index of the pattern of pats to use (see choose).
func (tw *btTurn) chooseIn(pats []btPattern) int {
	weights := make([]float64, len(pats))
	total := 0.0
	best, bestAt := -1, []int(nil)
	for i, p := range pats {
		covered, missing := 0, 0
		for _, n := range p.names {
			switch {
			case tw.omitted(n):
				missing += 2
			case tw.stated(n) || tw.isRef(n):
				covered++
			default:
				missing++
			}
		}
		if missing == 0 {
			weights[i] = float64((1 + covered) * (1 + covered))
			total += weights[i]
			continue
		}
		switch {
		case best < 0 || missing < best:
			best, bestAt = missing, []int{i}
		case missing == best:
			bestAt = append(bestAt, i)
		}
	}
	if total == 0 {
		return btPick(tw.r, bestAt)
	}
	return btWeighted(tw.r, weights, total)
}

// remaining returns phrases for the parts of the argument at path that the
// pattern did not state: the argument itself, or the uncovered leaves of an
// object. Omitted and referred-to arguments are never stated.
func (tw *btTurn) remaining(path string, v any) [][]btSeg {
	if tw.covered[path] || tw.omitted(path) || tw.isRef(path) || v == nil {
		return nil
	}
	node := tw.f.params.lookup(path)
	obj, ok := v.(map[string]any)
	if !ok {
		return [][]btSeg{tw.argPhrase(path, node, v)}
	}
	var out [][]btSeg
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		out = append(out, tw.remaining(path+"."+k, obj[k])...)
	}
	return out
}

// btArgAt returns the argument at a dotted path.
func btArgAt(args map[string]any, path string) (any, bool) {
	var cur any = args
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}
