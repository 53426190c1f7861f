package constrain

import (
	"encoding/json"
	"strings"
	"testing"
)

// orderSchema exercises most supported keywords.
const orderSchema = `{
  "type": "object", "additionalProperties": false,
  "required": ["id", "status", "items"],
  "properties": {
    "id": {"type": "string", "pattern": "^ORD-[0-9]{4}$"},
    "status": {"type": "string", "enum": ["open", "shipped", "open_late"]},
    "qty": {"type": "integer", "minimum": 1, "maximum": 100},
    "price": {"type": "number", "minimum": 0.5, "exclusiveMaximum": 1000},
    "temp": {"type": "number", "minimum": -40, "maximum": -10},
    "gift": {"type": "boolean"},
    "note": {"type": ["string", "null"], "maxLength": 5},
    "code": {"enum": [1, 10, "x"]},
    "items": {"type": "array", "minItems": 1, "maxItems": 2,
      "items": {"type": "object", "additionalProperties": false, "required": ["sku"],
        "properties": {"sku": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}}},
    "extra": {"type": "object", "additionalProperties": {"type": "integer"}},
    "alt": {"anyOf": [{"type": "string", "const": "none"}, {"type": "integer"}, {"type": "null"}]}
  }
}`

func TestRecognizerTable(t *testing.T) {
	sc := compileT(t, orderSchema)
	base := `"id":"ORD-1234","status":"open","items":[{"sku":"a"}]`
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"minimal", `{` + base + `}`, true},
		{"any key order", `{"items":[{"sku":"a"}],"status":"shipped","id":"ORD-0000"}`, true},
		{"all optional", `{` + base + `,"qty":100,"price":999.99,"temp":-12.5,"gift":false,"note":null,"code":10,"extra":{"k":-3,"é\n":0},"alt":"none"}`, true},
		{"enum prefix of another", `{"id":"ORD-1234","status":"open_late","items":[{"sku":"a"}]}`, true},
		{"literal 1 of enum [1,10]", `{` + base + `,"code":1}`, true},
		{"string utf8 and escapes", `{"id":"ORD-1234","status":"open","items":[{"sku":"\u00e9\"\\/ü€😀","tags":[]}]}`, true},
		{"anyOf integer", `{` + base + `,"alt":-7}`, true},
		{"anyOf null", `{` + base + `,"alt":null}`, true},
		{"wrong key", `{` + base + `,"bogus":1}`, false},
		{"duplicate key", `{` + base + `,"status":"open"}`, false},
		{"missing required", `{"id":"ORD-1234","status":"open"}`, false},
		{"wrong type string for integer", `{` + base + `,"qty":"3"}`, false},
		{"wrong type number for integer", `{` + base + `,"qty":3.5}`, false},
		{"wrong type object for array", `{"id":"ORD-1234","status":"open","items":{}}`, false},
		{"enum violation", `{"id":"ORD-1234","status":"closed","items":[{"sku":"a"}]}`, false},
		{"const violation in anyOf", `{` + base + `,"alt":"some"}`, false},
		{"pattern violation", `{"id":"ORD-123","status":"open","items":[{"sku":"a"}]}`, false},
		{"pattern too long", `{"id":"ORD-12345","status":"open","items":[{"sku":"a"}]}`, false},
		{"below minimum", `{` + base + `,"qty":0}`, false},
		{"above maximum", `{` + base + `,"qty":101}`, false},
		{"exclusive maximum", `{` + base + `,"price":1000}`, false},
		{"below number minimum", `{` + base + `,"price":0.49}`, false},
		{"negative range", `{` + base + `,"temp":-9}`, false},
		{"maxLength", `{` + base + `,"note":"abcdef"}`, false},
		{"minItems", `{"id":"ORD-1234","status":"open","items":[]}`, false},
		{"maxItems", `{"id":"ORD-1234","status":"open","items":[{"sku":"a"},{"sku":"b"},{"sku":"c"}]}`, false},
		{"nested missing required", `{"id":"ORD-1234","status":"open","items":[{"tags":[]}]}`, false},
		{"free value type", `{` + base + `,"extra":{"k":"v"}}`, false},
		{"trailing garbage", `{` + base + `}x`, false},
		{"trailing value", `{` + base + `}{}`, false},
		{"whitespace", `{ ` + base + `}`, false},
		{"incomplete", `{` + base, false},
		{"leading zero", `{` + base + `,"qty":05}`, false},
		{"exponent", `{` + base + `,"price":1e2}`, true},
		{"negative exponent", `{` + base + `,"price":5E-1}`, true},
		{"exponent past the exclusive maximum", `{` + base + `,"price":1e3}`, false},
		{"exponent below the minimum", `{` + base + `,"price":1e-1}`, false},
		{"exponent on an integer", `{` + base + `,"qty":1e1}`, false},
		{"exponent without digits", `{` + base + `,"price":1e}`, false},
		{"control char in string", "{\"id\":\"ORD-1234\",\"status\":\"open\",\"items\":[{\"sku\":\"a\x01\"}]}", false},
		{"invalid utf8", "{\"id\":\"ORD-1234\",\"status\":\"open\",\"items\":[{\"sku\":\"\xc3\x28\"}]}", false},
		{"surrogate utf8", "{\"id\":\"ORD-1234\",\"status\":\"open\",\"items\":[{\"sku\":\"\xed\xa0\x80\"}]}", false},
		{"bad escape", `{"id":"ORD-1234","status":"open","items":[{"sku":"\x"}]}`, false},
		{"not an object", `[]`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sc.Check([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Errorf("Check(%s) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if tt.ok {
				if verr := validate(t, json.RawMessage(orderSchema), tt.in); verr != nil {
					t.Errorf("reference validator rejects %s: %v", tt.in, verr)
				}
			}
		})
	}
}

