package schemas

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// stringFormats are the "format" values a string leaf may use as its value
// generator; the generator package knows how to sample each one.
var stringFormats = []string{"email", "date", "date-time", "time", "phone", "uri", "uuid"}

// param is one named property of a schema, as found by schemaWalker.
type param struct {
	// path is the dotted property path from the root, e.g. "address.city".
	path string
	// kind is the Summary.ParamTypes category: enum, date-time or the JSON type.
	kind string
	// viaArray is true for properties of array items, which a pattern cannot name.
	viaArray bool
}

// schemaWalker checks the catalog conventions of a JSON Schema that the JSON
// Schema metaschema does not: descriptions, value generators, closed objects.
type schemaWalker struct {
	ps     *problems
	file   string
	params []param
}

// root checks a root schema at path: it must be a closed object schema.
// allowEmpty lets a function without arguments have "properties": {}. It
// returns false when the root is not an object schema, so that callers skip
// checks that would only repeat the problem (every placeholder "unknown").
func (w *schemaWalker) root(path string, v any, allowEmpty bool) bool {
	node, ok := v.(map[string]any)
	if !ok {
		w.ps.add(w.file, path, "schema must be an object, got %s", jsonKind(v))
		return false
	}
	if t, _ := node["type"].(string); t != "object" {
		w.ps.add(w.file, path, `root schema must have "type": "object"`)
		return false
	}
	if s, ok := node["$schema"]; ok && s != "https://json-schema.org/draft/2020-12/schema" {
		w.ps.add(w.file, jkey(path, "$schema"), `catalog schemas are draft 2020-12; "$schema" must be "https://json-schema.org/draft/2020-12/schema" or absent`)
	}
	w.object(path, node, "", false, allowEmpty)
	return true
}

