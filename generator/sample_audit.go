package generator

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/cyclecore/mlmforge/schemas"
)

// ListLeaves calls f with the value generator and the value of every string
// leaf of an EdgeJSON or EdgeFuncCall target that the sampler draws from a
// generator (enum, pattern and format leaves are not drawn from lists), so
// that holdout audits can check each value against its side of the list.
// schemaID names an EdgeJSON target's schema; other tasks have no leaves here.
func ListLeaves(cat *schemas.Catalog, task schemas.Task, schemaID string, target json.RawMessage, f func(gen, value string)) error {
	ts, err := samplerFor(cat)
	if err != nil {
		return err
	}
	switch task {
	case schemas.EdgeJSON:
		dec := json.NewDecoder(bytes.NewReader(target))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("decode %s target: %w", schemaID, err)
		}
		listLeaves(ts.schemas[schemaID], v, f)
	case schemas.EdgeFuncCall:
		var ft FuncCallTarget
		if err := json.Unmarshal(target, &ft); err != nil {
			return fmt.Errorf("decode function-call target: %w", err)
		}
		for _, turn := range ft.Turns {
			for _, c := range turn.Calls {
				if fi, ok := ts.funcs[c.Name]; ok {
					listLeaves(fi.params, any(c.Arguments), f)
				}
			}
		}
	}
	return nil
}

// listLeaves walks v along its schema node n.
func listLeaves(n *valueNode, v any, f func(gen, value string)) {
	if n == nil {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		for _, p := range n.props {
			if pv, ok := x[p.name]; ok {
				listLeaves(p, pv, f)
			}
		}
	case []any:
		for _, it := range x {
			listLeaves(n.items, it, f)
		}
	case string:
		if n.gen != "" && len(n.enum) == 0 && n.pattern == "" && n.format == "" {
			f(n.gen, x)
		}
	}
}
