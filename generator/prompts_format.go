package generator

import (
	"encoding/json"
	"fmt"

	"github.com/cyclecore/mlmforge/schemas"
)

// answerFormat is the JSON schema of the answer (Prompt.Format): Ollama
// constrains decoding to it, so a well-behaved model cannot answer in another
// shape. The input comes first so that the model writes the text before it
// labels it.
//
//	LabelFirst:    {"input": string}          or {"turns": [string, ...]} for multi_turn
//	TeacherLabels: {"input": string, "target": T} or {"turns": [...], "target": T}
//	Extract:       {"target": T}
func answerFormat(cat *schemas.Catalog, d *promptData, s Sample) (json.RawMessage, error) {
	props := orderedObject{}
	var required []any
	if d.Mode != Extract {
		if d.Dialogue {
			props = append(props, orderedField{"turns", orderedObject{
				{"type", "array"},
				{"description", "The user's messages, one per turn, in order"},
				{"items", orderedObject{{"type", "string"}, {"minLength", 1}}},
				{"minItems", d.MinTurns},
				{"maxItems", d.MaxTurns},
			}})
			required = append(required, "turns")
		} else {
			props = append(props, orderedField{"input", orderedObject{
				{"type", "string"}, {"description", "The text the user writes"}, {"minLength", 1},
			}})
			required = append(required, "input")
		}
	}
	if d.Mode != LabelFirst {
		target, err := targetAnswerFormat(cat, d, s)
		if err != nil {
			return nil, err
		}
		props = append(props, orderedField{"target", target})
		required = append(required, "target")
	}
	b, err := promptJSON(closedObjectSchema(props, required), false)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// closedObjectSchema is a closed object schema.
func closedObjectSchema(props orderedObject, required []any) orderedObject {
	if required == nil {
		required = []any{}
	}
	return orderedObject{
		{"type", "object"},
		{"properties", props},
		{"required", required},
		{"additionalProperties", false},
	}
}

// targetAnswerFormat is the schema of the target for the cell's task.
func targetAnswerFormat(cat *schemas.Catalog, d *promptData, s Sample) (orderedObject, error) {
	switch s.Cell.Task {
	case schemas.EdgeJSON:
		js, err := cat.Schema(s.Cell.SchemaID)
		if err != nil {
			return nil, err
		}
		return promptSchema(js.Schema)
	case schemas.EdgeIntent:
		return intentAnswerFormat(cat, d, s)
	case schemas.EdgeFuncCall:
		return funcCallAnswerFormat(cat, d)
	}
	return nil, fmt.Errorf("unknown task %q", s.Cell.Task)
}

// intentAnswerFormat is IntentTarget's schema. The intent may be any class of the
// taxonomy even when the cell names one, so that a teacher that mislabels is
// caught by the label check rather than hidden by the grammar.
func intentAnswerFormat(cat *schemas.Catalog, d *promptData, s Sample) (orderedObject, error) {
	tax, err := cat.Taxonomy(s.Cell.Taxonomy)
	if err != nil {
		return nil, err
	}
	ids := make([]any, len(tax.Classes))
	for i, c := range tax.Classes {
		ids[i] = c.ID
	}
	slots := orderedObject{{"type", "object"}, {"additionalProperties", orderedObject{{"type", "string"}}}}
	if d.Class != nil {
		props := orderedObject{}
		for _, c := range tax.Classes {
			if c.ID != d.Class.ID {
				continue
			}
			for _, sl := range c.Slots {
				p := orderedObject{{"type", "string"}}
				if len(sl.Values) > 0 {
					vals := make([]any, len(sl.Values))
					for i, v := range sl.Values {
						vals[i] = v
					}
					p = append(p, orderedField{"enum", vals})
				}
				props = append(props, orderedField{sl.Name, p})
			}
		}
		slots = closedObjectSchema(props, nil)
	}
	return closedObjectSchema(orderedObject{
		{"intent", orderedObject{{"type", "string"}, {"enum", ids}}},
		{"slots", slots},
	}, []any{"intent"}), nil
}

// funcCallAnswerFormat is FuncCallTarget's schema without final_state, which the
// pipeline computes by executing the calls. Each call is one of the prompt's
// tools with that tool's parameter schema.
func funcCallAnswerFormat(cat *schemas.Catalog, d *promptData) (orderedObject, error) {
	var scenarios []any
	switch {
	case d.Scenario != "":
		scenarios = []any{d.Scenario}
	default: // Extract of a single message: the scenario is part of the answer
		for _, sc := range schemas.Scenarios {
			if sc != schemas.MultiTurn {
				scenarios = append(scenarios, string(sc))
			}
		}
	}
	var calls []any
	for _, t := range d.Tools {
		f, err := cat.Function(t.Name)
		if err != nil {
			return nil, err
		}
		params, err := promptSchema(f.Parameters)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		}
		calls = append(calls, closedObjectSchema(orderedObject{
			{"name", orderedObject{{"type", "string"}, {"const", f.Name}}},
			{"arguments", params},
		}, []any{"name", "arguments"}))
	}
	call := closedObjectSchema(orderedObject{
		{"name", orderedObject{{"type", "string"}}},
		{"arguments", orderedObject{{"type", "object"}}},
	}, []any{"name", "arguments"})
	if len(calls) > 0 {
		call = orderedObject{{"anyOf", calls}}
	}
	names := orderedObject{{"type", "array"}, {"items", orderedObject{{"type", "string"}}}}
	turn := closedObjectSchema(orderedObject{
		{"action", orderedObject{{"type", "string"}, {"enum", []any{ActionCall, ActionAsk, ActionNone}}}},
		{"calls", orderedObject{{"type", "array"}, {"items", call}}},
		{"missing", names},
		{"invalid", names},
	}, []any{"action"})
	return closedObjectSchema(orderedObject{
		{"scenario", orderedObject{{"type", "string"}, {"enum", scenarios}}},
		{"turns", orderedObject{{"type", "array"}, {"items", turn}, {"minItems", d.MinTurns}, {"maxItems", d.MaxTurns}}},
	}, []any{"scenario", "turns"}), nil
}