// object checks an object schema and walks its properties.
func (w *schemaWalker) object(path string, node map[string]any, prefix string, viaArray, allowEmpty bool) {
	props, ok := node["properties"].(map[string]any)
	if !ok || (len(props) == 0 && !allowEmpty) {
		w.ps.add(w.file, path, `object schema needs a non-empty "properties"`)
		return
	}
	if ap, ok := node["additionalProperties"].(bool); !ok || ap {
		w.ps.add(w.file, path, `object schema needs "additionalProperties": false`)
	}
	if req, ok := node["required"]; ok {
		arr, _ := req.([]any)
		for i, r := range arr {
			name, _ := r.(string)
			if _, ok := props[name]; !ok {
				w.ps.add(w.file, jidx(jkey(path, "required"), i), "required names %q, which is not a property (properties: %s)",
					name, strings.Join(slices.Sorted(maps.Keys(props)), ", "))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(props)) {
		ppath := jkey(jkey(path, "properties"), name)
		child, ok := props[name].(map[string]any)
		if !ok {
			w.ps.add(w.file, ppath, "property schema must be an object, got %s", jsonKind(props[name]))
			continue
		}
		if d, _ := child["description"].(string); strings.TrimSpace(d) == "" {
			w.ps.add(w.file, ppath, `property %q needs a non-empty "description"`, name)
		}
		w.node(ppath, child, prefix+name, viaArray, true)
	}
}

// node checks one property schema (named is false for array items) by its type.
func (w *schemaWalker) node(path string, node map[string]any, name string, viaArray, named bool) {
	typ, nullable := schemaType(node)
	if named {
		w.params = append(w.params, param{path: name, kind: paramKind(node, typ), viaArray: viaArray})
	}
	if gen, ok := node["x-gen"]; ok {
		if g, _ := gen.(string); Generators[g] == "" {
			w.ps.add(w.file, jkey(path, "x-gen"), `unknown generator "%v" (see schemas/generators.go)`, gen)
		}
	}
	if _, ok := node["enum"]; ok && typ != "" {
		w.enum(path, node, typ, nullable)
	}
	switch typ {
	case "object":
		w.object(path, node, name+".", viaArray, false)
	case "array":
		w.array(path, node, name)
	case "string":
		w.stringLeaf(path, node)
	case "integer", "number":
		w.numberLeaf(path, node, typ)
	case "boolean":
	case "":
		w.ps.add(w.file, path, `schema needs one "type" (object, array, string, integer, number or boolean, optionally with "null")`)
	default:
		w.ps.add(w.file, path, `unsupported type %q (want object, array, string, integer, number or boolean)`, typ)
	}
}

// array checks an array schema: bounded, with an object schema for its items.
func (w *schemaWalker) array(path string, node map[string]any, name string) {
	maxItems, hasMax := number(node["maxItems"])
	if _, present := node["maxItems"]; !present {
		w.ps.add(w.file, path, `array needs "maxItems"`)
	}
	if minItems, ok := number(node["minItems"]); ok && hasMax && minItems > maxItems {
		w.ps.add(w.file, jkey(path, "minItems"), `"minItems" %v is greater than "maxItems" %v`, minItems, maxItems)
	}
	items, ok := node["items"].(map[string]any)
	if !ok {
		w.ps.add(w.file, path, `array needs "items" with a schema object`)
		return
	}
	w.node(jkey(path, "items"), items, name, true, false)
}

// stringLeaf checks that a string has a value generator.
func (w *schemaWalker) stringLeaf(path string, node map[string]any) {
	if f, ok := node["format"]; ok {
		fs, _ := f.(string)
		for _, known := range stringFormats {
			if fs == known {
				return
			}
		}
		w.ps.add(w.file, jkey(path, "format"), `format "%v" has no value generator (use one of %s, or "x-gen")`,
			f, strings.Join(stringFormats, ", "))
		return
	}
	for _, k := range []string{"enum", "x-gen", "pattern"} {
		if _, ok := node[k]; ok {
			return
		}
	}
	w.ps.add(w.file, path, `string needs a value generator: "enum", "format", "x-gen" or "pattern"`)
}

// numberLeaf checks that a number has a closed range (or an enum).
func (w *schemaWalker) numberLeaf(path string, node map[string]any, typ string) {
	if _, ok := node["enum"]; ok {
		return
	}
	lo, hasLo := number(node["minimum"])
	hi, hasHi := number(node["maximum"])
	_, presentLo := node["minimum"]
	_, presentHi := node["maximum"]
	switch {
	case !presentLo || !presentHi:
		w.ps.add(w.file, path, `%s needs "minimum" and "maximum" (or "enum")`, typ)
	case hasLo && hasHi && lo > hi:
		w.ps.add(w.file, jkey(path, "minimum"), `"minimum" %v is greater than "maximum" %v`, lo, hi)
	}
}

// enum checks that an enum is non-empty and its values have the declared type.
func (w *schemaWalker) enum(path string, node map[string]any, typ string, nullable bool) {
	vals, ok := node["enum"].([]any)
	if !ok || len(vals) == 0 {
		w.ps.add(w.file, jkey(path, "enum"), `"enum" must be a non-empty array`)
		return
	}
	for i, v := range vals {
		if v == nil && nullable {
			continue
		}
		if !valueHasType(v, typ) {
			w.ps.add(w.file, jidx(jkey(path, "enum"), i), "enum value %v is %s, not of type %q", v, jsonKind(v), typ)
		}
	}
}

// valueHasType reports whether a generic JSON value is an instance of a JSON Schema type.
func valueHasType(v any, typ string) bool {
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := number(v)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		if _, err := n.Int64(); err == nil {
			return true
		}
		f, err := n.Float64()
		return err == nil && f == float64(int64(f))
	}
	return false
}

// number returns a generic JSON number as float64. A bound that is present but
// not a number is left to the metaschema, which names the expected type.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}

// paramKind is a property's Summary.ParamTypes category.
func paramKind(node map[string]any, typ string) string {
	if _, ok := node["enum"]; ok {
		return "enum"
	}
	if f, _ := node["format"].(string); typ == "string" && f == "date-time" {
		return "date-time"
	}
	return typ
}
