package ollamatest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ollama/ollama/api"
)

// Answer is the default responder: a JSON answer that is valid against the
// request's format (a JSON schema), with fixed, plausible values. A request
// without a schema gets {"input": "..."}.
func Answer(req api.ChatRequest) string {
	s, err := FromSchema(req.Format, false)
	if err != nil {
		return `{"input":"` + inputs[0] + `"}`
	}
	return s
}

// FromSchema builds a JSON value that is valid against the JSON schema
// format, for the keywords that answer formats use: type, properties,
// items, enum, const, anyOf/oneOf, minimum/maximum, minItems/maxItems,
// minLength/maxLength, pattern and format. With alternative set, every choice differs
// from the default one where the schema allows it (the last enum value, the
// maximum, other strings): FaultHallucinate uses it.
func FromSchema(format json.RawMessage, alternative bool) (string, error) {
	if len(format) == 0 || string(format) == `"json"` {
		format = json.RawMessage(`{"type":"object","properties":{"input":{"type":"string"}}}`)
	}
	var schema any
	if err := json.Unmarshal(format, &schema); err != nil {
		return "", fmt.Errorf("format is not JSON: %w", err)
	}
	g := &generator{alt: alternative}
	b, err := json.Marshal(g.value(schema, ""))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// inputs are the texts given for an "input" string: default and alternative.
var inputs = [2]string{
	"Hi, could you book a table for two at Luigi's on Friday at 7:30 pm? Thanks, Dana",
	"Please cancel everything I have planned for next week, something came up.",
}

// formatValues are valid values per string format: default and alternative.
var formatValues = map[string][2]string{
	"date":      {"2026-03-14", "2027-11-02"},
	"date-time": {"2026-03-14T09:30:00Z", "2027-11-02T18:45:00Z"},
	"time":      {"09:30", "18:45"},
	"email":     {"dana.lee@northwind.test", "sam.ortiz@bluefield.test"},
	"phone":     {"+1 415 555 0134", "+44 20 7946 0958"},
	"uri":       {"https://northwind.test/orders/1", "https://bluefield.test/help"},
	"uuid":      {"3f2b8c1e-5a4d-4e6f-9b7a-2c1d0e9f8a7b", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"},
}

// generator walks a schema; n numbers the plain strings it makes so that they
// are distinct.
type generator struct {
	alt bool
	n   int
}

func (g *generator) pick(n int) int {
	if g.alt {
		return n - 1
	}
	return 0
}

func (g *generator) value(node any, name string) any {
	m, ok := node.(map[string]any)
	if !ok {
		return g.str(nil, name)
	}
	if c, ok := m["const"]; ok {
		return c
	}
	if e, ok := m["enum"].([]any); ok && len(e) > 0 {
		return e[g.pick(len(e))]
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if alts, ok := m[k].([]any); ok && len(alts) > 0 {
			return g.value(alts[g.pick(len(alts))], name)
		}
	}
	switch schemaType(m) {
	case "object":
		out := map[string]any{}
		props, _ := m["properties"].(map[string]any)
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		slices.Sort(keys) // deterministic string numbering
		for _, k := range keys {
			out[k] = g.value(props[k], k)
		}
		return out
	case "array":
		n := max(intKey(m, "minItems", 1), 1)
		if mx := intKey(m, "maxItems", -1); mx >= 0 {
			n = min(n, mx)
		}
		arr := make([]any, n)
		for i := range arr {
			arr[i] = g.value(m["items"], name)
		}
		return arr
	case "integer":
		return int64(g.number(m, 1, 7))
	case "number":
		return g.number(m, 1.5, 7.25)
	case "boolean":
		return !g.alt
	case "null":
		return nil
	default:
		return g.str(m, name)
	}
}

// schemaType returns the node's type, the first non-null one of a list, or
// the type its keywords imply.
func schemaType(m map[string]any) string {
	switch t := m["type"].(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if s, _ := x.(string); s != "" && s != "null" {
				return s
			}
		}
		return "null"
	}
	switch {
	case m["properties"] != nil:
		return "object"
	case m["items"] != nil:
		return "array"
	}
	return "string"
}

func intKey(m map[string]any, k string, def int) int {
	if f, ok := m[k].(float64); ok {
		return int(f)
	}
	return def
}

func (g *generator) number(m map[string]any, def, alt float64) float64 {
	lo, hasLo := m["minimum"].(float64)
	hi, hasHi := m["maximum"].(float64)
	switch {
	case !g.alt && hasLo:
		return lo
	case !g.alt && hasHi:
		return hi
	case !g.alt:
		return def
	case hasHi:
		return hi
	case hasLo:
		return lo + alt
	}
	return alt
}

func (g *generator) str(m map[string]any, name string) string {
	i := g.pick(2)
	if f, _ := m["format"].(string); f != "" {
		if v, ok := formatValues[f]; ok {
			return v[i]
		}
	}
	if p, _ := m["pattern"].(string); p != "" {
		if s, ok := fromPattern(p, g.alt); ok {
			return s
		}
	}
	var s string
	switch name {
	case "input":
		s = inputs[i]
	case "turns":
		g.n++
		s = fmt.Sprintf("%s message %d", [2]string{"Please do it", "Never mind"}[i], g.n)
	default:
		g.n++
		s = fmt.Sprintf("%s %s %d", [2]string{"sample", "invented"}[i], strings.ReplaceAll(name, "_", " "), g.n)
	}
	if n := intKey(m, "minLength", 0); len(s) < n {
		s += strings.Repeat("x", n-len(s))
	}
	if n := intKey(m, "maxLength", -1); n >= 0 && len(s) > n {
		s = s[:n]
	}
	return s
}

// breakSchema turns an answer into valid JSON that breaks any closed answer
// format: the target becomes an object of unknown fields, and an unknown
// top-level field is added.
func breakSchema(content string) string {
	var obj map[string]any
	if json.Unmarshal([]byte(content), &obj) != nil || obj == nil {
		return `{"unexpected_field":"schema break"}`
	}
	if _, ok := obj["target"]; ok {
		obj["target"] = map[string]any{"unexpected_field": "schema break"}
	}
	obj["unexpected_field"] = "schema break"
	b, _ := json.Marshal(obj)
	return string(b)
}

// hallucinate replaces the answer's target (or, without one, its input) by
// the alternative answer to the same format: still valid JSON, but with other
// values than the ones asked for.
func hallucinate(content string, format json.RawMessage) string {
	var obj, alt map[string]any
	if json.Unmarshal([]byte(content), &obj) != nil || obj == nil {
		return content
	}
	s, err := FromSchema(format, true)
	if err != nil || json.Unmarshal([]byte(s), &alt) != nil || alt == nil {
		alt = map[string]any{}
	}
	keys := []string{"input", "turns"}
	if _, ok := obj["target"]; ok {
		keys = []string{"target"}
	}
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			continue
		}
		v, ok := alt[k]
		if !ok || equalJSON(v, obj[k]) {
			v = mangle(obj[k])
		}
		obj[k] = v
	}
	b, _ := json.Marshal(obj)
	return string(b)
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// mangle changes every scalar of v: strings reversed, numbers moved, booleans
// flipped.
func mangle(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = mangle(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = mangle(e)
		}
		return out
	case string:
		r := []rune(x)
		slices.Reverse(r)
		return "zz " + string(r)
	case float64:
		return x + 7
	case bool:
		return !x
	}
	return v
}
