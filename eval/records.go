package eval

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/schemas"
)

// What a record's answer must match, shared by the scorer, the runners'
// prompts and the constrained-decoding masks, so that all three judge an
// imported record by its own schema and functions.

// RecordSchema returns the JSON Schema an EdgeJSON record's answer must
// match: the schema an importer stored in Meta.schema (a user's own schema,
// even when its cell happens to name a catalog schema), else the catalog
// schema its cell names. An error names the record.
func RecordSchema(cat *schemas.Catalog, r *datasets.Record) (json.RawMessage, error) {
	if s, ok := metaSchema(r); ok {
		return s, nil
	}
	s, err := cat.Schema(r.Cell)
	if err != nil {
		return nil, fmt.Errorf("record %s: no schema: meta has none and field cell: %w", r.ID, err)
	}
	return s.Schema, nil
}

// metaSchema returns Meta.schema when set and not null.
func metaSchema(r *datasets.Record) (json.RawMessage, bool) {
	if r.Meta == "" {
		return nil, false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(r.Meta), &m) != nil {
		return nil, false
	}
	s, ok := m["schema"]
	if !ok || len(s) == 0 || string(s) == "null" {
		return nil, false
	}
	return s, true
}

// RecordFunctions returns the functions an EdgeFuncCall record offers, as
// catalog functions with JSON Schema parameters: an imported BFCL case's own
// docs (converted by BFCLToJSONSchema), else nil and false (a generated
// record: its functions are the catalog's).
func RecordFunctions(r *datasets.Record) ([]*schemas.Function, bool, error) {
	b, err := bfclCase(r)
	if err != nil || b == nil {
		return nil, false, err
	}
	out := make([]*schemas.Function, 0, len(b.funcs))
	for _, f := range b.funcs {
		params, err := json.Marshal(BFCLToJSONSchema(&f.Parameters))
		if err != nil {
			return nil, false, fmt.Errorf("record %s: function %s: %w", r.ID, f.Name, err)
		}
		out = append(out, &schemas.Function{Name: f.Name, Description: f.Description, Parameters: params})
	}
	return out, true, nil
}

// BFCLToJSONSchema converts a BFCL parameter schema to JSON Schema: dict is
// object, float number, tuple array, any a schema without a type; enums,
// items, properties and required carry over.
func BFCLToJSONSchema(p *BFCLParam) map[string]any {
	out := map[string]any{}
	switch p.Type {
	case "dict":
		out["type"] = "object"
	case "float":
		out["type"] = "number"
	case "tuple":
		out["type"] = "array"
	case "any", "":
	default:
		out["type"] = p.Type
	}
	if p.Description != "" {
		out["description"] = p.Description
	}
	if len(p.Enum) > 0 {
		out["enum"] = p.Enum
	}
	if p.Items != nil {
		out["items"] = BFCLToJSONSchema(p.Items)
	}
	if len(p.Properties) > 0 {
		props := map[string]any{}
		for _, k := range slices.Sorted(maps.Keys(p.Properties)) {
			props[k] = BFCLToJSONSchema(p.Properties[k])
		}
		out["properties"] = props
	}
	if len(p.Required) > 0 {
		out["required"] = p.Required
	}
	return out
}
