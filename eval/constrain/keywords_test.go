package constrain

import (
	"encoding/json"
	"fmt"
	"testing"
)

// structuredSchema uses what real structured-output schemas use: $defs and
// $ref (a recursive tree), draft-07 definitions, allOf, anyOf over objects,
// a required property that is not declared, prefixItems, uniqueItems and
// minimum next to exclusiveMinimum.
const structuredSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object", "additionalProperties": false,
  "required": ["kind", "owner", "point"],
  "$defs": {
    "person": {"type": "object", "additionalProperties": false, "required": ["name"],
      "properties": {"name": {"type": "string", "minLength": 1}, "age": {"type": "integer", "minimum": 0}}},
    "tree": {"type": "object", "additionalProperties": false, "required": ["v"],
      "properties": {"v": {"type": "integer"}, "kids": {"type": "array", "items": {"$ref": "#/$defs/tree"}}}}
  },
  "definitions": {"money": {"type": "number", "minimum": 0, "exclusiveMinimum": 0}},
  "properties": {
    "kind": {"enum": ["a", "b"]},
    "owner": {"$ref": "#/$defs/person"},
    "manager": {"allOf": [{"$ref": "#/$defs/person"}, {"required": ["age"]}]},
    "price": {"$ref": "#/definitions/money"},
    "tree": {"$ref": "#/$defs/tree"},
    "contact": {"oneOf": [
      {"type": "object", "additionalProperties": false, "required": ["email"], "properties": {"email": {"type": "string"}}},
      {"type": "object", "additionalProperties": false, "required": ["phone"], "properties": {"phone": {"type": "string"}}},
      {"type": "null"}]},
    "point": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}, {"type": "string"}], "items": false, "minItems": 2},
    "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
    "meta": {"type": "object", "required": ["id"], "additionalProperties": {"type": "integer"}},
    "tiny": {"type": "number", "minimum": 0, "maximum": 1}
  }
}`

func TestStructuredOutputKeywords(t *testing.T) {
	sc := compileT(t, structuredSchema)
	base := `"kind":"a","owner":{"name":"Ann"},"point":[1,2]`
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"minimal", `{` + base + `}`, true},
		{"$ref object with optional", `{"kind":"b","owner":{"name":"Bo","age":3},"point":[1.5,-2]}`, true},
		{"allOf adds required", `{` + base + `,"manager":{"name":"M","age":40}}`, true},
		{"allOf required missing", `{` + base + `,"manager":{"name":"M"}}`, false},
		{"allOf keeps the ref's closed properties", `{` + base + `,"manager":{"name":"M","age":1,"x":1}}`, false},
		{"definitions number above the exclusive minimum", `{` + base + `,"price":0.01}`, true},
		{"exclusive minimum wins over minimum", `{` + base + `,"price":0}`, false},
		{"recursive tree", `{` + base + `,"tree":{"v":1,"kids":[{"v":2,"kids":[{"v":3}]},{"v":4,"kids":[]}]}}`, true},
		{"recursive tree wrong leaf", `{` + base + `,"tree":{"v":1,"kids":[{"v":"x"}]}}`, false},
		{"oneOf object email", `{` + base + `,"contact":{"email":"a@b"}}`, true},
		{"oneOf object phone", `{` + base + `,"contact":{"phone":"123"}}`, true},
		{"oneOf null", `{` + base + `,"contact":null}`, true},
		{"oneOf object unknown key", `{` + base + `,"contact":{"fax":"1"}}`, false},
		{"prefixItems three", `{"kind":"a","owner":{"name":"A"},"point":[1,2,"m"]}`, true},
		{"prefixItems wrong type", `{"kind":"a","owner":{"name":"A"},"point":[1,"2"]}`, false},
		{"items false after the prefix", `{"kind":"a","owner":{"name":"A"},"point":[1,2,"m",4]}`, false},
		{"minItems with prefix", `{"kind":"a","owner":{"name":"A"},"point":[1]}`, false},
		{"uniqueItems values", `{` + base + `,"tags":["x","y"]}`, true},
		{"required not declared", `{` + base + `,"meta":{"id":7,"n":2}}`, true},
		{"required not declared missing", `{` + base + `,"meta":{"n":2}}`, false},
		{"required not declared typed by additionalProperties", `{` + base + `,"meta":{"id":"7"}}`, false},
		{"tiny float as encoding/json writes it", `{` + base + `,"tiny":5e-7}`, true},
		{"tiny exponent above the maximum", `{` + base + `,"tiny":5e+7}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sc.Check([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Errorf("Check(%s) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if verr := validate(t, json.RawMessage(structuredSchema), tt.in); (verr == nil) != tt.ok {
				t.Errorf("reference validator on %s: %v, want ok=%v", tt.in, verr, tt.ok)
			}
		})
	}
}

