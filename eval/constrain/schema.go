package constrain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// typeSet is a set of JSON Schema types, one bit each.
type typeSet uint8

const (
	tObject typeSet = 1 << iota
	tArray
	tString
	tInteger
	tNumber
	tBoolean
	tNull
	tAny = tObject | tArray | tString | tInteger | tNumber | tBoolean | tNull
)

var typeNames = map[string]typeSet{
	"object": tObject, "array": tArray, "string": tString, "integer": tInteger,
	"number": tNumber, "boolean": tBoolean, "null": tNull,
}

// prop is one declared property of an object schema.
type prop struct {
	name     string
	n        *node
	required bool
}

// node is one compiled (sub)schema.
type node struct {
	types typeSet
	// lits, when set, is the trie of the compact encodings of the enum/const
	// values: the value must be one of them, whatever its type.
	lits *btrie
	// kw is the trie of the keywords true/false/null that types allows.
	kw *btrie
	// alts are anyOf/oneOf alternatives; first[b] is the index of the
	// alternative a value starting with byte b belongs to, or -1.
	alts  []*node
	first [256]int8

	// Object: props in declaration order, keys their trie (item i = props[i]),
	// required a bitset over props, addl the schema of free keys (nil: none).
	props    []prop
	keys     *btrie
	required []uint64
	addl     *node

	// Array: items (nil: any value) and the item count bounds (maxItems -1: none).
	items              *node
	minItems, maxItems int

	// String: character count bounds (maxLen -1: none) and the pattern DFA.
	minLen, maxLen int
	pattern        *dfa

	// Number: bounds (±Inf when absent) and whether each is exclusive.
	min, max           float64
	exclMin, exclMax   bool
	hasBounds, integer bool
}

// anyNode accepts any JSON value (with the package's subset rules).
var anyNode = newAnyNode()

func newAnyNode() *node {
	n := &node{types: tAny, maxItems: -1, maxLen: -1, min: math.Inf(-1), max: math.Inf(1), kw: keywordTrie(tAny), keys: newBtrie(nil)}
	for i := range n.first {
		n.first[i] = -1
	}
	n.addl, n.items = n, n
	return n
}

// annotations are keywords that do not constrain values (format: see the package doc).
var annotations = map[string]bool{
	"$schema": true, "$id": true, "$comment": true, "$anchor": true, "$defs": true, "definitions": true,
	"title": true, "description": true, "default": true, "examples": true, "format": true,
	"readOnly": true, "writeOnly": true, "deprecated": true, "contentMediaType": true, "contentEncoding": true,
}

// Schema is a compiled JSON Schema ready to drive recognizers. It is immutable
// and safe for concurrent use.
type Schema struct {
	root *node
}

// Compile compiles a JSON Schema document (the subset in the package doc).
func Compile(schema json.RawMessage) (*Schema, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(schema))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	n, err := compileNode(doc, "$")
	if err != nil {
		return nil, err
	}
	return &Schema{root: n}, nil
}

// compileNode compiles one schema object found at path (for error messages).
func compileNode(s map[string]any, path string) (*node, error) {
	n := &node{types: tAny, maxItems: -1, maxLen: -1, min: math.Inf(-1), max: math.Inf(1)}
	for k, v := range s {
		if annotations[k] || strings.HasPrefix(k, "x-") {
			continue
		}
		if err := n.keyword(k, v, s, path); err != nil {
			return nil, err
		}
	}
	if n.types&tNumber != 0 {
		n.integer = false
	} else if n.types&tInteger != 0 {
		n.integer = true
	}
	if n.items == nil {
		n.items = anyNode
	}
	if n.keys == nil {
		// No object keywords: any keys, any values.
		n.keys, n.addl = newBtrie(nil), anyNode
	}
	n.hasBounds = !math.IsInf(n.min, -1) || !math.IsInf(n.max, 1)
	n.kw = keywordTrie(n.types)
	if v, ok := s["enum"]; ok {
		if err := n.setLiterals(v, path+".enum"); err != nil {
			return nil, err
		}
	}
	if v, ok := s["const"]; ok {
		if err := n.setLiterals([]any{v}, path+".const"); err != nil {
			return nil, err
		}
	}
	if err := n.setAlternatives(s, path); err != nil {
		return nil, err
	}
	return n, nil
}

// keyword applies one assertion keyword to n.
func (n *node) keyword(k string, v any, s map[string]any, path string) error {
	var err error
	switch k {
	case "type":
		n.types, err = parseTypes(v)
	case "properties", "required", "additionalProperties":
		return n.setObject(s, path)
	case "items":
		var m map[string]any
		if m, err = asSchema(v); err == nil {
			n.items, err = compileNode(m, path+".items")
		}
	case "minItems":
		n.minItems, err = asCount(v)
	case "maxItems":
		n.maxItems, err = asCount(v)
	case "minLength":
		n.minLen, err = asCount(v)
	case "maxLength":
		n.maxLen, err = asCount(v)
	case "pattern":
		p, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s.pattern: want a string", path)
		}
		n.pattern, err = compilePattern(p)
	case "minimum", "exclusiveMinimum":
		n.min, err = asFloat(v)
		n.exclMin = k == "exclusiveMinimum"
	case "maximum", "exclusiveMaximum":
		n.max, err = asFloat(v)
		n.exclMax = k == "exclusiveMaximum"
	case "enum", "const", "anyOf", "oneOf":
		// Handled after the other keywords, which they depend on.
	default:
		return fmt.Errorf("%s: unsupported keyword %q", path, k)
	}
	if err != nil {
		return fmt.Errorf("%s.%s: %w", path, k, err)
	}
	return nil
}

// setObject compiles properties, required and additionalProperties.
func (n *node) setObject(s map[string]any, path string) error {
	if n.keys != nil {
		return nil // already compiled from another of the three keywords
	}
	propsRaw := map[string]any{}
	if v, ok := s["properties"]; ok {
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s.properties: want an object", path)
		}
		propsRaw = m
	}
	req, err := parseRequired(s["required"], propsRaw, path)
	if err != nil {
		return err
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range propsRaw {
			if !yield(k) {
				return
			}
		}
	})
	n.required = make([]uint64, (len(names)+63)/64)
	var encs []string
	for i, name := range names {
		m, err := asSchema(propsRaw[name])
		if err != nil {
			return fmt.Errorf("%s.properties.%s: %w", path, name, err)
		}
		pn, err := compileNode(m, path+"."+name)
		if err != nil {
			return err
		}
		n.props = append(n.props, prop{name: name, n: pn, required: req[name]})
		if req[name] {
			n.required[i/64] |= 1 << (i % 64)
		}
		encs = append(encs, encodeString(name))
	}
	n.keys = newBtrie(encs)
	return n.setAdditional(s["additionalProperties"], len(names) > 0, path)
}

// setAdditional compiles additionalProperties: absent or true means free
// keys only for objects that declare no properties (see the package doc).
func (n *node) setAdditional(v any, declared bool, path string) error {
	switch v := v.(type) {
	case nil:
		if !declared {
			n.addl = anyNode
		}
	case bool:
		if v && !declared {
			n.addl = anyNode
		}
	case map[string]any:
		an, err := compileNode(v, path+".additionalProperties")
		if err != nil {
			return err
		}
		n.addl = an
	default:
		return fmt.Errorf("%s.additionalProperties: want a boolean or a schema", path)
	}
	return nil
}
