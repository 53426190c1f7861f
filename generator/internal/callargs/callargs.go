// Package callargs holds what the mock world (generator) and the validators
// (generator/validate) both need of function-call arguments: their canonical
// form, readable schema errors, and mock ids.
package callargs

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/cyclecore/mlmforge/schemas"
)

// Canonical deep-copies arguments into encoding/json's generic types, so
// that records never alias the caller's maps and compare with reflect.DeepEqual.
func Canonical(args map[string]any) (map[string]any, error) {
	b, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("arguments are not JSON: %w", err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("arguments are not a JSON object: %w", err)
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

var argPrinter = message.NewPrinter(language.English)

// DescribeSchemaError turns a schema violation into one message per offending
// property, each named with noun ("argument", "field"), e.g.
// `argument "brightness": maximum: got 150, want 100`.
func DescribeSchemaError(err error, noun string) error {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("invalid %ss: %w", noun, err)
	}
	var msgs []string
	for _, leaf := range validationLeaves(ve) {
		msgs = append(msgs, describeSchemaLeaf(leaf, noun))
	}
	sort.Strings(msgs)
	return errors.New(strings.Join(msgs, "; "))
}

// DescribeArgError is DescribeSchemaError for function arguments.
func DescribeArgError(err error) error { return DescribeSchemaError(err, "argument") }

// validationLeaves returns the innermost causes of a validation error.
func validationLeaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, validationLeaves(c)...)
	}
	return out
}

// describeSchemaLeaf names the property of one violation.
func describeSchemaLeaf(e *jsonschema.ValidationError, noun string) string {
	loc := e.InstanceLocation
	if len(loc) == 0 {
		switch k := e.ErrorKind.(type) {
		case *kind.Required:
			return fmt.Sprintf("missing required %s %s", plural(noun, len(k.Missing)), quoteAll(k.Missing))
		case *kind.AdditionalProperties:
			return fmt.Sprintf("unknown %s %s (not in the schema)", plural(noun, len(k.Properties)), quoteAll(k.Properties))
		}
		return noun + "s: " + e.ErrorKind.LocalizedString(argPrinter)
	}
	p := loc[0]
	for _, tok := range loc[1:] {
		if n, err := strconv.Atoi(tok); err == nil && n >= 0 {
			p += "[" + tok + "]"
		} else {
			p += "." + tok
		}
	}
	return fmt.Sprintf("%s %q: %s", noun, p, e.ErrorKind.LocalizedString(argPrinter))
}

// plural adds an "s" to noun when n is not 1.
func plural(noun string, n int) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// quoteAll quotes names and joins them with commas.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// catalogCollections caches each catalog's set of mock collections; catalogs
// are read-only once loaded.
var catalogCollections sync.Map // *schemas.Catalog -> map[string]bool

// collectionsOf returns the mock collections of a catalog.
func collectionsOf(cat *schemas.Catalog) map[string]bool {
	if v, ok := catalogCollections.Load(cat); ok {
		return v.(map[string]bool)
	}
	cs := map[string]bool{}
	for _, f := range cat.Functions {
		cs[f.Mock.Collection] = true
	}
	v, _ := catalogCollections.LoadOrStore(cat, cs)
	return v.(map[string]bool)
}

// MockIDCollection returns the collection a mock id such as
// "calendar_events_2" belongs to, or "" if v is not one.
func MockIDCollection(cat *schemas.Catalog, v any) string {
	s, ok := v.(string)
	if !ok {
		return ""
	}
	i := strings.LastIndexByte(s, '_')
	if i <= 0 || i == len(s)-1 {
		return ""
	}
	if n, err := strconv.Atoi(s[i+1:]); err != nil || n < 1 || s[i+1] == '0' {
		return ""
	}
	if !collectionsOf(cat)[s[:i]] {
		return ""
	}
	return s[:i]
}
