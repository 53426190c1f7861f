package builtin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// btNode is one node of a catalog JSON Schema (an EdgeJSON schema or a
// function's parameters), reduced to what the builtin teacher verbalizes.
type btNode struct {
	// Name is the property name ("" for the root and for array items).
	Name string
	// Path is the dotted property path from the root, e.g. "location.city".
	Path string
	// Desc is the property's description.
	Desc string
	// Type is object, array, string, integer, number or boolean.
	Type string
	// Enum, Format and Gen are the leaf's value generator, if any.
	Enum   []any
	Format string
	Gen    string
	// Props are an object's properties in the order the schema lists them,
	// because that order is the natural reading order of a document.
	Props  []*btNode
	byName map[string]*btNode
	// Items is an array's item schema.
	Items *btNode
}

// btRawSchema is the part of a schema node that btParseSchema reads.
type btRawSchema struct {
	Type        json.RawMessage `json:"type"`
	Description string          `json:"description"`
	Enum        []any           `json:"enum"`
	Format      string          `json:"format"`
	Gen         string          `json:"x-gen"`
	Properties  json.RawMessage `json:"properties"`
	Items       json.RawMessage `json:"items"`
}

// btParseSchema parses a schema node and its children.
func btParseSchema(raw json.RawMessage, name, path string) (*btNode, error) {
	var rs btRawSchema
	if err := json.Unmarshal(raw, &rs); err != nil {
		return nil, fmt.Errorf("schema %q: %w", path, err)
	}
	n := &btNode{Name: name, Path: path, Desc: rs.Description, Enum: rs.Enum, Format: rs.Format, Gen: rs.Gen}
	n.Type = btSchemaType(rs.Type)
	if len(rs.Properties) > 0 {
		if n.Type == "" {
			n.Type = "object"
		}
		keys, err := btObjectKeys(rs.Properties)
		if err != nil {
			return nil, fmt.Errorf("schema %q properties: %w", path, err)
		}
		var props map[string]json.RawMessage
		if err := json.Unmarshal(rs.Properties, &props); err != nil {
			return nil, fmt.Errorf("schema %q properties: %w", path, err)
		}
		n.byName = map[string]*btNode{}
		for _, k := range keys {
			child, err := btParseSchema(props[k], k, btJoinPath(path, k))
			if err != nil {
				return nil, err
			}
			n.Props = append(n.Props, child)
			n.byName[k] = child
		}
	}
	if len(rs.Items) > 0 {
		items, err := btParseSchema(rs.Items, "", path)
		if err != nil {
			return nil, err
		}
		n.Items = items
	}
	return n, nil
}

// btSchemaType reads "type": a name, or a list whose first non-null name counts.
func btSchemaType(raw json.RawMessage) string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		for _, t := range many {
			if t != "null" {
				return t
			}
		}
	}
	return ""
}

// btObjectKeys returns the keys of a JSON object in document order (a Go map
// would lose it).
func btObjectKeys(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("want an object, got %v", tok)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// btJoinPath appends a property name to a dotted path.
func btJoinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// prop returns the named property of an object node, or nil.
func (n *btNode) prop(name string) *btNode {
	if n == nil {
		return nil
	}
	return n.byName[name]
}

// lookup returns the node at a dotted path below n, or nil.
func (n *btNode) lookup(path string) *btNode {
	for _, part := range strings.Split(path, ".") {
		n = n.prop(part)
		if n == nil {
			return nil
		}
	}
	return n
}

// isEnum reports whether the node's value comes from an enum.
func (n *btNode) isEnum() bool { return n != nil && len(n.Enum) > 0 }

// btHumanWords spells out abbreviations in humanized names.
var btHumanWords = map[string]string{
	"id": "ID", "ip": "IP", "sku": "SKU", "kb": "KB", "mg": "mg", "co2": "CO2", "iata": "IATA", "pnr": "PNR", "url": "URL",
}

// btHumanize turns a property name into words: "customer_email" -> "customer email",
// "order_id" -> "order ID".
func btHumanize(name string) string {
	words := strings.FieldsFunc(name, func(c rune) bool { return c == '_' || c == '.' || c == '-' })
	for i, w := range words {
		if h, ok := btHumanWords[w]; ok {
			words[i] = h
		}
	}
	return strings.Join(words, " ")
}

// btCapitalize upper-cases the first letter of s.
func btCapitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// btSingular is a rough singular of an English plural noun phrase, for
// labelling array items ("line items" -> "line item", "diagnoses" -> "diagnosis").
func btSingular(s string) string {
	switch {
	case strings.HasSuffix(s, "oses"):
		return strings.TrimSuffix(s, "es") + "is"
	case strings.HasSuffix(s, "ies"):
		return strings.TrimSuffix(s, "ies") + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "ches"), strings.HasSuffix(s, "shes"):
		return strings.TrimSuffix(s, "es")
	case strings.HasSuffix(s, "ss"):
		return s
	case strings.HasSuffix(s, "s"):
		return strings.TrimSuffix(s, "s")
	}
	return s
}
