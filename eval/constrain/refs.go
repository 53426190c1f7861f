package constrain

import (
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// maxFlatten bounds nested $ref/allOf merging, which a schema whose allOf
// reaches itself would otherwise never finish.
const maxFlatten = 32

// onlyAnnotationsBut reports whether every keyword of s but key is an annotation.
func onlyAnnotationsBut(s map[string]any, key string) bool {
	for k := range s {
		if k != key && !annotations[k] && !strings.HasPrefix(k, "x-") {
			return false
		}
	}
	return true
}

// ref returns the shared node of a $ref target, compiling it on first use.
// The node is registered before its target is compiled, so a target that
// refers to itself (a recursive schema) gets the same node.
func (c *compiler) ref(ref, path string) (*node, error) {
	if n, ok := c.refs[ref]; ok {
		return n, nil
	}
	target, err := c.resolve(ref)
	if err != nil {
		return nil, fmt.Errorf("%s.$ref: %w", path, err)
	}
	if inner, ok := target["$ref"].(string); ok && onlyAnnotationsBut(target, "$ref") {
		if inner == ref {
			return nil, fmt.Errorf("%s.$ref: %q refers to itself", path, ref)
		}
		c.refs[ref] = nil // a cycle of bare $refs ends in the check above or below
		n, err := c.ref(inner, path)
		if err != nil || n == nil {
			return nil, fmt.Errorf("%s.$ref: %q: a cycle of bare references or %v", path, ref, err)
		}
		c.refs[ref] = n
		return n, nil
	}
	n := &node{types: tAny}
	c.refs[ref] = n
	if _, ok := target["$ref"]; ok || target["allOf"] != nil {
		if target, err = c.flatten(target, ref, 0); err != nil {
			return nil, err
		}
	}
	if err := c.compileInto(n, target, ref); err != nil {
		return nil, err
	}
	return n, nil
}

// resolve finds a local reference: "#" (the root) or a JSON pointer into the
// document ("#/$defs/item", "#/definitions/item", "#/properties/a"). Remote
// references, $id and $anchor targets are unsupported.
func (c *compiler) resolve(ref string) (map[string]any, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("reference %q: only local references (#/...) are supported", ref)
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return nil, fmt.Errorf("reference %q: %w", ref, err)
	}
	var cur any = c.root
	if frag != "" {
		if !strings.HasPrefix(frag, "/") {
			return nil, fmt.Errorf("reference %q: anchors are unsupported", ref)
		}
		for _, tok := range strings.Split(frag[1:], "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			switch x := cur.(type) {
			case map[string]any:
				cur, ok = x[tok]
			case []any:
				i, err := strconv.Atoi(tok)
				ok = err == nil && i >= 0 && i < len(x)
				if ok {
					cur = x[i]
				}
			default:
				ok = false
			}
			if !ok {
				return nil, fmt.Errorf("reference %q: no %q in the document", ref, tok)
			}
		}
	}
	m, err := asSchema(cur)
	if err != nil {
		return nil, fmt.Errorf("reference %q: %w", ref, err)
	}
	return m, nil
}

