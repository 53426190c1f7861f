package schemas

import "encoding/json"

// Complexity is an EdgeJSON schema's level, as defined by SLM-Bench and checked
// against the schema's measured shape when the catalog loads:
//
//	simple:  3-5 fields, flat (no nested objects, no arrays)
//	medium:  8-12 fields, 1-2 nesting levels, at least one array
//	complex: 15+ fields, 3+ nesting levels, at least one array
//
// Fields counts every named property at every level (an object-valued property
// counts itself and its children). Nesting is the number of object levels below
// the root: {"a":{"b":1}} has 1, and an array of objects counts as a level.
type Complexity string

// The EdgeJSON complexity levels.
const (
	Simple  Complexity = "simple"
	Medium  Complexity = "medium"
	Complex Complexity = "complex"
)

// Complexities lists the levels in order.
var Complexities = []Complexity{Simple, Medium, Complex}

// JSONSchema is one EdgeJSON extraction target: a JSON Schema (draft 2020-12)
// plus the metadata the pipeline needs to sample targets and group results.
// One file per schema under catalog/edgejson/.
type JSONSchema struct {
	// ID is unique across the EdgeJSON catalog, "<domain>.<name>", e.g. "ecommerce.order_summary".
	ID string `json:"id"`
	// Domain groups schemas for reporting, e.g. "ecommerce", "iot", "finance".
	Domain string `json:"domain"`
	// Title is a short human name.
	Title string `json:"title"`
	// Description says what kind of text the schema is extracted from.
	Description string `json:"description"`
	// Complexity is the declared level; loading checks it against the measured shape.
	Complexity Complexity `json:"complexity"`
	// Schema is the JSON Schema document. Every property carries a "description";
	// leaves carry value generators: "enum", "minimum"/"maximum" for numbers,
	// "format" (email, date, date-time, time, phone, uri, uuid) or "x-gen" (a
	// generator name from Generators) for strings, "minItems"/"maxItems" for arrays.
	Schema json.RawMessage `json:"schema"`

	// File is the catalog file the schema came from (set by the loader).
	File string `json:"-"`
	// Fields and Nesting are the measured shape (set by the loader).
	Fields  int `json:"-"`
	Nesting int `json:"-"`
	// HasArray is true when some property at any level is an array (set by the loader).
	HasArray bool `json:"-"`
}

// Slot is a typed hole in an intent pattern, e.g. {city} in "weather in {city}".
type Slot struct {
	// Name is the placeholder used in patterns, lower snake case.
	Name string `json:"name"`
	// Gen names a value generator from Generators; exactly one of Gen and Values is set.
	Gen string `json:"gen,omitempty"`
	// Values is a closed list of surface values for the slot.
	Values []string `json:"values,omitempty"`
}

// IntentClass is one class of an EdgeIntent taxonomy.
type IntentClass struct {
	// ID is unique within its taxonomy, lower snake case, e.g. "set_timer".
	ID string `json:"id"`
	// Description tells a human reviewer what belongs in the class and what does not.
	Description string `json:"description"`
	// Slots are the entities utterances of this class may mention.
	Slots []Slot `json:"slots,omitempty"`
	// Patterns are at least 3 utterance templates; {name} references a slot.
	Patterns []string `json:"patterns"`
}

// Taxonomy is an EdgeIntent label set of 50, 100 or 200 classes. One file per
// taxonomy under catalog/edgeintent/.
type Taxonomy struct {
	// ID names the variant, e.g. "assistant-50".
	ID string `json:"id"`
	// Domain is the taxonomy's setting: assistant, ecommerce or enterprise.
	Domain string `json:"domain"`
	// Description says who would use this classifier.
	Description string `json:"description"`
	// Classes are the labels; len(Classes) is the variant's size.
	Classes []IntentClass `json:"classes"`

	// File is the catalog file the taxonomy came from (set by the loader).
	File string `json:"-"`
}

// MockOp says how the stateful mock implementation of a function changes or
// reads the mock world, so that dialogues can be executed (BFCL-style) and the
// state after a conversation compared with the gold state.
type MockOp string

// The mock operations.
const (
	// MockRead returns the records of Collection that match the arguments; no change.
	MockRead MockOp = "read"
	// MockCreate appends a new record (the arguments) to Collection and returns its id.
	MockCreate MockOp = "create"
	// MockUpsert sets Collection[args[Key]] to the arguments, merged over any existing record.
	MockUpsert MockOp = "upsert"
	// MockDelete removes Collection[args[Key]]; it fails if the record does not exist.
	MockDelete MockOp = "delete"
)

// Mock describes a function's mock implementation.
type Mock struct {
	// Op is one of read, create, upsert, delete.
	Op MockOp `json:"op"`
	// Collection is the part of the mock world the function touches, e.g. "lights", "calendar_events".
	Collection string `json:"collection"`
	// Key is the parameter that identifies a record, required for upsert and delete.
	Key string `json:"key,omitempty"`
}

// Function is one callable of the EdgeFuncCall catalog.
type Function struct {
	// Name is unique across the catalog, lower snake case, prefixed by its domain area, e.g. "lights_set_brightness".
	Name string `json:"name"`
	// Description is what a model sees in the tool list.
	Description string `json:"description"`
	// Parameters is a JSON Schema (draft 2020-12) object schema; every property has a
	// "description" and value generators as in JSONSchema.Schema; "required" lists
	// the parameters a call must fill.
	Parameters json.RawMessage `json:"parameters"`
	// Patterns are at least 2 request templates; {name} (or {parent.child}) references a parameter.
	Patterns []string `json:"patterns"`
	// Mock is how the function's stateful mock implementation behaves.
	Mock Mock `json:"mock"`

	// Domain is copied from the file's domain by the loader.
	Domain string `json:"-"`
	// File is the catalog file the function came from (set by the loader).
	File string `json:"-"`
}

// FunctionDomain is one file of the EdgeFuncCall catalog: the functions of one
// application area. One file per domain under catalog/edgefunccall/.
type FunctionDomain struct {
	// Domain names the area, e.g. "lights", "calendar".
	Domain string `json:"domain"`
	// Description says what the area covers.
	Description string `json:"description"`
	// Functions are the area's callables.
	Functions []Function `json:"functions"`
}

// Scenario is an EdgeFuncCall example kind.
type Scenario string

// The EdgeFuncCall scenario kinds.
const (
	// SingleTurn: one request, one correct call.
	SingleTurn Scenario = "single_turn"
	// MultiTurn: a 2-3 turn dialogue whose later turns depend on earlier calls.
	MultiTurn Scenario = "multi_turn"
	// MissingParam: a required parameter is missing; the model must ask for it, not guess.
	MissingParam Scenario = "missing_param"
	// InvalidValue: a value breaks the parameter's schema; the model must ask for a valid one.
	InvalidValue Scenario = "invalid_value"
	// Irrelevant: no function fits; the model must make no call.
	Irrelevant Scenario = "irrelevant"
)

// Scenarios lists the scenario kinds in order.
var Scenarios = []Scenario{SingleTurn, MultiTurn, MissingParam, InvalidValue, Irrelevant}

// IrrelevantRequests is catalog/edgefunccall/irrelevant.json: requests that no
// catalog function serves (chit-chat, general knowledge, out-of-catalog actions).
type IrrelevantRequests struct {
	// Requests are plain utterances, at least 30.
	Requests []string `json:"requests"`
}
