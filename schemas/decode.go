package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// parseJSON checks a file's syntax and duplicate keys and returns the document
// as generic values (objects as map[string]any, numbers as json.Number). A
// syntax error is reported with its line:column, because encoding/json only
// gives a byte offset that nobody can find in an editor.
func parseJSON(ps *problems, file string, data []byte) (any, bool) {
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Offset counts the bytes read including the offending one.
			line, col := lineCol(data, int(se.Offset)-1)
			ps.list = append(ps.list, &Problem{File: file, Line: line, Col: col, Msg: "invalid JSON: " + se.Error()})
		} else {
			ps.add(file, "", "invalid JSON: %v", err)
		}
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	before := ps.len()
	doc, err := readValue(dec, "$", func(path, key string) {
		ps.add(file, path, "duplicate key %q (JSON keeps only the last one)", key)
	})
	if err != nil {
		ps.add(file, "", "read JSON: %v", err)
		return nil, false
	}
	return doc, ps.len() == before
}

// readValue reads one JSON value from dec token by token so that repeated
// object keys, which encoding/json silently overwrites, can be reported.
func readValue(dec *json.Decoder, path string, dup func(path, key string)) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if d == '[' {
		arr := []any{}
		for i := 0; dec.More(); i++ {
			v, err := readValue(dec, jidx(path, i), dup)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token()
		return arr, err
	}
	obj := map[string]any{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := kt.(string)
		v, err := readValue(dec, jkey(path, k), dup)
		if err != nil {
			return nil, err
		}
		if _, seen := obj[k]; seen {
			dup(path, k)
		}
		obj[k] = v
	}
	_, err = dec.Token()
	return obj, err
}

// decodeStrict decodes data into out (a pointer to a catalog metadata struct)
// with unknown keys forbidden. checkKeys runs first over the generic document
// because json.Decoder's unknown-field error names neither the JSON path nor
// case mismatches ("ID" silently matches "id").
func decodeStrict(ps *problems, file string, data []byte, doc any, out any) bool {
	before := ps.len()
	checkKeys(ps, file, "$", doc, reflect.TypeOf(out).Elem())
	if ps.len() > before {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		ps.add(file, "$", "decode: %v", err)
		return false
	}
	return true
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// checkKeys walks a generic JSON value against the Go type it will decode into
// and reports unknown keys and values of the wrong JSON type.
func checkKeys(ps *problems, file, path string, v any, t reflect.Type) {
	if v == nil || t == rawMessageType {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			ps.add(file, path, "want an object, got %s", jsonKind(v))
			return
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			ft, ok := fields[k]
			if !ok {
				ps.add(file, jkey(path, k), "%s", unknownKeyMsg(k, fields))
				continue
			}
			checkKeys(ps, file, jkey(path, k), obj[k], ft)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			ps.add(file, path, "want an array, got %s", jsonKind(v))
			return
		}
		for i, e := range arr {
			checkKeys(ps, file, jidx(path, i), e, t.Elem())
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			ps.add(file, path, "want a string, got %s", jsonKind(v))
		}
	}
}

// unknownKeyMsg names an unknown key and the keys that are allowed.
func unknownKeyMsg(k string, fields map[string]reflect.Type) string {
	names := slices.Sorted(maps.Keys(fields))
	for _, n := range names {
		if strings.EqualFold(n, k) {
			return fmt.Sprintf("unknown key %q (keys are case-sensitive: did you mean %q?)", k, n)
		}
	}
	return fmt.Sprintf("unknown key %q (allowed: %s)", k, strings.Join(names, ", "))
}

// jsonFields maps the json names of a struct's decoded fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

// jsonKind names the JSON type of a generic value for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}
