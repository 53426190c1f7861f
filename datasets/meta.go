package datasets

import "encoding/json"

// Keys of Record.Meta that describe what an imported record's task needs and the
// catalog cannot know. They travel with each record, so a dataset from anyone's
// benchmark is self-contained: a few hundred bytes per row is cheap next to a
// lookup table that could drift.
const (
	// MetaSchema holds an EdgeJSON record's JSON Schema (SNIPS intents, a user's
	// schema column). It takes precedence over a catalog schema of the same id.
	MetaSchema = "schema"
	// MetaFunctions holds an EdgeFuncCall record's function docs (BFCL's
	// "function" list: name, description, parameters), offered instead of the
	// catalog's functions.
	MetaFunctions = "functions"
	// MetaSystem holds a record's system messages (a list of strings), shown to
	// the model before the task instruction.
	MetaSystem = "system"
)

// MetaValue returns the raw JSON under key in r.Meta, and false when r.Meta is
// empty, not a JSON object, or has no non-null value there.
func (r *Record) MetaValue(key string) (json.RawMessage, bool) {
	if r.Meta == "" {
		return nil, false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(r.Meta), &m) != nil {
		return nil, false
	}
	v, ok := m[key]
	if !ok || len(v) == 0 || string(v) == "null" {
		return nil, false
	}
	return v, true
}

// MetaStrings returns the list of strings under key in r.Meta (nil when absent or
// not a list of strings).
func (r *Record) MetaStrings(key string) []string {
	raw, ok := r.MetaValue(key)
	if !ok {
		return nil
	}
	var out []string
	if json.Unmarshal(raw, &out) != nil {
		return nil
	}
	return out
}
