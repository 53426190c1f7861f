package constrain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// setAlternatives compiles anyOf/oneOf (oneOf as anyOf). The alternative
// of a value must be known from its first byte, so alternatives that can
// start with the same byte (two objects, two strings) are merged into one
// that accepts what either accepts (unionSchemas): the mask then accepts a
// superset, and the scorer's schema check judges the rest.
func (c *compiler) setAlternatives(n *node, s map[string]any, path string) error {
	for i := range n.first {
		n.first[i] = -1
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		v, ok := s[k]
		if !ok {
			continue
		}
		if n.alts != nil {
			return fmt.Errorf("%s: anyOf and oneOf together are unsupported", path)
		}
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return fmt.Errorf("%s.%s: want a non-empty array", path, k)
		}
		if n.lits != nil {
			return fmt.Errorf("%s.%s: enum/const next to %s is unsupported", path, k, k)
		}
		var groups []map[string]any
		for i, a := range list {
			m, err := asSchema(a)
			if err != nil {
				return fmt.Errorf("%s.%s[%d]: %w", path, k, i, err)
			}
			// An alternative also obeys the keywords beside anyOf: merge them in.
			merged := map[string]any{}
			for kk, vv := range s {
				if kk != k && kk != "enum" && kk != "const" {
					merged[kk] = vv
				}
			}
			for kk, vv := range m {
				merged[kk] = vv
			}
			if groups, err = c.addAlternative(groups, merged, fmt.Sprintf("%s.%s[%d]", path, k, i)); err != nil {
				return err
			}
		}
		for i, g := range groups {
			an, err := c.compile(g, fmt.Sprintf("%s.%s[%d]", path, k, i))
			if err != nil {
				return err
			}
			for b := range 256 {
				if an.canStart(byte(b)) {
					n.first[b] = int8(i)
				}
			}
			n.alts = append(n.alts, an)
		}
	}
	return nil
}

// addAlternative adds alternative m to groups, merging it with every group
// whose values can start with a byte m's values can start with.
func (c *compiler) addAlternative(groups []map[string]any, m map[string]any, path string) ([]map[string]any, error) {
	for {
		an, err := c.compile(m, path)
		if err != nil {
			return nil, err
		}
		overlap := -1
		for j, g := range groups {
			gn, err := c.compile(g, path)
			if err != nil {
				return nil, err
			}
			for b := range 256 {
				if an.canStart(byte(b)) && gn.canStart(byte(b)) {
					overlap = j
					break
				}
			}
			if overlap >= 0 {
				break
			}
		}
		if overlap < 0 {
			return append(groups, m), nil
		}
		if m, err = c.unionSchemas(groups[overlap], m, path); err != nil {
			return nil, err
		}
		groups = slices.Delete(groups, overlap, overlap+1)
	}
}

// canStart reports whether a value of n may start with byte b.
func (n *node) canStart(b byte) bool {
	if n.alts != nil {
		return n.first[b] >= 0
	}
	if n.lits != nil {
		return n.lits.child(0, b) >= 0
	}
	switch {
	case b == '{':
		return n.types&tObject != 0
	case b == '[':
		return n.types&tArray != 0
	case b == '"':
		return n.types&tString != 0
	case b == '-' || (b >= '0' && b <= '9'):
		return n.types&(tInteger|tNumber) != 0
	}
	return n.kw.child(0, b) >= 0
}

// setLiterals makes n accept exactly the values in list (enum or const) that
// also pass n's other keywords, in compact encoding.
func (n *node) setLiterals(v any, path string) error {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return fmt.Errorf("%s: want a non-empty array", path)
	}
	var encs []string
	for _, x := range list {
		enc, err := encodeCompact(x)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if (&Schema{root: n}).Accepts([]byte(enc)) && !slices.Contains(encs, enc) {
			encs = append(encs, enc)
		}
	}
	if len(encs) == 0 {
		return fmt.Errorf("%s: no value matches the rest of the schema", path)
	}
	n.lits = newBtrie(encs)
	return nil
}

// parseRequired returns the set of required properties. A required name
// that props does not declare is added to props with the
// additionalProperties schema (true: any value), since a valid object must
// hold it; with additionalProperties false no object is valid, an error.
func parseRequired(v any, props map[string]any, addl any, path string) (map[string]bool, error) {
	req := map[string]bool{}
	if v == nil {
		return req, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s.required: want an array", path)
	}
	for _, r := range list {
		name, ok := r.(string)
		if !ok {
			return nil, fmt.Errorf("%s.required: want strings, got %v", path, r)
		}
		if _, declared := props[name]; !declared {
			switch a := addl.(type) {
			case nil:
				props[name] = true
			case bool:
				if !a {
					return nil, fmt.Errorf("%s.required: %q is not declared and additionalProperties is false: no object is valid", path, name)
				}
				props[name] = true
			default:
				props[name] = a
			}
		}
		req[name] = true
	}
	return req, nil
}

// keywordTrie returns the trie of the literal keywords the types allow.
func keywordTrie(t typeSet) *btrie {
	var kws []string
	if t&tBoolean != 0 {
		kws = append(kws, "true", "false")
	}
	if t&tNull != 0 {
		kws = append(kws, "null")
	}
	return newBtrie(kws)
}

// encodeString returns the JSON encoding of s as encoding/json writes it
// without HTML escaping.
func encodeString(s string) string {
	enc, _ := encodeCompact(s) // a string always encodes
	return enc
}

// encodeCompact returns the compact encoding of a decoded JSON value.
func encodeCompact(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("encode %v: %w", v, err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func parseTypes(v any) (typeSet, error) {
	var list []any
	switch x := v.(type) {
	case string:
		list = []any{x}
	case []any:
		list = x
	default:
		return 0, fmt.Errorf("want a string or an array of strings")
	}
	var t typeSet
	for _, x := range list {
		name, _ := x.(string)
		bit, ok := typeNames[name]
		if !ok {
			return 0, fmt.Errorf("unknown type %v", x)
		}
		t |= bit
	}
	if t == 0 {
		return 0, fmt.Errorf("empty type list")
	}
	return t, nil
}

func asSchema(v any) (map[string]any, error) {
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case bool:
		if x {
			return map[string]any{}, nil
		}
	}
	return nil, fmt.Errorf("want a schema object or true, got %v", v)
}

func asFloat(v any) (float64, error) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("want a number, got %v", v)
	}
	return num.Float64()
}

func asCount(v any) (int, error) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("want a non-negative integer, got %v", v)
	}
	i, err := num.Int64()
	if err != nil || i < 0 || i > math.MaxInt32 {
		return 0, fmt.Errorf("want a non-negative integer, got %v", v)
	}
	return int(i), nil
}
