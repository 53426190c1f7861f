package generator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// orderedObject is a JSON object that keeps its key order. Answer schemas are
// built from it because Ollama turns a schema into a grammar property by
// property: the model writes the input before the target, and a catalog
// schema's fields in the order the catalog author chose.
type orderedObject []orderedField

// orderedField is one key of a orderedObject.
type orderedField struct {
	Key   string
	Value any
}

// MarshalJSON writes the fields in order.
func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.Key)
		if err != nil {
			return nil, err
		}
		v, err := promptJSON(f.Value, false)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", f.Key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// get returns the value of key, or nil.
func (o orderedObject) get(key string) any {
	for _, f := range o {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

// promptJSON encodes v without HTML escaping: a prompt must show "AT&T" and
// "<5" as they are, since the teacher is asked to copy values verbatim.
func promptJSON(v any, indent bool) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// promptJSONText encodes v for a prompt, indented.
func promptJSONText(v any) (string, error) {
	b, err := promptJSON(v, true)
	return string(b), err
}

// decodeOrderedJSON decodes JSON into orderedObject, []any, string, json.Number,
// bool and nil values, keeping key order. Keys for which drop returns true are
// left out at every level.
func decodeOrderedJSON(raw []byte, drop func(key string) bool) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeOrderedValue(dec, drop)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

func decodeOrderedValue(dec *json.Decoder, drop func(string) bool) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := orderedObject{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := kt.(string)
			v, err := decodeOrderedValue(dec, drop)
			if err != nil {
				return nil, err
			}
			if drop == nil || !drop(key) {
				obj = append(obj, orderedField{key, v})
			}
		}
		_, err := dec.Token() // '}'
		return obj, err
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			v, err := decodeOrderedValue(dec, drop)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token() // ']'
		return arr, err
	default:
		return tok, nil
	}
}

// promptSchema decodes a catalog JSON Schema for a prompt or an answer
// format: the generator hints ("x-gen" and other "x-" keys) and "$schema"
// mean nothing to the teacher or to Ollama's grammar.
func promptSchema(raw json.RawMessage) (orderedObject, error) {
	v, err := decodeOrderedJSON(raw, func(k string) bool { return k == "$schema" || strings.HasPrefix(k, "x-") })
	if err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	obj, ok := v.(orderedObject)
	if !ok {
		return nil, errors.New("schema is not a JSON object")
	}
	return obj, nil
}
