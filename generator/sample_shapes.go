package generator

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/schemas"
)

// freeTextGens are generators whose values two calls share only under a
// qualified name (see shares): two requests rarely repeat a title or a topic.
var freeTextGens = map[string]bool{"sentence": true, "message_text": true, "note_text": true, "title": true, "topic": true, "word": true}

// bodyGens are the free-text generators no two calls share even under a
// qualified name: message and note bodies.
var bodyGens = map[string]bool{"sentence": true, "message_text": true, "note_text": true}

// refParam is a parameter that names a record created by another call.
type refParam struct {
	name, coll string
}

// domainPlan is what planning knows about one function domain.
type domainPlan struct {
	funcs []*funcInfo
	// creators maps a collection to the creates that can start a dialogue on it.
	creators map[string][]*funcInfo
	// refs holds each function's reference parameters.
	refs map[*funcInfo][]refParam
}

// planDialogues enumerates every dialogue shape of the catalog and files each
// under the functions it calls.
func (ts *targetSampler) planDialogues() {
	byDomain := map[string][]*funcInfo{}
	var domains []string
	for _, f := range ts.cat.Functions { // sorted by name
		if _, ok := byDomain[f.Domain]; !ok {
			domains = append(domains, f.Domain)
		}
		byDomain[f.Domain] = append(byDomain[f.Domain], ts.funcs[f.Name])
	}
	slices.Sort(domains)
	for _, d := range domains {
		dp := newDomainPlan(byDomain[d])
		var shapes []dialogueShape
		shapes = append(shapes, dp.recordShapes()...)
		shapes = append(shapes, dp.keyShapes()...)
		shapes = append(shapes, dp.writeReadShapes()...)
		shapes = append(shapes, dp.sharedShapes()...)
		for _, sh := range shapes {
			var seen []*funcInfo
			for _, st := range sh.steps {
				if !slices.Contains(seen, st.fi) {
					seen = append(seen, st.fi)
					st.fi.dialogues = append(st.fi.dialogues, sh)
				}
			}
		}
	}
}

func newDomainPlan(funcs []*funcInfo) *domainPlan {
	dp := &domainPlan{funcs: funcs, creators: map[string][]*funcInfo{}, refs: map[*funcInfo][]refParam{}}
	for _, fi := range funcs {
		if fi.fn.Mock.Op == schemas.MockCreate {
			dp.creators[fi.fn.Mock.Collection] = append(dp.creators[fi.fn.Mock.Collection], fi)
		}
	}
	// A create that itself needs a record (pay a bill to a payee) cannot open
	// a dialogue; dropping it can leave a collection without creators, which
	// changes which parameters are references, so settle both in turn.
	for changed := true; changed; {
		changed = false
		for _, fi := range funcs {
			dp.refs[fi] = dp.refParamsOf(fi)
		}
		for coll, cs := range dp.creators {
			kept := slices.DeleteFunc(slices.Clone(cs), dp.needsRecord)
			if len(kept) != len(cs) {
				dp.creators[coll], changed = kept, true
			}
		}
	}
	return dp
}

// refParamsOf returns fi's parameters that name a record some create of the
// domain makes: the key of an upsert or delete on a collection with creates,
// or an "<x>_id" parameter of a collection "<x>s" / "..._<x>s" with creates.
// A parameter whose schema would reject a mock id is never a reference.
func (dp *domainPlan) refParamsOf(fi *funcInfo) []refParam {
	m := fi.fn.Mock
	var out []refParam
	for _, p := range fi.params.props {
		if p.typ != "string" || len(p.enum) > 0 || p.pattern != "" || p.format != "" {
			continue
		}
		coll := ""
		switch {
		case (m.Op == schemas.MockUpsert || m.Op == schemas.MockDelete) && p.name == m.Key:
			coll = m.Collection
		case strings.HasSuffix(p.name, "_id"):
			coll = dp.idCollection(strings.TrimSuffix(p.name, "_id"), m.Collection)
		}
		if coll != "" && len(dp.creators[coll]) > 0 {
			out = append(out, refParam{name: p.name, coll: coll})
		}
	}
	return out
}

// idCollection returns the collection an id parameter "<stem>_id" names: the
// domain's collection "<stem>s" if there is one (email_id names "emails", not
// "sent_emails"), else one ending in "_<stem>s", preferring the function's own.
func (dp *domainPlan) idCollection(stem, own string) string {
	colls := map[string]bool{}
	for _, fi := range dp.funcs {
		colls[fi.fn.Mock.Collection] = true
	}
	for _, c := range []string{stem + "s", stem} {
		if colls[c] {
			return c
		}
	}
	if strings.HasSuffix(own, "_"+stem+"s") {
		return own
	}
	for _, c := range slices.Sorted(maps.Keys(colls)) {
		if strings.HasSuffix(c, "_"+stem+"s") {
			return c
		}
	}
	return ""
}

