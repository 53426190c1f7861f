package eval

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// BFCL's checker runs on Python values, so the AST checker converts decoded
// JSON into the same shapes Python's json.loads gives: an integer literal is
// an int (int64), a literal with '.', 'e' or 'E' is a float (float64), and
// equality follows Python's == (1 == 1.0, True == 1).

// toPy converts a decoded JSON value (json.Number numbers) into Python-like
// values: nil, bool, string, int64, float64, []any, map[string]any.
func toPy(v any) any {
	switch x := v.(type) {
	case json.Number:
		return pyNumber(string(x))
	case int:
		return int64(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toPy(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toPy(e)
		}
		return out
	}
	return v
}

// pyNumber is json.loads on a number literal: int when it has no fraction
// or exponent and fits int64, float otherwise.
func pyNumber(lit string) any {
	if !strings.ContainsAny(lit, ".eE") {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return n
		}
	}
	f, _ := strconv.ParseFloat(lit, 64)
	return f
}

// pyType names a value's Python type as type(v).__name__ does.
func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return "unknown"
}

// pyNum returns a numeric value (bool counts as 0/1, as in Python) as float64.
func pyNum(v any) (float64, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// pyEqual is Python's == on JSON-shaped values.
func pyEqual(a, b any) bool {
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			return x == y
		}
	}
	if x, ok := pyNum(a); ok {
		y, ok := pyNum(b)
		return ok && x == y
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !pyEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !pyEqual(xv, yv) {
				return false
			}
		}
		return true
	}
	return false
}

// pyIn is Python's `v in list`.
func pyIn(v any, list []any) bool {
	for _, e := range list {
		if pyEqual(v, e) {
			return true
		}
	}
	return false
}

// containsOptional reports whether "" (BFCL's "may be omitted") is acceptable.
func containsOptional(list []any) bool {
	for _, e := range list {
		if s, ok := e.(string); ok && s == "" {
			return true
		}
	}
	return false
}

// bfclStripRe is the character class BFCL's standardize_string removes.
var bfclStripRe = regexp.MustCompile(`[ ,./\-_*^]`)

// standardizeString is BFCL's standardize_string: drop spaces and the
// punctuation ,./-_*^, lowercase, and turn single quotes into double quotes,
// so "April 1, 2024" equals "april 1 2024".
func standardizeString(s string) string {
	return strings.ReplaceAll(strings.ToLower(bfclStripRe.ReplaceAllString(s, "")), "'", `"`)
}

// standardizeAll standardizes the strings of a list and keeps other values.
func standardizeAll(list []any) []any {
	out := make([]any, len(list))
	for i, e := range list {
		if s, ok := e.(string); ok {
			out[i] = standardizeString(s)
		} else {
			out[i] = e
		}
	}
	return out
}
