package schemas

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// minFunctionPatterns is the fewest request patterns a function may have.
const minFunctionPatterns = 2

// loadFuncFile loads one catalog/edgefunccall/*.json file: a FunctionDomain, or
// the irrelevant requests.
func (l *loader) loadFuncFile(file string, data []byte) {
	if path.Base(file) == irrelevantFile {
		l.loadIrrelevant(file, data)
		return
	}
	doc, ok := parseJSON(&l.ps, file, data)
	var fd FunctionDomain
	if !ok || !decodeStrict(&l.ps, file, data, doc, &fd) {
		return
	}
	before := l.ps.len()
	if l.requireSnake(file, "$", "domain", fd.Domain) && fd.Domain != stem(file) {
		l.ps.add(file, "$.domain", "domain %q must match the file name %q", fd.Domain, stem(file)+".json")
	}
	l.requireText(file, "$", "description", fd.Description)
	if len(fd.Functions) == 0 {
		l.ps.add(file, "$.functions", "a function domain needs at least one function")
	}
	rawFuncs, _ := doc.(map[string]any)["functions"].([]any)
	compiled := make([]*jsonschema.Schema, len(fd.Functions))
	for i := range fd.Functions {
		f := &fd.Functions[i]
		f.Domain, f.File = fd.Domain, file
		raw, _ := rawFuncs[i].(map[string]any)
		compiled[i] = l.checkFunction(file, i, f, raw["parameters"])
	}
	if l.ps.len() > before {
		return
	}
	l.cat.Domains = append(l.cat.Domains, &fd)
	for i := range fd.Functions {
		l.cat.Functions = append(l.cat.Functions, &fd.Functions[i])
		l.cat.compiledParams[fd.Functions[i].Name] = compiled[i]
	}
}

// checkFunction checks one function and returns its compiled parameter schema.
func (l *loader) checkFunction(file string, i int, f *Function, params any) *jsonschema.Schema {
	p := jidx("$.functions", i)
	if l.requireSnake(file, p, "name", f.Name) {
		if prev, dup := l.funcFiles[f.Name]; dup {
			l.ps.add(file, jkey(p, "name"), "function name %q is already used in %s (names are unique across the catalog)", f.Name, prev)
		} else {
			l.funcFiles[f.Name] = fmt.Sprintf("%s %s", file, p)
		}
	}
	l.requireText(file, p, "description", f.Description)

	pp := jkey(p, "parameters")
	w := &schemaWalker{ps: &l.ps, file: file}
	rootOK := w.root(pp, params, true)
	var sch *jsonschema.Schema
	root, isObj := params.(map[string]any)
	if isObj {
		sch = l.compileInto(file, pp, schemaURL(file, "functions", strconv.Itoa(i), "parameters"), root)
	}
	for _, prm := range w.params {
		l.cat.paramKinds[f.Name] = append(l.cat.paramKinds[f.Name], prm.kind)
	}
	l.checkFunctionPatterns(file, p, f, w.params, rootOK)
	l.checkMock(file, p, f, root)
	return sch
}

// checkFunctionPatterns checks a function's request patterns: enough of them,
// distinct, with placeholders that name parameters ({room}, {address.city}).
// Placeholders are not checked when the parameters are unusable (paramsOK false).
func (l *loader) checkFunctionPatterns(file, p string, f *Function, params []param, paramsOK bool) {
	refs := map[string]bool{}
	for _, prm := range params {
		if !prm.viaArray && prm.kind != "object" {
			refs[prm.path] = true
		}
	}
	if len(f.Patterns) < minFunctionPatterns {
		l.ps.add(file, jkey(p, "patterns"), "function %q needs at least %d patterns, has %d", f.Name, minFunctionPatterns, len(f.Patterns))
	}
	known := func(name string) string {
		if refs[name] || !paramsOK {
			return ""
		}
		if len(refs) == 0 {
			return fmt.Sprintf("placeholder {%s} is not a parameter of function %q (it has no parameters a pattern can name)", name, f.Name)
		}
		return fmt.Sprintf("placeholder {%s} is not a parameter of function %q (parameters: %s)", name, f.Name, strings.Join(slices.Sorted(maps.Keys(refs)), ", "))
	}
	seen := map[string]int{}
	for j, pat := range f.Patterns {
		pp := jidx(jkey(p, "patterns"), j)
		if !l.checkPattern(file, pp, pat, known) {
			continue
		}
		key := normalize(pat)
		if k, dup := seen[key]; dup {
			l.ps.add(file, pp, "pattern %q repeats %s", pat, jidx(jkey(p, "patterns"), k))
			continue
		}
		seen[key] = j
	}
}

// checkMock checks a function's mock: a known op, a collection and, for ops
// that address one record, a key that is a required top-level parameter.
func (l *loader) checkMock(file, p string, f *Function, params map[string]any) {
	mp := jkey(p, "mock")
	m := f.Mock
	switch m.Op {
	case MockRead, MockCreate, MockUpsert, MockDelete:
	default:
		l.ps.add(file, jkey(mp, "op"), "mock op %q must be one of read, create, upsert, delete", m.Op)
	}
	l.requireText(file, mp, "collection", m.Collection)
	if m.Key == "" {
		if m.Op == MockUpsert || m.Op == MockDelete {
			l.ps.add(file, mp, `mock op %q needs "key": the required parameter that identifies the record`, m.Op)
		}
		return
	}
	props, _ := params["properties"].(map[string]any)
	if _, ok := props[m.Key]; !ok {
		l.ps.add(file, jkey(mp, "key"), "mock key %q is not a top-level parameter of function %q (parameters: %s)",
			m.Key, f.Name, strings.Join(slices.Sorted(maps.Keys(props)), ", "))
		return
	}
	required, _ := params["required"].([]any)
	for _, r := range required {
		if r == m.Key {
			return
		}
	}
	if m.Op == MockUpsert || m.Op == MockDelete {
		l.ps.add(file, jkey(mp, "key"), `mock key %q must be listed in the parameters' "required"`, m.Key)
	}
}