// TestRecognizerRejectsMutatedGold mutates gold EdgeJSON answers into
// invalid ones (extra key, dropped required key, wrong type, trailing bytes).
func TestRecognizerRejectsMutatedGold(t *testing.T) {
	for _, c := range goldCases(t, 40)[:40] {
		sc, err := Compile(c.schema)
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(c.answer), &obj); err != nil {
			t.Fatal(err)
		}
		mutants := map[string]map[string]any{"extra key": withKey(obj, "zz_bogus", 1)}
		var doc struct {
			Required   []string                   `json:"required"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(c.schema, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Required) > 0 {
			mutants["missing required"] = withoutKey(obj, doc.Required[0])
			mutants["wrong type"] = withKey(obj, doc.Required[0], []any{true})
		}
		for what, m := range mutants {
			b, _ := json.Marshal(m)
			if sc.Accepts(b) {
				t.Errorf("%s (%s): accepts %s", c.name, what, b)
			}
			if validate(t, c.schema, string(b)) == nil {
				t.Errorf("%s (%s): reference validator accepts %s; bad mutation", c.name, what, b)
			}
		}
		for _, tail := range []string{"}", ",", " ", "\n", `"`} {
			if sc.Accepts([]byte(c.answer + tail)) {
				t.Errorf("%s: accepts trailing %q", c.name, tail)
			}
		}
	}
}

func withKey(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for kk, vv := range m {
		if kk != k {
			out[kk] = vv
		}
	}
	return out
}

func withoutKey(m map[string]any, k string) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		if kk != k {
			out[kk] = vv
		}
	}
	return out
}

// TestStateAPI checks Step, Allows, Complete and Done on a small schema.
func TestStateAPI(t *testing.T) {
	sc := compileT(t, `{"type":"object","additionalProperties":false,"required":["a"],"properties":{"a":{"type":"integer","maximum":12}}}`)
	st := sc.Start()
	for _, b := range []byte(`{"a":1`) {
		if !st.Step(b) {
			t.Fatalf("step %q refused", b)
		}
	}
	if st.Allows('3') {
		t.Error("13 > maximum 12 allowed")
	}
	if !st.Allows('2') || !st.Allows('}') || st.Allows(',') {
		t.Error("wrong bytes after {\"a\":1")
	}
	before := st
	if st.Step('x') || st != before {
		t.Error("refused Step changed the state")
	}
	if st.Complete() {
		t.Error("open object complete")
	}
	st.Step('}')
	if !st.Complete() || !st.Done() {
		t.Error("closed object not complete")
	}
	top := compileT(t, `{"type":"integer","minimum":10}`).Start()
	top.Step('1')
	if top.Complete() {
		t.Error("1 < minimum 10 complete")
	}
	top.Step('5')
	if !top.Complete() || top.Done() {
		t.Error("15 should be complete but extendable")
	}
}

func TestCompileErrors(t *testing.T) {
	for _, s := range []string{
		`{"type":"object","$ref":"#/x"}`,
		`{"$ref":"https://example.com/schema.json"}`,
		`{"$ref":"#/$defs/a","$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}}}`,
		`{"allOf":[{"type":"string"},{"type":"integer"}]}`,
		`{"allOf":[{"type":"string","pattern":"a"},{"pattern":"b"}]}`,
		`{"type":"strin"}`,
		`{"anyOf":[{"type":"string"},{}]}`,
		`{"type":"string","pattern":"("}`,
		`{"type":"string","enum":[1,2]}`,
		`{"type":"object","properties":{"a":{}},"required":["b"],"additionalProperties":false}`,
		`{"type":"array","contains":{"type":"string"}}`,
		`{"type":"number","minimum":5,"exclusiveMaximum":5}`,
	} {
		if _, err := Compile(json.RawMessage(s)); err == nil {
			t.Errorf("Compile(%s) succeeded", s)
		} else if !strings.Contains(err.Error(), "$") && !strings.Contains(err.Error(), "decode") {
			t.Errorf("Compile(%s) error %q names no path", s, err)
		}
	}
}

// TestMixedKeys: declared properties next to an additionalProperties schema.
func TestMixedKeys(t *testing.T) {
	const schema = `{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"string"}}`
	sc := compileT(t, schema)
	for in, ok := range map[string]bool{
		`{"a":1,"ab":"x"}`: true, `{"ab":"x","b":"","a":-1}`: true, `{}`: true, `{"\u0062":"x"}`: true,
		`{"a":"x"}`: false, `{"a":1,"a":2}`: false, `{"ab":1}`: false, `{"":2}`: false,
	} {
		if err := sc.Check([]byte(in)); (err == nil) != ok {
			t.Errorf("Check(%s) = %v, want ok=%v", in, err, ok)
		}
		if ok {
			if err := validate(t, json.RawMessage(schema), in); err != nil {
				t.Errorf("reference validator rejects %s: %v", in, err)
			}
		}
	}
}
