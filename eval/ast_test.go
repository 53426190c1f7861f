package eval

import (
	"encoding/json"
	"strings"
	"testing"
)

// astDocs are hand-written BFCL function docs for the perturbation table.
const astDocs = `[
{"name": "geo.area", "description": "Area of a shape.", "parameters": {"type": "dict", "properties": {
  "base": {"type": "integer", "description": "base"},
  "height": {"type": "integer", "description": "height"},
  "unit": {"type": "string", "description": "unit"},
  "ratio": {"type": "float", "description": "ratio"},
  "tags": {"type": "array", "items": {"type": "string"}, "description": "tags"},
  "weights": {"type": "array", "items": {"type": "float"}, "description": "weights"},
  "opts": {"type": "dict", "properties": {"mode": {"type": "string"}, "level": {"type": "integer"}}, "description": "options"},
  "points": {"type": "array", "items": {"type": "dict", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}}}, "description": "points"},
  "flag": {"type": "boolean", "description": "flag"},
  "note": {"type": "string", "description": "not in any gold answer"},
  "count": {"type": "integer", "description": "a count the gold gives as a variable name"}},
  "required": ["base", "height"]}},
{"name": "geo.perimeter", "description": "Perimeter.", "parameters": {"type": "dict", "properties": {
  "side": {"type": "integer", "description": "side"}}, "required": ["side"]}}
]`

// astGold is the possible answer of geo.area used by most cases.
const astGold = `{"geo.area": {"base": [10], "height": [5], "unit": ["units", ""], "ratio": [2.0, ""],
  "tags": [["a", "b"], ""], "weights": [[1.5, 2.0], ""], "opts": [{"mode": ["fast"], "level": [1, ""]}, ""],
  "points": [[{"x": [1], "y": [2]}], ""], "flag": [true, ""], "count": ["n", ""]}}`

