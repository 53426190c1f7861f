package constrain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
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

	// Array: prefix are the schemas of the first items (prefixItems), items
	// the schema of the others (nil: any value), and the item count bounds
	// (maxItems -1: none).
	prefix             []*node
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

// relaxed are assertion keywords the recognizer does not enforce (see the
// package doc): the mask then accepts a superset of the valid values, and
// the scorer's schema check judges the rest.
var relaxed = map[string]bool{"uniqueItems": true}

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
	c := &compiler{root: doc, refs: map[string]*node{}}
	n, err := c.compile(doc, "$")
	if err != nil {
		return nil, err
	}
	return &Schema{root: n}, nil
}

// compiler compiles one schema document: $ref targets are compiled once and
// shared, so recursive schemas (a tree whose children are trees) work.
type compiler struct {
	root map[string]any
	refs map[string]*node // compiled $ref targets by reference
}

// compile compiles one schema object found at path (for error messages). A
// schema that is only a $ref is the shared node of its target; $ref next to
// other keywords, and allOf, are merged into one schema first (flatten).
func (c *compiler) compile(s map[string]any, path string) (*node, error) {
	if ref, ok := s["$ref"].(string); ok && onlyAnnotationsBut(s, "$ref") {
		return c.ref(ref, path)
	}
	if _, ok := s["$ref"]; ok || s["allOf"] != nil {
		flat, err := c.flatten(s, path, 0)
		if err != nil {
			return nil, err
		}
		s = flat
	}
	n := &node{}
	if err := c.compileInto(n, s, path); err != nil {
		return nil, err
	}
	return n, nil
}

// compileInto compiles s into n.
func (c *compiler) compileInto(n *node, s map[string]any, path string) error {
	*n = node{types: tAny, maxItems: -1, maxLen: -1, min: math.Inf(-1), max: math.Inf(1)}
	var b bounds
	for k, v := range s {
		if annotations[k] || relaxed[k] || strings.HasPrefix(k, "x-") {
			continue
		}
		if err := c.keyword(n, &b, k, v, s, path); err != nil {
			return err
		}
	}
	if err := b.apply(n, path); err != nil {
		return err
	}
	if n.types&tNumber != 0 {
		n.integer = false
	} else if n.types&tInteger != 0 {
		n.integer = true
	}
	if n.items == nil {
		n.items = anyNode
	}
	if b.noExtraItems && (n.maxItems < 0 || n.maxItems > len(n.prefix)) {
		n.maxItems = len(n.prefix)
	}
	if n.keys == nil {
		// No object keywords: any keys, any values.
		n.keys, n.addl = newBtrie(nil), anyNode
	}
	n.hasBounds = !math.IsInf(n.min, -1) || !math.IsInf(n.max, 1)
	n.kw = keywordTrie(n.types)
	if v, ok := s["enum"]; ok {
		if err := n.setLiterals(v, path+".enum"); err != nil {
			return err
		}
	}
	if v, ok := s["const"]; ok {
		if err := n.setLiterals([]any{v}, path+".const"); err != nil {
			return err
		}
	}
	return c.setAlternatives(n, s, path)
}