// TestRelaxedKeywords: uniqueItems and alternatives merged into one are
// accepted as a superset; the scorer's schema check judges what the mask lets
// through.
func TestRelaxedKeywords(t *testing.T) {
	sc := compileT(t, structuredSchema)
	base := `"kind":"a","owner":{"name":"Ann"},"point":[1,2]`
	for _, in := range []string{`{` + base + `,"tags":["x","x"]}`, `{` + base + `,"contact":{"email":"a","phone":"b"}}`} {
		if err := sc.Check([]byte(in)); err != nil {
			t.Errorf("relaxed %s rejected: %v", in, err)
		}
		if err := validate(t, json.RawMessage(structuredSchema), in); err == nil {
			t.Errorf("reference validator accepts %s: the case no longer tests a relaxation", in)
		}
	}
}

// TestBoundsDoNotDependOnKeywordOrder: minimum with exclusiveMinimum (and
// the maximum pair) give the tighter bound on every compile; Go's map order
// changes from run to run, so compile many times.
func TestBoundsDoNotDependOnKeywordOrder(t *testing.T) {
	cases := []struct {
		schema string
		accept map[string]bool
	}{
		{`{"type":"number","minimum":5,"exclusiveMinimum":5}`, map[string]bool{"5": false, "5.5": true}},
		{`{"type":"number","minimum":6,"exclusiveMinimum":5}`, map[string]bool{"5.5": false, "6": true}},
		{`{"type":"number","minimum":4,"exclusiveMinimum":5}`, map[string]bool{"5": false, "5.1": true}},
		{`{"type":"integer","maximum":9,"exclusiveMaximum":9}`, map[string]bool{"9": false, "8": true}},
		{`{"type":"integer","maximum":3,"exclusiveMaximum":9}`, map[string]bool{"4": false, "3": true}},
	}
	for _, c := range cases {
		for i := range 50 {
			sc := compileT(t, c.schema)
			for in, want := range c.accept {
				if got := sc.Accepts([]byte(in)); got != want {
					t.Fatalf("compile %d of %s: Accepts(%s) = %v, want %v", i, c.schema, in, got, want)
				}
			}
		}
	}
}

// TestRandomDecodeStructuredSchema: masked decoding with arbitrary logits
// ends on output the recognizer accepts, over the new keywords.
func TestRandomDecodeStructuredSchema(t *testing.T) {
	// The random "model" never stops writing free keys or growing a tree, so
	// those two properties stay out of this copy of the schema.
	var doc map[string]any
	if err := json.Unmarshal([]byte(structuredSchema), &doc); err != nil {
		t.Fatal(err)
	}
	props := doc["properties"].(map[string]any)
	delete(props, "meta")
	delete(props, "tree")
	props["tags"].(map[string]any)["maxItems"] = 3
	schema, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	v := tinyVocab()
	m, err := NewMasker(v, schema)
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(16) {
		out := mustDecodeRandom(t, v, m, seed)
		if err := m.Schema().Check([]byte(out)); err != nil {
			t.Errorf("seed %d: %s: %v", seed, out, err)
		}
		var x any
		if err := json.Unmarshal([]byte(out), &x); err != nil {
			t.Errorf("seed %d: %s does not parse: %v", seed, out, err)
		}
	}
}

func ExampleCompile_refs() {
	sc, err := Compile(json.RawMessage(`{"$defs":{"n":{"type":"object","required":["v"],"additionalProperties":false,
		"properties":{"v":{"type":"integer"},"next":{"$ref":"#/$defs/n"}}}},"$ref":"#/$defs/n"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sc.Accepts([]byte(`{"v":1,"next":{"v":2,"next":{"v":3}}}`)), sc.Accepts([]byte(`{"v":1,"next":{}}`)))
	// Output: true false
}