// needsRecord reports whether fi has a required reference parameter.
func (dp *domainPlan) needsRecord(fi *funcInfo) bool {
	for _, rp := range dp.refs[fi] {
		if fi.params.required[rp.name] {
			return true
		}
	}
	return false
}

// isRef reports whether fi's parameter name is a reference.
func (dp *domainPlan) isRef(fi *funcInfo, name string) bool {
	return slices.ContainsFunc(dp.refs[fi], func(rp refParam) bool { return rp.name == name })
}

// recordShapes: [create, follower] and [create, follower, follower], where
// followers refer to the created record; a delete comes last.
func (dp *domainPlan) recordShapes() []dialogueShape {
	var out []dialogueShape
	for _, coll := range slices.Sorted(maps.Keys(dp.creators)) {
		var followers []*funcInfo
		refsTo := map[*funcInfo]map[string]int{}
		for _, fi := range dp.funcs {
			if fi.fn.Mock.Op == schemas.MockCreate && fi.fn.Mock.Collection == coll {
				continue
			}
			refs, other := map[string]int{}, false
			for _, rp := range dp.refs[fi] {
				if rp.coll == coll {
					refs[rp.name] = 0
				} else if fi.params.required[rp.name] {
					other = true // needs a record of another collection too
				}
			}
			if len(refs) > 0 && !other {
				followers = append(followers, fi)
				refsTo[fi] = refs
			}
		}
		for _, c := range dp.creators[coll] {
			first := dialogueStep{fi: c}
			for _, u := range followers {
				if !fitsCreator(u, c, dp.creators[coll]) {
					continue
				}
				out = append(out, dialogueShape{familyRecord, []dialogueStep{first, {fi: u, refs: refsTo[u]}}})
				if u.fn.Mock.Op == schemas.MockDelete {
					continue
				}
				for _, v := range followers {
					if v != u && fitsCreator(v, c, dp.creators[coll]) {
						out = append(out, dialogueShape{familyRecord, []dialogueStep{first, {fi: u, refs: refsTo[u]}, {fi: v, refs: refsTo[v]}}})
					}
				}
			}
		}
	}
	return out
}

// fitsCreator reports whether follower u plausibly acts on what creator c
// made when a collection has several creates (check in for a booked flight,
// not for a rented car): c must share the most description words with u.
func fitsCreator(u, c *funcInfo, creators []*funcInfo) bool {
	if len(creators) < 2 {
		return true
	}
	best := 0
	for _, o := range creators {
		best = max(best, wordOverlap(u.fn, o.fn))
	}
	return wordOverlap(u.fn, c.fn) == best
}

// wordOverlap counts the content-word stems two functions' names and descriptions share.
func wordOverlap(a, b *schemas.Function) int {
	words := func(f *schemas.Function) map[string]bool {
		out := map[string]bool{}
		text := strings.ToLower(strings.ReplaceAll(f.Name, "_", " ") + " " + f.Description)
		for _, w := range strings.FieldsFunc(text, func(r rune) bool { return (r < 'a' || r > 'z') && r != '-' }) {
			if len(w) < 3 || overlapStopWords[w] || w == f.Domain {
				continue
			}
			for _, suf := range []string{"ing", "ed", "s"} {
				if s := strings.TrimSuffix(w, suf); len(s) >= 3 && s != w {
					w = s
					break
				}
			}
			out[w] = true
		}
		return out
	}
	wa, wb := words(a), words(b)
	n := 0
	for w := range wa {
		if wb[w] {
			n++
		}
	}
	return n
}

var overlapStopWords = map[string]bool{"the": true, "and": true, "for": true, "with": true, "one": true, "more": true,
	"get": true, "set": true, "new": true, "only": true, "given": true, "user": true, "that": true, "this": true,
	"its": true, "from": true, "into": true, "are": true, "every": true, "optional": true, "optionally": true, "other": true}

// keyShapes: calls on one record of a collection with a natural key:
// [upsert, upsert|delete|read] and [upsert, upsert, delete|read].
func (dp *domainPlan) keyShapes() []dialogueShape {
	writers, ends := map[string][]*funcInfo{}, map[string][]*funcInfo{}
	for _, fi := range dp.funcs {
		m := fi.fn.Mock
		switch {
		case m.Op == schemas.MockUpsert && !dp.isRef(fi, m.Key):
			writers[m.Collection] = append(writers[m.Collection], fi)
			ends[m.Collection] = append(ends[m.Collection], fi)
		case m.Op == schemas.MockDelete && !dp.isRef(fi, m.Key),
			m.Op == schemas.MockRead && !dp.needsRecord(fi):
			ends[m.Collection] = append(ends[m.Collection], fi)
		}
	}
	var out []dialogueShape
	for _, coll := range slices.Sorted(maps.Keys(writers)) {
		for _, w := range writers[coll] {
			key := w.fn.Mock.Key
			for _, e := range ends[coll] {
				if e == w {
					continue
				}
				out = append(out, dialogueShape{familyKey, []dialogueStep{{fi: w}, {fi: e, share: keyShare(w, e, key, 0)}}})
				if e.fn.Mock.Op != schemas.MockUpsert {
					continue
				}
				for _, e2 := range ends[coll] {
					if e2 != w && e2 != e {
						out = append(out, dialogueShape{familyKey, []dialogueStep{{fi: w}, {fi: e, share: keyShare(w, e, key, 0)}, {fi: e2, share: keyShare(w, e2, key, 0)}}})
					}
				}
			}
		}
	}
	return out
}

