package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/schemas"
)

// MetaSchemaKey is the key of the Meta field that holds an imported EdgeJSON
// record's JSON Schema. Imported schemas (SNIPS intents, a user's "schema"
// column) are not in the catalog, so they travel with each record; a few hundred
// bytes per row is cheap next to a second lookup table that could drift.
const MetaSchemaKey = "schema"

// RecordSchema returns the JSON Schema an EdgeJSON record carries in its Meta
// (MetaSchemaKey), and false when it carries none (generated records: look the
// cell up in the catalog instead).
func RecordSchema(r datasets.Record) (json.RawMessage, bool) {
	if r.Meta == "" {
		return nil, false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(r.Meta), &m) != nil {
		return nil, false
	}
	s, ok := m[MetaSchemaKey]
	if !ok || len(s) == 0 || string(s) == "null" {
		return nil, false
	}
	return s, true
}

// snipsSchema is one SNIPS intent's generated schema.
type snipsSchema struct {
	id       string
	raw      json.RawMessage
	compiled *jsonschema.Schema
}

// snipsSchemaID returns the EdgeJSON schema id of a SNIPS intent, in the
// catalog's "<domain>.<name>" form: "snips.get_weather".
func snipsSchemaID(intent string) string { return "snips." + snakeCase(intent) }

// SNIPSSchema returns the JSON Schema (draft 2020-12) of a SNIPS intent's slot
// object: every slot optional (an utterance mentions some of them), each a
// non-empty string or, for a slot mentioned more than once, an array of two or
// more strings; no other properties.
func SNIPSSchema(intent string, slots []string) (json.RawMessage, error) {
	props := map[string]any{}
	for _, s := range slots {
		if s == "" {
			return nil, fmt.Errorf("schema of SNIPS intent %s: empty slot name", intent)
		}
		props[s] = map[string]any{"$ref": "#/$defs/slot"}
	}
	doc := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"$defs": map[string]any{"slot": map[string]any{"anyOf": []any{
			map[string]any{"type": "string", "minLength": 1},
			map[string]any{"type": "array", "items": map[string]any{"type": "string", "minLength": 1}, "minItems": 2},
		}}},
		"title":                "SNIPS " + intent + " slots",
		"description":          "Slot values of a SNIPS " + intent + " utterance, as they appear in the text.",
		"type":                 "object",
		"properties":           props,
		"additionalProperties": false,
	}
	raw, err := mustJSON(doc) // map keys marshal sorted: the same slots give the same bytes
	if err != nil {
		return nil, fmt.Errorf("schema of SNIPS intent %s: %w", intent, err)
	}
	return json.RawMessage(raw), nil
}

func newSNIPSSchema(intent string, slots []string) (*snipsSchema, error) {
	slots = slices.Sorted(slices.Values(slots))
	raw, err := SNIPSSchema(intent, slots)
	if err != nil {
		return nil, err
	}
	id := snipsSchemaID(intent)
	compiled, err := compileSchema(id, raw)
	if err != nil {
		return nil, err
	}
	// The measured shape is a sanity check that the generated schema is flat.
	if _, nesting, _, err := schemas.MeasureShape(raw); err != nil || nesting != 0 {
		return nil, fmt.Errorf("schema %s: want a flat object (nesting %d, %v)", id, nesting, err)
	}
	return &snipsSchema{id: id, raw: raw, compiled: compiled}, nil
}

// compileSchema compiles a self-contained draft 2020-12 schema.
func compileSchema(id string, raw json.RawMessage) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", id, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	url := "mem://importer/" + id + ".json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("schema %s: %w", id, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", id, err)
	}
	return sch, nil
}

// validate checks a target object against the schema.
func (s *snipsSchema) validate(v map[string]any) error {
	return validateJSON(s.compiled, v)
}

// validateJSON validates a Go value by its JSON form, since the validator wants
// decoded JSON (json.Number, []any, map[string]any), not arbitrary Go types.
func validateJSON(sch *jsonschema.Schema, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}
