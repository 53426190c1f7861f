package schemas

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestMeasureShape(t *testing.T) {
	tests := []struct {
		name     string
		schema   string
		fields   int
		nesting  int
		hasArray bool
	}{
		{"flat", `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"},"c":{"type":"boolean"}}}`, 3, 0, false},
		{"doc comment example", `{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"integer"}}}}}`, 2, 1, false},
		{"nested object", `{"type":"object","properties":{
			"id":{"type":"string"},
			"address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}}}`, 4, 1, false},
		{"array of objects", `{"type":"object","properties":{
			"lines":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"},"qty":{"type":"integer"}}}}}}`, 3, 1, true},
		{"array of strings is no level", `{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string"}}}}`, 1, 0, true},
		{"three levels", `{"type":"object","properties":{
			"a":{"type":"object","properties":{
				"b":{"type":"object","properties":{
					"c":{"type":"object","properties":{"d":{"type":"number"},"e":{"type":"number"}}}}}}}}}`, 5, 3, false},
		{"deepest branch counts", `{"type":"object","properties":{
			"shallow":{"type":"object","properties":{"x":{"type":"string"}}},
			"deep":{"type":"array","items":{"type":"object","properties":{
				"inner":{"type":"object","properties":{"y":{"type":"string"}}}}}}}}`, 5, 2, true},
		{"nullable object and untyped properties", `{"type":"object","properties":{
			"a":{"type":["object","null"],"properties":{"b":{"type":"string"}}},
			"c":{"properties":{"d":{"type":"string"}}}}}`, 4, 1, false},
		{"no properties", `{"type":"object"}`, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, nesting, hasArray, err := MeasureShape(json.RawMessage(tt.schema))
			if err != nil {
				t.Fatalf("MeasureShape: %v", err)
			}
			if fields != tt.fields || nesting != tt.nesting || hasArray != tt.hasArray {
				t.Errorf("got fields %d, nesting %d, hasArray %v; want %d, %d, %v",
					fields, nesting, hasArray, tt.fields, tt.nesting, tt.hasArray)
			}
		})
	}
}

func TestMeasureShapeErrors(t *testing.T) {
	tests := []struct {
		name, schema, want string
	}{
		{"not JSON", `{"type":`, "unexpected end"},
		{"not an object", `["object"]`, "schema is an array, not an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := MeasureShape(json.RawMessage(tt.schema))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestCheckComplexity(t *testing.T) {
	tests := []struct {
		level Complexity
		shape shape
		ok    bool
	}{
		{Simple, shape{3, 0, false}, true},
		{Simple, shape{5, 0, false}, true},
		{Simple, shape{2, 0, false}, false},
		{Simple, shape{6, 0, false}, false},
		{Simple, shape{4, 0, true}, false},
		{Simple, shape{4, 1, false}, false},
		{Medium, shape{8, 1, true}, true},
		{Medium, shape{12, 2, true}, true},
		{Medium, shape{13, 2, true}, false},
		{Medium, shape{10, 0, true}, false},
		{Medium, shape{10, 3, true}, false},
		{Medium, shape{10, 1, false}, false},
		{Complex, shape{15, 3, true}, true},
		{Complex, shape{40, 6, true}, true},
		{Complex, shape{14, 3, true}, false},
		{Complex, shape{20, 2, true}, false},
		{Complex, shape{20, 3, false}, false},
		{"trivial", shape{3, 0, false}, false},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%d_fields_nesting_%d_array_%v", tt.level, tt.shape.fields, tt.shape.nesting, tt.shape.hasArray)
		t.Run(name, func(t *testing.T) {
			msg := checkComplexity(tt.level, tt.shape)
			if (msg == "") != tt.ok {
				t.Errorf("checkComplexity(%s, %+v) = %q, want ok=%v", tt.level, tt.shape, msg, tt.ok)
			}
		})
	}
}

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		pattern string
		want    string // names joined by ","; "error" for a failure
	}{
		{"turn on the lights", ""},
		{"set {room} to {brightness}", "room,brightness"},
		{"ship to {address.city}", "address.city"},
		{"{a}{b}", "a,b"},
		{"broken {room", "error"},
		{"broken room}", "error"},
		{"nested {a{b}}", "error"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			names, err := Placeholders(tt.pattern)
			got := strings.Join(names, ",")
			if err != nil {
				got = "error"
			}
			if got != tt.want {
				t.Errorf("Placeholders(%q) = %q (err %v), want %q", tt.pattern, got, err, tt.want)
			}
		})
	}
}

func TestValidatePhone(t *testing.T) {
	tests := []struct {
		phone string
		ok    bool
	}{
		{"+14155552671", true},
		{"+1 (415) 555-2671", true},
		{"020 7946 0958", true},
		{"555-1234", true},
		{"415.555.2671", true},
		{"12345", false},
		{"+1234567890123456", false},
		{"1+4155552671", false},
		{"call 555 1234", false},
	}
	for _, tt := range tests {
		t.Run(tt.phone, func(t *testing.T) {
			if err := validatePhone(tt.phone); (err == nil) != tt.ok {
				t.Errorf("validatePhone(%q) = %v, want ok=%v", tt.phone, err, tt.ok)
			}
		})
	}
}

func TestTimeFormatThroughCompiler(t *testing.T) {
	c := newCompiler()
	if err := c.AddResource("mem://t.json", map[string]any{"type": "string", "format": "time"}); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("mem://t.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		v  string
		ok bool
	}{
		{"07:30", true},
		{"23:59:59", true},
		{"07:30:00Z", true},
		{"07:30:00.5+02:00", true},
		{"7:30", false},
		{"24:00", false},
		{"07:30 pm", false},
		{"noon", false},
	}
	for _, tt := range tests {
		t.Run(tt.v, func(t *testing.T) {
			if err := sch.Validate(tt.v); (err == nil) != tt.ok {
				t.Errorf("validate %q = %v, want ok=%v", tt.v, err, tt.ok)
			}
		})
	}
}
