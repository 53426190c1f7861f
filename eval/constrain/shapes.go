package constrain

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// IntentSchema returns the schema of an EdgeIntent answer: {"intent": label},
// the label one of labels. With slots, an optional "slots" object of string
// values may follow (the gold target's shape); without, the answer is the
// label alone, which is what a classifier's score depends on.
func IntentSchema(labels []string, slots bool) (json.RawMessage, error) {
	if len(labels) == 0 {
		return nil, fmt.Errorf("intent schema: no labels")
	}
	props := map[string]any{"intent": map[string]any{"type": "string", "enum": labels}}
	if slots {
		props["slots"] = map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}
	}
	return marshalSchema(map[string]any{
		"type": "object", "additionalProperties": false,
		"required": []string{"intent"}, "properties": props,
	})
}

// FuncCallSchema returns the schema of an EdgeFuncCall answer, the gold
// target's shape without scenario and final state:
//
//	{"turns":[{"action":"call"|"ask"|"none","calls":[{"name":…,"arguments":{…}}],"missing":[…],"invalid":[…]}]}
//
// Simplification: "name" is an enum of the candidates, and "arguments" is one
// object whose properties are the union of the candidates' parameters (no
// required ones), not an anyOf keyed by name; a parameter that two functions
// declare differently gets a schema that accepts both (see mergeSchemas).
// "missing" and "invalid" hold parameter names of the union. That the action
// matches the calls ("call" with calls, "ask" with missing or invalid) is left
// to the model.
func FuncCallSchema(funcs []*schemas.Function) (json.RawMessage, error) {
	if len(funcs) == 0 {
		return nil, fmt.Errorf("funccall schema: no functions")
	}
	var names []string
	params := map[string]map[string]any{}
	for _, f := range funcs {
		names = append(names, f.Name)
		var p struct {
			Properties map[string]map[string]any `json:"properties"`
		}
		if err := json.Unmarshal(f.Parameters, &p); err != nil {
			return nil, fmt.Errorf("funccall schema: function %s parameters: %w", f.Name, err)
		}
		for k, s := range p.Properties {
			if prev, ok := params[k]; ok {
				params[k] = mergeSchemas(prev, s)
			} else {
				params[k] = s
			}
		}
	}
	paramNames := slices.Sorted(maps.Keys(params))
	nameList := map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": paramNames}}
	if len(paramNames) == 0 {
		nameList = map[string]any{"type": "array", "maxItems": 0}
	}
	call := map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"name", "arguments"},
		"properties": map[string]any{
			"name":      map[string]any{"type": "string", "enum": names},
			"arguments": map[string]any{"type": "object", "additionalProperties": false, "properties": params},
		},
	}
	turn := map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"action"},
		"properties": map[string]any{
			"action":  map[string]any{"type": "string", "enum": []string{generator.ActionCall, generator.ActionAsk, generator.ActionNone}},
			"calls":   map[string]any{"type": "array", "items": call},
			"missing": nameList,
			"invalid": nameList,
		},
	}
	return marshalSchema(map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"turns"},
		"properties": map[string]any{"turns": map[string]any{"type": "array", "minItems": 1, "items": turn}},
	})
}

// mergeSchemas returns a schema accepting what either a or b accepts (often
// more): the same type keeps the common constraints widened (bounds and
// enums joined, differing patterns dropped, object properties merged
// recursively with no required ones); different types become an anyOf.
func mergeSchemas(a, b map[string]any) map[string]any {
	if reflect.DeepEqual(a, b) {
		return a
	}
	if alts, ok := a["anyOf"].([]any); ok {
		return mergeIntoAlternatives(alts, b)
	}
	ta, tb := schemaType(a), schemaType(b)
	if ta != tb || ta == "" {
		if (ta == "integer" || ta == "number") && (tb == "integer" || tb == "number") {
			ta = "number"
		} else {
			return map[string]any{"anyOf": []any{a, b}}
		}
	}
	out := map[string]any{"type": ta}
	switch ta {
	case "string":
		if ea, eb := a["enum"], b["enum"]; ea != nil && eb != nil {
			out["enum"] = unionList(ea, eb)
		}
		if reflect.DeepEqual(a["pattern"], b["pattern"]) && a["pattern"] != nil {
			out["pattern"] = a["pattern"]
		}
	case "integer", "number":
		widenBound(out, a, b, "minimum", math.Min)
		widenBound(out, a, b, "maximum", math.Max)
	case "array":
		ia, _ := a["items"].(map[string]any)
		ib, _ := b["items"].(map[string]any)
		if ia != nil && ib != nil {
			out["items"] = mergeSchemas(ia, ib)
		}
		widenBound(out, a, b, "minItems", math.Min)
		widenBound(out, a, b, "maxItems", math.Max)
	case "object":
		pa, _ := a["properties"].(map[string]any)
		pb, _ := b["properties"].(map[string]any)
		props := maps.Clone(pa)
		for k, v := range pb {
			prev, okA := props[k].(map[string]any)
			vm, okB := v.(map[string]any)
			if okA && okB {
				props[k] = mergeSchemas(prev, vm)
			} else if !okA {
				props[k] = v
			}
		}
		out["properties"] = props
		// Free keys stay allowed when either side allows them; a property
		// is required only when both sides require it.
		if a["additionalProperties"] == false && b["additionalProperties"] == false {
			out["additionalProperties"] = false
		}
		if req := intersectStrings(a["required"], b["required"]); len(req) > 0 {
			out["required"] = req
		}
	}
	return out
}

// intersectStrings returns the strings two JSON arrays (or []string) share,
// in a's order.
func intersectStrings(a, b any) []any {
	toList := func(v any) []string {
		switch x := v.(type) {
		case []string:
			return x
		case []any:
			var out []string
			for _, e := range x {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
		return nil
	}
	lb := toList(b)
	var out []any
	for _, s := range toList(a) {
		if slices.Contains(lb, s) {
			out = append(out, s)
		}
	}
	return out
}

// mergeIntoAlternatives merges s into the alternative of the same type, or
// appends it as a new alternative.
func mergeIntoAlternatives(alts []any, s map[string]any) map[string]any {
	out := slices.Clone(alts)
	for i, a := range out {
		if am, ok := a.(map[string]any); ok && schemaType(am) == schemaType(s) && schemaType(s) != "" {
			out[i] = mergeSchemas(am, s)
			return map[string]any{"anyOf": out}
		}
	}
	return map[string]any{"anyOf": append(out, s)}
}

// schemaType returns a schema's single type, "" when it has none or several.
func schemaType(s map[string]any) string {
	t, _ := s["type"].(string)
	return t
}

// widenBound sets out[k] to pick(a[k], b[k]) when both set it.
func widenBound(out, a, b map[string]any, k string, pick func(x, y float64) float64) {
	x, okA := a[k].(float64)
	y, okB := b[k].(float64)
	if okA && okB {
		out[k] = pick(x, y)
	}
}

// unionList joins two JSON arrays, keeping the first occurrence of each value.
func unionList(a, b any) []any {
	la, _ := a.([]any)
	lb, _ := b.([]any)
	out := slices.Clone(la)
	for _, v := range lb {
		if !slices.ContainsFunc(out, func(x any) bool { return reflect.DeepEqual(x, v) }) {
			out = append(out, v)
		}
	}
	return out
}

// marshalSchema encodes a schema built from Go values.
func marshalSchema(s map[string]any) (json.RawMessage, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	return b, nil
}
