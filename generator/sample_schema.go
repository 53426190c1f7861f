package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// valueNode is one (sub)schema of a catalog JSON Schema, reduced to what the
// target samplers need. Catalog schemas are closed and typed (the loader
// checks it), so a small struct replaces walking generic maps on every draw.
type valueNode struct {
	// name is the property name ("" for a root or array items).
	name string
	typ  string
	// enum holds the allowed values as int, float64, string or bool.
	enum    []any
	format  string
	gen     string
	pattern string
	// min and max bound numbers (when hasMin/hasMax).
	min, max       float64
	hasMin, hasMax bool
	// minItems and maxItems bound arrays; items is the item schema.
	minItems, maxItems int
	items              *valueNode
	// props are an object's properties sorted by name; required names the required ones.
	props    []*valueNode
	required map[string]bool
	// money marks a number that is an amount of money (two decimals).
	money bool
	// birth marks a date of birth (in the past, not near today).
	birth bool
}

// moneyWords mark a number property as an amount of money by its name or description.
var moneyWords = []string{"price", "amount", "total", "fare", "payment", "income", "cost", "fee", "salary", "budget", "refund", "paid", "spent", "charge"}

// parseValueNode parses a catalog schema document.
func parseValueNode(raw json.RawMessage) (*valueNode, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	return newValueNode("", doc)
}

func newValueNode(name string, m map[string]any) (*valueNode, error) {
	n := &valueNode{name: name, required: map[string]bool{}}
	switch t := m["type"].(type) {
	case string:
		n.typ = t
	case []any: // ["string", "null"]: sample the non-null type
		for _, e := range t {
			if s, _ := e.(string); s != "null" {
				n.typ = s
			}
		}
	}
	n.format, _ = m["format"].(string)
	n.gen, _ = m["x-gen"].(string)
	n.pattern, _ = m["pattern"].(string)
	n.min, n.hasMin = jsonFloat(m["minimum"])
	n.max, n.hasMax = jsonFloat(m["maximum"])
	if v, ok := jsonFloat(m["minItems"]); ok {
		n.minItems = int(v)
	}
	if v, ok := jsonFloat(m["maxItems"]); ok {
		n.maxItems = int(v)
	}
	if vals, ok := m["enum"].([]any); ok {
		for _, v := range vals {
			if v != nil {
				n.enum = append(n.enum, plainJSONValue(v))
			}
		}
	}
	desc, _ := m["description"].(string)
	text := strings.ToLower(name + " " + desc)
	if n.typ == "number" {
		for _, w := range moneyWords {
			n.money = n.money || strings.Contains(text, w)
		}
	}
	n.birth = strings.Contains(text, "birth")
	if items, ok := m["items"].(map[string]any); ok {
		it, err := newValueNode("", items)
		if err != nil {
			return nil, err
		}
		n.items = it
	}
	if props, ok := m["properties"].(map[string]any); ok {
		names := make([]string, 0, len(props))
		for k := range props {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			pm, ok := props[k].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("property %q is not a schema object", k)
			}
			c, err := newValueNode(k, pm)
			if err != nil {
				return nil, fmt.Errorf("%s.%w", k, err)
			}
			n.props = append(n.props, c)
		}
	}
	if req, ok := m["required"].([]any); ok {
		for _, r := range req {
			if s, ok := r.(string); ok {
				n.required[s] = true
			}
		}
	}
	return n, nil
}

// jsonFloat reads a number decoded with UseNumber.
func jsonFloat(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// plainJSONValue turns a json.Number into int or float64 so that sampled
// targets marshal the same way whatever their source.
func plainJSONValue(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	if i, err := n.Int64(); err == nil {
		return int(i)
	}
	f, _ := n.Float64()
	return f
}

// prop returns the property called name, or nil.
func (n *valueNode) prop(name string) *valueNode {
	for _, p := range n.props {
		if p.name == name {
			return p
		}
	}
	return nil
}

// requiredNames returns the required property names in sorted order.
func (n *valueNode) requiredNames() []string {
	var out []string
	for _, p := range n.props {
		if n.required[p.name] {
			out = append(out, p.name)
		}
	}
	return out
}
