package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// jnode is a JSON value that keeps the order of object keys, which encoding/json's
// maps lose: a JSON Schema's property order is the order a decoder writes fields,
// so prompts and replies render objects in it.
type jnode struct {
	// keys and vals are an object's members in document order.
	keys []string
	vals []*jnode
	// items are an array's elements.
	items []*jnode
	// object and array tell the containers apart (an empty object has no keys).
	object, array bool
	// raw is a scalar's compact JSON text (numbers keep their spelling: 5.0 stays 5.0).
	raw json.RawMessage
}

// parseOrdered parses one JSON value.
func parseOrdered(data []byte) (*jnode, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := decodeNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return n, nil
}

func decodeNode(dec *json.Decoder) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &jnode{object: t == '{', array: t == '['}
		for dec.More() {
			if n.object {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeNode(dec)
				if err != nil {
					return nil, err
				}
				n.keys, n.vals = append(n.keys, k.(string)), append(n.vals, v)
				continue
			}
			v, err := decodeNode(dec)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, v)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	default:
		raw, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		return &jnode{raw: raw}, nil
	}
}

// get returns the value of an object's key, or nil.
func (n *jnode) get(key string) *jnode {
	if n == nil {
		return nil
	}
	if i := slices.Index(n.keys, key); i >= 0 {
		return n.vals[i]
	}
	return nil
}

// str returns a string scalar's value, or "".
func (n *jnode) str() string {
	var s string
	if n != nil && n.raw != nil {
		_ = json.Unmarshal(n.raw, &s)
	}
	return s
}

// compact writes n as compact JSON.
func (n *jnode) compact(b *bytes.Buffer) {
	switch {
	case n.object:
		b.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k) // a string always marshals
			b.Write(kb)
			b.WriteByte(':')
			n.vals[i].compact(b)
		}
		b.WriteByte('}')
	case n.array:
		b.WriteByte('[')
		for i, it := range n.items {
			if i > 0 {
				b.WriteByte(',')
			}
			it.compact(b)
		}
		b.WriteByte(']')
	default:
		b.Write(n.raw)
	}
}

// orderBy reorders the keys of n (recursively) to follow the property order of
// schema: declared properties first in declaration order, then any other keys in
// their original order. Arrays follow the schema's items (or prefixItems).
func (n *jnode) orderBy(schema *jnode) {
	if n == nil || schema == nil {
		return
	}
	switch {
	case n.object:
		props := schema.get("properties")
		if props == nil || !props.object {
			return
		}
		keys, vals := make([]string, 0, len(n.keys)), make([]*jnode, 0, len(n.vals))
		for _, p := range props.keys {
			if i := slices.Index(n.keys, p); i >= 0 {
				keys, vals = append(keys, p), append(vals, n.vals[i])
				n.vals[i].orderBy(props.get(p))
			}
		}
		for i, k := range n.keys {
			if props.get(k) == nil {
				keys, vals = append(keys, k), append(vals, n.vals[i])
			}
		}
		n.keys, n.vals = keys, vals
	case n.array:
		prefix, items := schema.get("prefixItems"), schema.get("items")
		for i, it := range n.items {
			if prefix != nil && i < len(prefix.items) {
				it.orderBy(prefix.items[i])
			} else {
				it.orderBy(items)
			}
		}
	}
}

// mustCompact renders n compactly.
func (n *jnode) String() string {
	var b bytes.Buffer
	n.compact(&b)
	return b.String()
}

// errNoSchema is wrapped by the prompt errors of records without a usable schema.
var errNoSchema = fmt.Errorf("no schema")