func TestCheckASTPerturbations(t *testing.T) {
	var funcs []BFCLFunction
	if err := json.Unmarshal([]byte(astDocs), &funcs); err != nil {
		t.Fatal(err)
	}
	perim := `{"geo.perimeter": {"side": [4]}}`
	area := func(args string) string {
		return `[{"name": "geo.area", "arguments": {"base": 10, "height": 5` + args + `}}]`
	}
	tests := []struct {
		name, category, output, answers string
		valid                           bool
		errType                         string // prefix of the expected ErrorType
	}{
		{"exact required only", "simple", area(""), astGold, true, ""},
		{"every optional right", "simple", area(`, "unit": "units", "ratio": 2.0, "tags": ["a", "b"], "weights": [1.5, 2.0], "opts": {"mode": "fast", "level": 1}, "points": [{"x": 1, "y": 2}], "flag": true`), astGold, true, ""},
		{"missing required", "simple", `[{"name": "geo.area", "arguments": {"base": 10}}]`, astGold, false, "simple_function_checker:missing_required"},
		{"unknown param", "simple", area(`, "color": "red"`), astGold, false, "simple_function_checker:unexpected_param"},
		{"documented param absent from gold", "simple", area(`, "note": "hi"`), astGold, false, "simple_function_checker:unexpected_param"},
		{"wrong function", "simple", `[{"name": "geo.perimeter", "arguments": {"side": 4}}]`, astGold, false, "simple_function_checker:wrong_func_name"},
		{"string for int", "simple", `[{"name": "geo.area", "arguments": {"base": "10", "height": 5}}]`, astGold, false, "type_error:simple"},
		{"float for int rejected", "simple", `[{"name": "geo.area", "arguments": {"base": 10.0, "height": 5}}]`, astGold, false, "type_error:simple"},
		{"bool for int rejected", "simple", `[{"name": "geo.area", "arguments": {"base": true, "height": 5}}]`, astGold, false, "type_error:simple"},
		{"wrong int value", "simple", `[{"name": "geo.area", "arguments": {"base": 11, "height": 5}}]`, astGold, false, "value_error:others"},
		{"int for float accepted", "simple", area(`, "ratio": 2`), astGold, true, ""},
		{"float written with exponent", "simple", area(`, "ratio": 2e0`), astGold, true, ""},
		{"wrong float value", "simple", area(`, "ratio": 2.5`), astGold, false, "value_error:others"},
		{"string case ignored", "simple", area(`, "unit": "UNITS"`), astGold, true, ""},
		{"string spaces and punctuation ignored", "simple", area(`, "unit": " u-n_i.t,s "`), astGold, true, ""},
		{"wrong string", "simple", area(`, "unit": "meters"`), astGold, false, "value_error:string"},
		{"null for string", "simple", area(`, "unit": null`), astGold, false, "type_error:simple"},
		{"list strings standardized", "simple", area(`, "tags": ["A", "b "]`), astGold, true, ""},
		{"list order matters", "simple", area(`, "tags": ["b", "a"]`), astGold, false, "value_error:list"},
		{"list too short", "simple", area(`, "tags": ["a"]`), astGold, false, "value_error:list"},
		{"string for list", "simple", area(`, "tags": "a,b"`), astGold, false, "type_error:simple"},
		{"list of float with an int item rejected", "simple", area(`, "weights": [1.5, 2]`), `{"geo.area": {"base": [10], "height": [5], "weights": [[1.5, 2.0]]}}`, false, "type_error:nested"},
		{"int item passes when the list is optional (upstream quirk)", "simple", area(`, "weights": [1.5, 2]`), astGold, true, ""},
		{"list of float right", "simple", area(`, "weights": [1.5, 2.0]`), astGold, true, ""},
		{"dict with optional key omitted", "simple", area(`, "opts": {"mode": "FAST"}`), astGold, true, ""},
		{"dict with every key", "simple", area(`, "opts": {"mode": "fast", "level": 1}`), astGold, true, ""},
		{"dict with unknown key", "simple", area(`, "opts": {"mode": "fast", "speed": 2}`), astGold, false, "value_error:dict_key"},
		{"dict missing required key", "simple", area(`, "opts": {"level": 1}`), astGold, false, "value_error:dict_key"},
		{"dict wrong value", "simple", area(`, "opts": {"mode": "slow"}`), astGold, false, "value_error:dict_value"},
		{"list of dicts right", "simple", area(`, "points": [{"x": 1, "y": 2}]`), astGold, true, ""},
		{"list of dicts wrong value", "simple", area(`, "points": [{"x": 1, "y": 3}]`), astGold, false, "value_error:"},
		{"list of dicts wrong count", "simple", area(`, "points": [{"x": 1, "y": 2}, {"x": 1, "y": 2}]`), astGold, false, "value_error:list_dict_count"},
		{"empty list matches the optional marker", "simple", area(`, "points": []`), astGold, true, ""},
		{"bool right", "simple", area(`, "flag": true`), astGold, true, ""},
		{"string for bool", "simple", area(`, "flag": "true"`), astGold, false, "type_error:simple"},
		{"wrong bool", "simple", area(`, "flag": false`), astGold, false, "value_error:others"},
		{"variable name accepted", "simple", area(`, "count": "n"`), astGold, true, ""},
		{"literal for a variable", "simple", area(`, "count": 3`), astGold, false, "value_error:others"},
		{"gold optional without marker must be given", "simple", area(""), `{"geo.area": {"base": [10], "height": [5], "unit": ["units"]}}`, false, "simple_function_checker:missing_optional"},
		{"two calls for simple", "simple", `[{"name": "geo.area", "arguments": {"base": 10, "height": 5}}, {"name": "geo.perimeter", "arguments": {"side": 4}}]`, astGold, false, "simple_function_checker:wrong_count"},
		{"multiple picks the right function", "multiple", `[{"name": "geo.perimeter", "arguments": {"side": 4}}]`, perim, true, ""},
		{"multiple picks the wrong function", "multiple", area(""), perim, false, "simple_function_checker:wrong_func_name"},
		{"parallel in gold order", "parallel_multiple", `[{"name": "geo.area", "arguments": {"base": 10, "height": 5}}, {"name": "geo.perimeter", "arguments": {"side": 4}}]`, astGold + "," + perim, true, ""},
		{"parallel swapped order", "parallel_multiple", `[{"name": "geo.perimeter", "arguments": {"side": 4}}, {"name": "geo.area", "arguments": {"base": 10, "height": 5}}]`, astGold + "," + perim, true, ""},
		{"parallel one call missing", "parallel_multiple", `[{"name": "geo.perimeter", "arguments": {"side": 4}}]`, astGold + "," + perim, false, "parallel_function_checker_no_order:wrong_count"},
		{"parallel same call twice", "parallel_multiple", `[{"name": "geo.perimeter", "arguments": {"side": 4}}, {"name": "geo.perimeter", "arguments": {"side": 4}}]`, astGold + "," + perim, false, "parallel_function_checker_no_order:cannot_find_match"},
		{"parallel ambiguous gold in any order", "parallel", `[{"name": "geo.perimeter", "arguments": {"side": 4}}, {"name": "geo.perimeter", "arguments": {"side": 3}}]`,
			`{"geo.perimeter": {"side": [3, 4]}}, {"geo.perimeter": {"side": [3]}}`, true, ""},
		{"irrelevance without call", "irrelevance", `[]`, "", true, ""},
		{"irrelevance with a call", "irrelevance", area(""), "", false, "irrelevance:made_call"},
	}
	if len(tests) < 30 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := mustCalls(t, tt.output)
			var answers []BFCLAnswer
			if tt.answers != "" {
				v, err := decodeJSON("[" + tt.answers + "]")
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range v.([]any) {
					ans := BFCLAnswer{}
					for name, params := range a.(map[string]any) {
						ans[name] = map[string][]any{}
						for k, vals := range params.(map[string]any) {
							ans[name][k] = vals.([]any)
						}
					}
					answers = append(answers, ans)
				}
			}
			fs := funcs
			if tt.category == "simple" && strings.Contains(tt.output, "geo.perimeter") && !strings.Contains(tt.answers, "geo.area") {
				fs = funcs[1:]
			}
			r := CheckAST(tt.category, fs, out, answers)
			if r.Valid != tt.valid || !strings.HasPrefix(r.ErrorType, tt.errType) {
				t.Errorf("got %+v, want valid=%v error type %q", r, tt.valid, tt.errType)
			}
		})
	}
}

// mustCalls decodes a JSON array of {"name", "arguments"} with json.Number numbers.
func mustCalls(t *testing.T, s string) []BFCLCall {
	t.Helper()
	v, err := decodeJSON(s)
	if err != nil {
		t.Fatal(err)
	}
	var out []BFCLCall
	for _, c := range v.([]any) {
		m := c.(map[string]any)
		out = append(out, BFCLCall{Name: m["name"].(string), Args: m["arguments"].(map[string]any)})
	}
	return out
}

func TestStandardizeString(t *testing.T) {
	tests := map[string]string{"April 1, 2024": "april12024", "New_York-City": "newyorkcity", "it's": `it"s`, "a*b^c/d.e": "abcde"}
	for in, want := range tests {
		if got := standardizeString(in); got != want {
			t.Errorf("standardizeString(%q) = %q, want %q", in, got, want)
		}
	}
}
