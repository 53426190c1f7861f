// Package pipelinespec reads pipeline spec files (docs/pipeline.md): YAML or
// JSON decoded strictly into workflows.PipelineSpec, defaults filled, and every
// field checked that can be checked before a run. It imports no Temporal
// server, so its tests and fuzz target stay small.
package pipelinespec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// docSeparator separates YAML documents.
var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// Load reads a pipeline spec file (YAML or JSON, every field in
// docs/pipeline.md), fills the defaults and checks everything that can be
// checked before a run. Every error names the file and the field.
func Load(path string) (workflows.PipelineSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return workflows.PipelineSpec{}, fmt.Errorf("pipeline spec: %w", err)
	}
	s, err := Parse(b)
	if err != nil {
		return workflows.PipelineSpec{}, fmt.Errorf("pipeline spec %s: %w", path, err)
	}
	return s, nil
}

// Parse decodes, defaults and validates the bytes of a spec file.
func Parse(b []byte) (workflows.PipelineSpec, error) {
	var s workflows.PipelineSpec
	// YAMLToJSON would silently drop every document after the first.
	docs := 0
	for _, d := range docSeparator.Split(string(b), -1) {
		for l := range strings.Lines(d) {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				docs++
				break
			}
		}
	}
	if docs > 1 {
		return s, errors.New("more than one YAML document (---): a spec file holds one pipeline")
	}
	js, err := yaml.YAMLToJSON(b)
	if err != nil {
		return s, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, decodeError(js, err)
	}
	fillDefaults(&s)
	return s, validate(s)
}

// decodeError turns encoding/json's errors into ones that name the field with
// its full path: encoding/json names neither the path of an unknown field nor
// the list index or map key of a value of the wrong type.
func decodeError(js []byte, err error) error {
	var doc any
	if json.Unmarshal(js, &doc) != nil {
		return err
	}
	bad := findBadField(doc, reflect.TypeFor[workflows.PipelineSpec](), "")
	switch {
	case bad.path == "":
		return err
	case bad.want != "":
		return fmt.Errorf("%s: want %s, got %s", bad.path, bad.want, bad.got)
	}
	msg := fmt.Sprintf("unknown field %q", bad.path)
	leaf := bad.path[strings.LastIndexAny(bad.path, ".]")+1:]
	if near := nearest(leaf, bad.known); near != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", near)
	}
	return errors.New(msg)
}

// badField is the first problem findBadField met: an unknown key (with the
// names valid there) or a value of the wrong kind.
type badField struct {
	path      string
	known     []string
	want, got string
}

// findBadField walks a decoded document along the Go type it decodes into and
// reports the first unknown key or mismatched value, keys in sorted order.
func findBadField(v any, t reflect.Type, path string) badField {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) || t.Kind() == reflect.Interface || v == nil {
		return badField{}
	}
	if want, ok := kindMatches(v, t); !ok {
		return badField{path: path, want: want, got: describeValue(v)}
	}
	switch x := v.(type) {
	case map[string]any:
		var fields map[string]jsonField
		if t.Kind() == reflect.Struct {
			fields = jsonFields(t)
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			var elem reflect.Type
			if fields == nil {
				elem = t.Elem()
			} else {
				f, ok := fields[strings.ToLower(k)] // encoding/json matches names case-insensitively
				if !ok {
					known := make([]string, 0, len(fields))
					for _, f := range fields {
						known = append(known, f.name)
					}
					slices.Sort(known)
					return badField{path: joinPath(path, k), known: known}
				}
				elem = f.typ
			}
			if bad := findBadField(x[k], elem, joinPath(path, k)); bad.path != "" {
				return bad
			}
		}
	case []any:
		for i, e := range x {
			if bad := findBadField(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); bad.path != "" {
				return bad
			}
		}
	}
	return badField{}
}

// kindMatches says whether a decoded JSON value fits a Go type, and if not
// what the type wants in words.
func kindMatches(v any, t reflect.Type) (string, bool) {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		_, ok := v.(map[string]any)
		return "a mapping", ok
	case reflect.Slice, reflect.Array:
		_, ok := v.([]any)
		return "a list", ok || t.Elem().Kind() == reflect.Uint8 // []byte takes a string
	case reflect.String:
		_, ok := v.(string)
		return "a string", ok
	case reflect.Bool:
		_, ok := v.(bool)
		return "true or false", ok
	case reflect.Float32, reflect.Float64:
		_, ok := v.(float64)
		return "a number", ok
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		f, ok := v.(float64)
		return "an integer", ok && f == float64(int64(f))
	}
	return "", true
}

func describeValue(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields maps the lower-cased JSON names of a struct's fields to the field.
func jsonFields(t reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
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
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				maps.Copy(out, jsonFields(f.Type))
				continue
			}
			name = f.Name
		}
		out[strings.ToLower(name)] = jsonField{name, f.Type}
	}
	return out
}

// nearest returns the known name closest to s by edit distance, if it is
// close enough to be a likely misspelling.
func nearest(s string, known []string) string {
	best, bestD := "", len(s)/2+1
	for _, k := range known {
		if d := schemas.EditDistance(strings.ToLower(s), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}
