package train

import (
	"bytes"
	"strings"
)

// The compact notation prompts show JSON Schemas in: EdgeJSON schemas and
// function signatures.

// compactNode renders a JSON Schema node in a compact, model-friendly notation,
// object properties in declaration order: {name: string(date), tags: [string],
// status: open|closed, opt?: number}; markOptional adds ? to non-required
// properties, bounds the value constraints of scalars (see constraintsOf).
// BFCL's dialect ("dict", "float", "tuple") reads as JSON Schema's.
func compactNode(node *jnode, markOptional, bounds bool) string {
	if node == nil {
		return "any"
	}
	if enum := node.get("enum"); enum != nil && enum.array {
		vals := make([]string, len(enum.items))
		for i, v := range enum.items {
			vals[i] = scalarText(v)
		}
		return strings.Join(vals, "|")
	}
	switch typ := schemaType(node.get("type")); typ {
	case "object", "dict":
		props := node.get("properties")
		if props == nil || !props.object {
			return "{}"
		}
		required := map[string]bool{}
		if req := node.get("required"); req != nil {
			for _, r := range req.items {
				required[r.str()] = true
			}
		}
		parts := make([]string, len(props.keys))
		for i, k := range props.keys {
			name := k
			if markOptional && !required[k] {
				name += "?"
			}
			parts[i] = name + ": " + compactNode(props.vals[i], markOptional, bounds)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case "array", "tuple":
		return "[" + compactNode(node.get("items"), markOptional, bounds) + "]"
	default:
		var notes []string
		if f := node.get("format").str(); f != "" {
			notes = append(notes, f)
		}
		if bounds {
			notes = append(notes, constraintsOf(node)...)
		}
		if len(notes) > 0 {
			return typ + "(" + strings.Join(notes, ", ") + ")"
		}
		return typ
	}
}

// constraintKeywords are the JSON Schema keywords a scalar's value is checked
// against, as a signature names them: the generator's invalid-value requests
// break exactly these (a number out of its range, a string off its pattern).
var constraintKeywords = []struct{ key, name string }{
	{"minimum", "min"}, {"exclusiveMinimum", "over"}, {"maximum", "max"}, {"exclusiveMaximum", "under"},
	{"minLength", "min length"}, {"maxLength", "max length"}, {"pattern", "pattern"},
}

// constraintsOf lists a scalar's value constraints: "min 0.01", "max 10000",
// "pattern ^[0-9]{4}$". Draft-4 boolean exclusive bounds are left to their
// minimum and maximum.
func constraintsOf(node *jnode) []string {
	var out []string
	for _, k := range constraintKeywords {
		v := node.get(k.key)
		if v == nil || v.raw == nil || string(v.raw) == "true" || string(v.raw) == "false" || string(v.raw) == "null" {
			continue
		}
		out = append(out, k.name+" "+scalarText(v))
	}
	return out
}

// scalarText is a scalar as a prompt shows it: strings unquoted, others as JSON.
func scalarText(n *jnode) string {
	if n.raw != nil && bytes.HasPrefix(n.raw, []byte(`"`)) {
		return n.str()
	}
	return n.String()
}

// schemaType reads "type", which is a name or a list such as ["string", "null"].
func schemaType(t *jnode) string {
	switch {
	case t == nil:
		return "any"
	case t.array:
		names := make([]string, len(t.items))
		for i, x := range t.items {
			names[i] = x.str()
		}
		return strings.Join(names, "|")
	}
	return t.str()
}