// keyword applies one assertion keyword to n; number bounds collect in b.
func (c *compiler) keyword(n *node, b *bounds, k string, v any, s map[string]any, path string) error {
	var err error
	switch k {
	case "type":
		n.types, err = parseTypes(v)
	case "properties", "required", "additionalProperties":
		return c.setObject(n, s, path)
	case "items", "prefixItems", "additionalItems":
		return c.setItems(n, b, s, path)
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
	case "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum":
		err = b.set(k, v)
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

// bounds collects minimum, exclusiveMinimum, maximum and exclusiveMaximum,
// so that the tighter bound wins whatever order the keywords come in.
type bounds struct {
	min, exclMin, max, exclMax *float64
	// draft-04 form: exclusiveMinimum/exclusiveMaximum true make the bound exclusive.
	exclMinFlag, exclMaxFlag bool
	// noExtraItems: items (or additionalItems) false: nothing past prefixItems.
	noExtraItems bool
}

// set records one bound keyword.
func (b *bounds) set(k string, v any) error {
	if flag, ok := v.(bool); ok && (k == "exclusiveMinimum" || k == "exclusiveMaximum") {
		if k == "exclusiveMinimum" {
			b.exclMinFlag = flag
		} else {
			b.exclMaxFlag = flag
		}
		return nil
	}
	f, err := asFloat(v)
	if err != nil {
		return err
	}
	switch k {
	case "minimum":
		b.min = &f
	case "exclusiveMinimum":
		b.exclMin = &f
	case "maximum":
		b.max = &f
	case "exclusiveMaximum":
		b.exclMax = &f
	}
	return nil
}

// apply sets n's bounds: of an inclusive and an exclusive bound on one side
// the tighter holds (an exclusive bound equal to the inclusive one is tighter).
func (b *bounds) apply(n *node, path string) error {
	if b.min != nil {
		n.min, n.exclMin = *b.min, b.exclMinFlag
	}
	if b.exclMin != nil && (b.min == nil || *b.exclMin >= *b.min) {
		n.min, n.exclMin = *b.exclMin, true
	}
	if b.max != nil {
		n.max, n.exclMax = *b.max, b.exclMaxFlag
	}
	if b.exclMax != nil && (b.max == nil || *b.exclMax <= *b.max) {
		n.max, n.exclMax = *b.exclMax, true
	}
	if n.min > n.max || (n.min == n.max && (n.exclMin || n.exclMax)) {
		return fmt.Errorf("%s: no number lies between the minimum and the maximum", path)
	}
	return nil
}

// setItems compiles items, prefixItems and (draft-07) additionalItems: an
// items array is draft-07's form of prefixItems, additionalItems then the
// schema of the rest; false allows nothing past the prefix.
func (c *compiler) setItems(n *node, b *bounds, s map[string]any, path string) error {
	if n.items != nil || n.prefix != nil || b.noExtraItems {
		return nil // already compiled from another of the three keywords
	}
	prefix, _ := s["prefixItems"].([]any)
	rest := s["items"]
	if list, ok := rest.([]any); ok {
		prefix, rest = list, s["additionalItems"]
	}
	for i, v := range prefix {
		m, err := asSchema(v)
		if err != nil {
			return fmt.Errorf("%s.prefixItems[%d]: %w", path, i, err)
		}
		pn, err := c.compile(m, fmt.Sprintf("%s.prefixItems[%d]", path, i))
		if err != nil {
			return err
		}
		n.prefix = append(n.prefix, pn)
	}
	if n.prefix == nil && len(prefix) == 0 && s["prefixItems"] != nil {
		n.prefix = []*node{}
	}
	switch r := rest.(type) {
	case nil:
	case bool:
		b.noExtraItems = !r
	default:
		m, err := asSchema(r)
		if err != nil {
			return fmt.Errorf("%s.items: %w", path, err)
		}
		if n.items, err = c.compile(m, path+".items"); err != nil {
			return err
		}
	}
	return nil
}

// setObject compiles properties, required and additionalProperties. A
// required property that is not declared must appear with a value of the
// additionalProperties schema (any value when it is absent).
func (c *compiler) setObject(n *node, s map[string]any, path string) error {
	if n.keys != nil {
		return nil // already compiled from another of the three keywords
	}
	propsRaw := map[string]any{}
	if v, ok := s["properties"]; ok {
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s.properties: want an object", path)
		}
		propsRaw = maps.Clone(m)
	}
	declared := len(propsRaw) > 0
	req, err := parseRequired(s["required"], propsRaw, s["additionalProperties"], path)
	if err != nil {
		return err
	}
	names := slices.Sorted(maps.Keys(propsRaw))
	n.required = make([]uint64, (len(names)+63)/64)
	var encs []string
	for i, name := range names {
		m, err := asSchema(propsRaw[name])
		if err != nil {
			return fmt.Errorf("%s.properties.%s: %w", path, name, err)
		}
		pn, err := c.compile(m, path+"."+name)
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
	return c.setAdditional(n, s["additionalProperties"], declared, path)
}

// setAdditional compiles additionalProperties: absent or true means free
// keys only for objects that declare no properties (see the package doc).
func (c *compiler) setAdditional(n *node, v any, declared bool, path string) error {
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
		an, err := c.compile(v, path+".additionalProperties")
		if err != nil {
			return err
		}
		n.addl = an
	default:
		return fmt.Errorf("%s.additionalProperties: want a boolean or a schema", path)
	}
	return nil
}