// flatten merges s's $ref target and allOf branches into s (intersect):
// one schema whose values are those every part accepts.
func (c *compiler) flatten(s map[string]any, path string, depth int) (map[string]any, error) {
	if depth > maxFlatten {
		return nil, fmt.Errorf("%s: $ref/allOf nested deeper than %d (a recursive allOf?)", path, maxFlatten)
	}
	out := maps.Clone(s)
	delete(out, "$ref")
	delete(out, "allOf")
	var parts []map[string]any
	if v, ok := s["$ref"]; ok {
		ref, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s.$ref: want a string", path)
		}
		t, err := c.resolve(ref)
		if err != nil {
			return nil, fmt.Errorf("%s.$ref: %w", path, err)
		}
		parts = append(parts, t)
	}
	if v, ok := s["allOf"]; ok {
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("%s.allOf: want a non-empty array", path)
		}
		for i, a := range list {
			m, err := asSchema(a)
			if err != nil {
				return nil, fmt.Errorf("%s.allOf[%d]: %w", path, i, err)
			}
			parts = append(parts, m)
		}
	}
	for i, p := range parts {
		if _, ok := p["$ref"]; ok || p["allOf"] != nil {
			var err error
			if p, err = c.flatten(p, fmt.Sprintf("%s.allOf[%d]", path, i), depth+1); err != nil {
				return nil, err
			}
		}
		var err error
		if out, err = intersect(out, p, path); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// intersect merges two schemas into one accepting the values both accept,
// keyword by keyword: types intersect, required unite, bounds tighten, enums
// intersect, property and item schemas combine with allOf, and a side with
// additionalProperties false keeps the other side's undeclared properties
// out. Keywords that cannot be combined (two different patterns) are an error.
func intersect(a, b map[string]any, path string) (map[string]any, error) {
	out := maps.Clone(a)
	for _, k := range slices.Sorted(maps.Keys(b)) {
		bv := b[k]
		av, ok := out[k]
		if !ok {
			out[k] = bv
			continue
		}
		v, err := intersectKeyword(k, av, bv, path)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return closeProperties(out, a, b, path)
}

// intersectKeyword combines one keyword present on both sides.
func intersectKeyword(k string, av, bv any, path string) (any, error) {
	switch k {
	case "type":
		ta, err := parseTypes(av)
		if err != nil {
			return nil, fmt.Errorf("%s.type: %w", path, err)
		}
		tb, err := parseTypes(bv)
		if err != nil {
			return nil, fmt.Errorf("%s.type: %w", path, err)
		}
		t := ta & tb
		if ta&tNumber != 0 && tb&tInteger != 0 || tb&tNumber != 0 && ta&tInteger != 0 {
			t |= tInteger
		}
		if t == 0 {
			return nil, fmt.Errorf("%s.allOf: types %v and %v have no value in common", path, av, bv)
		}
		return typeList(t), nil
	case "required":
		la, _ := av.([]any)
		lb, _ := bv.([]any)
		return unionList(la, lb), nil
	case "properties":
		pa, _ := av.(map[string]any)
		pb, _ := bv.(map[string]any)
		out := maps.Clone(pa)
		for name, s := range pb {
			if prev, ok := out[name]; ok {
				out[name] = map[string]any{"allOf": []any{prev, s}}
			} else {
				out[name] = s
			}
		}
		return out, nil
	case "items", "additionalProperties":
		if fa, ok := av.(bool); ok && !fa {
			return false, nil
		}
		if fb, ok := bv.(bool); ok && !fb {
			return false, nil
		}
		return map[string]any{"allOf": []any{av, bv}}, nil
	case "minimum", "exclusiveMinimum", "minLength", "minItems", "maximum", "exclusiveMaximum", "maxLength", "maxItems":
		return tighter(k, av, bv)
	case "enum":
		la, _ := av.([]any)
		lb, _ := bv.([]any)
		var out []any
		for _, x := range la {
			if slices.ContainsFunc(lb, func(y any) bool { return reflect.DeepEqual(x, y) }) {
				out = append(out, x)
			}
		}
		return out, nil
	case "uniqueItems":
		return av == true || bv == true, nil
	}
	if annotations[k] || reflect.DeepEqual(av, bv) {
		return av, nil
	}
	return nil, fmt.Errorf("%s.allOf: keyword %q differs between the parts (unsupported)", path, k)
}

// tighter keeps the tighter of two bounds.
func tighter(k string, av, bv any) (any, error) {
	x, errA := asFloat(av)
	y, errB := asFloat(bv)
	if errA != nil || errB != nil {
		return nil, fmt.Errorf("keyword %q: want numbers, got %v and %v", k, av, bv)
	}
	if strings.HasPrefix(k, "min") || k == "exclusiveMinimum" {
		if y > x {
			return bv, nil
		}
		return av, nil
	}
	if y < x {
		return bv, nil
	}
	return av, nil
}

// closeProperties removes from out the properties that a side with
// additionalProperties false does not declare: no valid object holds them.
func closeProperties(out, a, b map[string]any, path string) (map[string]any, error) {
	props, _ := out["properties"].(map[string]any)
	if props == nil {
		return out, nil
	}
	for _, side := range []map[string]any{a, b} {
		if f, ok := side["additionalProperties"].(bool); !ok || f {
			continue
		}
		own, _ := side["properties"].(map[string]any)
		for name := range props {
			if _, ok := own[name]; !ok {
				if slices.Contains(asStrings(out["required"]), name) {
					return nil, fmt.Errorf("%s.allOf: %q is required but a part forbids it (additionalProperties false)", path, name)
				}
				props = maps.Clone(props)
				delete(props, name)
			}
		}
	}
	out["properties"] = props
	return out, nil
}

// unionSchemas merges two alternatives whose values may start alike into one
// accepting what either accepts (often more): mergeSchemas after resolving
// $ref/allOf, giving typeless schemas the type their keywords imply, and
// reading const as a one-value enum.
func (c *compiler) unionSchemas(a, b map[string]any, path string) (map[string]any, error) {
	var err error
	prep := func(s map[string]any) (map[string]any, error) {
		if _, ok := s["$ref"]; ok || s["allOf"] != nil {
			if s, err = c.flatten(s, path, 0); err != nil {
				return nil, err
			}
		}
		s = maps.Clone(s)
		if v, ok := s["const"]; ok {
			delete(s, "const")
			s["enum"] = []any{v}
		}
		if _, ok := s["type"]; !ok {
			if t := impliedType(s); t != "" {
				s["type"] = t
			}
		}
		return s, nil
	}
	if a, err = prep(a); err != nil {
		return nil, err
	}
	if b, err = prep(b); err != nil {
		return nil, err
	}
	m := mergeSchemas(a, b)
	if _, still := m["anyOf"]; still {
		return nil, fmt.Errorf("%s: alternatives that start alike and cannot be merged (types %v and %v)", path, a["type"], b["type"])
	}
	return m, nil
}

// impliedType is the one type a typeless schema's keywords are about, or "".
func impliedType(s map[string]any) string {
	for _, tk := range []struct {
		t   string
		kws []string
	}{
		{"object", []string{"properties", "required", "additionalProperties"}},
		{"array", []string{"items", "prefixItems", "minItems", "maxItems"}},
		{"string", []string{"pattern", "minLength", "maxLength"}},
		{"number", []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}},
	} {
		for _, k := range tk.kws {
			if _, ok := s[k]; ok {
				return tk.t
			}
		}
	}
	return ""
}

// typeList is the "type" value of a type set.
func typeList(t typeSet) any {
	var out []any
	for _, name := range []string{"object", "array", "string", "integer", "number", "boolean", "null"} {
		if t&typeNames[name] != 0 {
			out = append(out, name)
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}

// asStrings returns the strings of a JSON array.
func asStrings(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