// keyShare makes e repeat turn's key argument of w: e's own key, or for a
// read a parameter of the same name, when the two schemas agree.
func keyShare(w, e *funcInfo, key string, turn int) map[string]argSource {
	target := key
	if m := e.fn.Mock; m.Op != schemas.MockRead {
		target = m.Key
	}
	p, q := w.params.prop(key), e.params.prop(target)
	if p == nil || q == nil || !sameConstraints(p, q) {
		return nil
	}
	return map[string]argSource{target: {turn: turn, param: key}}
}

// writeReadShapes: [create, read] on one collection, sharing what they can.
func (dp *domainPlan) writeReadShapes() []dialogueShape {
	var out []dialogueShape
	for _, rd := range dp.funcs {
		if rd.fn.Mock.Op != schemas.MockRead || dp.needsRecord(rd) {
			continue
		}
		for _, w := range dp.creators[rd.fn.Mock.Collection] {
			out = append(out, dialogueShape{familyWriteRead, []dialogueStep{{fi: w}, {fi: rd, share: dp.shares(w, rd)}}})
		}
	}
	return out
}

// sharedShapes: two calls that share at least one argument value.
func (dp *domainPlan) sharedShapes() []dialogueShape {
	ok := func(fi *funcInfo) bool { return fi.fn.Mock.Op != schemas.MockDelete && !dp.needsRecord(fi) }
	var out []dialogueShape
	for i, g := range dp.funcs {
		for _, h := range dp.funcs[i+1:] {
			if !ok(g) || !ok(h) {
				continue
			}
			orders := [][2]*funcInfo{{g, h}, {h, g}}
			switch gr, hr := g.fn.Mock.Op == schemas.MockRead, h.fn.Mock.Op == schemas.MockRead; {
			case hr && !gr:
				orders = orders[1:] // look something up, then act on it
			case gr && !hr:
				orders = orders[:1]
			}
			for _, o := range orders {
				if sh := dp.shares(o[0], o[1]); len(sh) > 0 {
					out = append(out, dialogueShape{familyShared, []dialogueStep{{fi: o[0]}, {fi: o[1], share: sh}}})
					break
				}
			}
		}
	}
	return out
}

// shares matches second's parameters to first's (turn 0) whose values it can
// repeat: the same name, or a name qualified by a word of first's name
// (lights_create_scene's name is lights_activate_scene's scene_name), then
// the same entity generator under another name (recipient and contact).
func (dp *domainPlan) shares(first, second *funcInfo) map[string]argSource {
	out := map[string]argSource{}
	used := map[string]bool{}
	for pass := range 2 {
		for _, q := range second.params.props {
			if _, done := out[q.name]; done || dp.isRef(second, q.name) || q.typ != "string" {
				continue
			}
			for _, p := range first.params.props {
				if used[p.name] || dp.isRef(first, p.name) || !sameConstraints(p, q) {
					continue
				}
				match := false
				switch {
				case pass == 0 && qualifiedName(first, p.name, q.name):
					match = !bodyGens[q.gen]
				case pass == 0 && p.name == q.name:
					match = !freeTextGens[q.gen]
				case pass == 1:
					match = entityGen(p) && !freeTextGens[q.gen]
				}
				if match {
					out[q.name] = argSource{turn: 0, param: p.name}
					used[p.name] = true
					break
				}
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// qualifiedName reports whether q is p qualified by a word of first's name,
// as in "scene_name" for the "name" of lights_create_scene.
func qualifiedName(first *funcInfo, p, q string) bool {
	prefix, ok := strings.CutSuffix(q, "_"+p)
	return ok && prefix != "" && slices.Contains(strings.Split(first.fn.Name, "_"), prefix)
}

// entityGen reports whether n names an entity (an account, a room, a city)
// that two differently named parameters can share.
func entityGen(n *valueNode) bool {
	return n.gen != "" && n.gen != "id" && n.format == "" && n.pattern == "" && len(n.enum) == 0
}

// sameConstraints reports whether every value of p is valid for q.
func sameConstraints(p, q *valueNode) bool {
	return p.typ == q.typ && p.gen == q.gen && p.format == q.format && p.pattern == q.pattern &&
		fmt.Sprint(p.enum) == fmt.Sprint(q.enum) && len(p.props) == 0 && len(q.props) == 0
}
