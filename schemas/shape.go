package schemas

import (
	"encoding/json"
	"fmt"
)

// MeasureShape measures a JSON Schema the way the Complexity doc comment
// defines it: fields counts every named property at every level (an
// object-valued property counts itself and its children, and the properties of
// array items count too), nesting is the number of object levels below the root
// (an array of objects counts as a level), and hasArray reports whether any
// property is an array. It fails only when schema is not a JSON object.
func MeasureShape(schema json.RawMessage) (fields, nesting int, hasArray bool, err error) {
	var doc any
	if err := json.Unmarshal(schema, &doc); err != nil {
		return 0, 0, false, fmt.Errorf("measure schema shape: %w", err)
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return 0, 0, false, fmt.Errorf("measure schema shape: schema is %s, not an object", jsonKind(doc))
	}
	s := measure(root)
	return s.fields, s.nesting, s.hasArray, nil
}

// shape is a schema's measured size.
type shape struct {
	fields   int
	nesting  int
	hasArray bool
}

// measure measures a schema given as generic JSON values.
func measure(root map[string]any) shape {
	var s shape
	s.properties(root, 0)
	return s
}

// properties counts the named properties of an object schema at depth.
func (s *shape) properties(node map[string]any, depth int) {
	props, _ := node["properties"].(map[string]any)
	for _, p := range props {
		s.fields++
		if pm, ok := p.(map[string]any); ok {
			s.value(pm, depth)
		}
	}
}

// value measures the schema of a property (or of array items) found at depth.
func (s *shape) value(node map[string]any, depth int) {
	switch typ, _ := schemaType(node); typ {
	case "object":
		s.nesting = max(s.nesting, depth+1)
		s.properties(node, depth+1)
	case "array":
		s.hasArray = true
		if items, ok := node["items"].(map[string]any); ok {
			s.value(items, depth)
		}
	}
}

// schemaType returns the one type a schema node declares, and whether "null"
// is allowed too (["string","null"]). A node without "type" is taken to be an
// object if it has "properties" and an array if it has "items"; a node with
// several non-null types gives "".
func schemaType(node map[string]any) (typ string, nullable bool) {
	switch t := node["type"].(type) {
	case string:
		return t, false
	case []any:
		for _, e := range t {
			s, _ := e.(string)
			switch {
			case s == "null":
				nullable = true
			case typ != "":
				return "", nullable
			default:
				typ = s
			}
		}
		return typ, nullable
	case nil:
		if _, ok := node["properties"]; ok {
			return "object", false
		}
		if _, ok := node["items"]; ok {
			return "array", false
		}
	}
	return "", false
}

// complexityRule is the shape an EdgeJSON complexity level requires.
type complexityRule struct {
	minFields, maxFields   int // maxFields 0: no upper bound
	minNesting, maxNesting int // maxNesting -1: no upper bound
	array                  bool
	text                   string
}

var complexityRules = map[Complexity]complexityRule{
	Simple:  {3, 5, 0, 0, false, "3-5 fields, nesting 0, no arrays"},
	Medium:  {8, 12, 1, 2, true, "8-12 fields, nesting 1-2, at least one array"},
	Complex: {15, 0, 3, -1, true, "15+ fields, nesting 3+, at least one array"},
}

// checkComplexity returns "" when the measured shape fits the level, else a
// message that says both what the level needs and what was measured.
func checkComplexity(level Complexity, s shape) string {
	r, ok := complexityRules[level]
	if !ok {
		return fmt.Sprintf("unknown complexity %q (want simple, medium or complex)", level)
	}
	fits := s.fields >= r.minFields && (r.maxFields == 0 || s.fields <= r.maxFields) &&
		s.nesting >= r.minNesting && (r.maxNesting < 0 || s.nesting <= r.maxNesting) &&
		s.hasArray == r.array
	if fits {
		return ""
	}
	arrays := "no"
	if s.hasArray {
		arrays = "yes"
	}
	return fmt.Sprintf("complexity %q needs %s; measured %d fields, nesting %d, arrays: %s",
		level, r.text, s.fields, s.nesting, arrays)
}
