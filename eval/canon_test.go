package eval

import (
	"math"
	"sort"
	"strings"
	"testing"
)

func TestCanonicalJSON(t *testing.T) {
	tests := []struct {
		name, a, b string
		equal      bool
	}{
		{"key order and whitespace", `{"a":1,"b":[1,2]}`, "{ \"b\" : [1, 2],\n \"a\": 1 }", true},
		{"1.0 equals 1", `{"x":1.0}`, `{"x":1}`, true},
		{"exponent form", `{"x":1e2}`, `{"x":100}`, true},
		{"negative zero", `-0.0`, `0`, true},
		{"trailing zeros", `2.50`, `2.5`, true},
		{"different numbers", `1.5`, `1.50001`, false},
		{"string is not a number", `{"x":"1"}`, `{"x":1}`, false},
		{"array order matters", `[1,2]`, `[2,1]`, false},
		{"string whitespace matters", `"a b"`, `"a  b"`, false},
		{"null is not absent", `{"a":null}`, `{}`, false},
		{"nested key order", `{"o":{"y":1,"x":2}}`, `{"o":{"x":2,"y":1}}`, true},
		{"huge exponent keeps its text", `1e999`, `1E999`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := decodeJSON(tt.a)
			if err != nil {
				t.Fatal(err)
			}
			b, err := decodeJSON(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if got := canonical(a, false) == canonical(b, false); got != tt.equal {
				t.Errorf("canonical %s vs %s: equal=%v, want %v", canonical(a, false), canonical(b, false), got, tt.equal)
			}
		})
	}
}

func TestDecodeAndExtractJSON(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"plain", `{"a":1}`, true},
		{"fenced", "```json\n{\"a\":1}\n```", true},
		{"prose around", `Sure! Here it is: {"a":1} Hope this helps.`, true},
		{"truncated", `{"a":1,"b":[1,2`, false},
		{"trailing garbage", `{"a":1} {"b":2}`, false},
		{"empty", "  ", false},
		{"garbage", "\x00\xff not json", false},
		{"deep nesting", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := extractJSON(tt.in)
			if (err == nil) != tt.ok {
				t.Errorf("extractJSON err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestFieldLeavesAndF1(t *testing.T) {
	tests := []struct {
		name, pred, gold string
		keys             []string // leaf keys of gold, sorted (nil: not checked)
		p, r, f          float64
	}{
		{"identical", `{"a":1,"b":{"c":"x"}}`, `{"b":{"c":"x"},"a":1.0}`, []string{`$["a"]=1`, `$["b"]["c"]="x"`}, 1, 1, 1},
		{"one of two leaves wrong", `{"a":1,"b":2}`, `{"a":1,"b":3}`, nil, 0.5, 0.5, 0.5},
		{"missing leaf", `{"a":1}`, `{"a":1,"b":3}`, nil, 1, 0.5, 2.0 / 3},
		{"extra leaf", `{"a":1,"b":3,"c":4}`, `{"a":1,"b":3}`, nil, 2.0 / 3, 1, 0.8},
		{"a flattened key is not a nested field", `{"a.b":"x"}`, `{"a":{"b":"x"}}`, []string{`$["a"]["b"]="x"`}, 0, 0, 0},
		{"a key holding brackets is not a path", `{"a\"][\"b":"x"}`, `{"a":{"b":"x"}}`, nil, 0, 0, 0},
		{"array of scalars as multiset", `{"t":["y","x","x"]}`, `{"t":["x","y","x"]}`, []string{`$["t"][*]="x"`, `$["t"][*]="x"`, `$["t"][*]="y"`}, 1, 1, 1},
		{"array duplicates count", `{"t":["x","x"]}`, `{"t":["x","y"]}`, nil, 0.5, 0.5, 0.5},
		{"objects in arrays: fields scored, order ignored", `{"items":[{"n":"b","q":2},{"n":"a","q":1}]}`, `{"items":[{"n":"a","q":9},{"q":2,"n":"b"}]}`,
			[]string{`$["items"][0]["n"]="a"`, `$["items"][0]["q"]=9`, `$["items"][1]["n"]="b"`, `$["items"][1]["q"]=2`}, 0.75, 0.75, 0.75},
		{"extra array object counts against precision", `{"items":[{"n":"a"},{"n":"z"}]}`, `{"items":[{"n":"a"}]}`, nil, 0.5, 1, 2.0 / 3},
		{"missing array object counts against recall", `{"items":[{"n":"a"}]}`, `{"items":[{"n":"a"},{"n":"b"}]}`, nil, 1, 0.5, 2.0 / 3},
		{"deep nesting pairs at every level", `{"g":[{"ids":[2,1],"m":[{"k":"v","w":1}]}]}`, `{"g":[{"ids":[1,2],"m":[{"k":"v","w":2}]}]}`,
			[]string{`$["g"][0]["ids"][*]=1`, `$["g"][0]["ids"][*]=2`, `$["g"][0]["m"][0]["k"]="v"`, `$["g"][0]["m"][0]["w"]=2`}, 0.75, 0.75, 0.75},
		{"empty array and object are leaves", `{"t":[],"o":{}}`, `{"t":[],"o":{}}`, []string{`$["o"]={}`, `$["t"]=[]`}, 1, 1, 1},
		{"wrong type", `{"a":"1"}`, `{"a":1}`, nil, 0, 0, 0},
		{"object for scalar", `{"a":{"b":1}}`, `{"a":1}`, nil, 0, 0, 0},
		{"empty both", `{}`, `{}`, nil, 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := decodeJSON(tt.pred)
			if err != nil {
				t.Fatal(err)
			}
			g, err := decodeJSON(tt.gold)
			if err != nil {
				t.Fatal(err)
			}
			_, gk := fieldLeaves(g, g, true, true, "$", nil, nil)
			sort.Strings(gk)
			if tt.keys != nil && strings.Join(gk, "|") != strings.Join(tt.keys, "|") {
				t.Errorf("gold leaves %q, want %q", gk, tt.keys)
			}
			m := jsonFieldPRF(p, g)
			if math.Abs(m.p-tt.p) > 1e-9 || math.Abs(m.r-tt.r) > 1e-9 || math.Abs(m.f-tt.f) > 1e-9 {
				t.Errorf("P/R/F1 = %.3f/%.3f/%.3f, want %.3f/%.3f/%.3f", m.p, m.r, m.f, tt.p, tt.r, tt.f)
			}
		})
	}
}

func TestMaxWeightMatching(t *testing.T) {
	// Greedy would take (0,0) for weight 3 and leave 1+0; the optimum is 2+2.
	w := [][]int{{3, 2}, {2, 0}}
	got := maxWeightMatching(w, 2)
	if got[0] != 1 || got[1] != 0 {
		t.Errorf("matching %v, want [1 0]", got)
	}
	if got := maxWeightMatching([][]int{{0, 0}, {0, 5}, {1, 0}}, 2); got[0] != -1 || got[1] != 1 || got[2] != 0 {
		t.Errorf("rectangular matching %v, want [-1 1 0]", got)
	}
	if got := greedyMatching(w, 2, 2); got[0] != 0 || got[1] != -1 {
		t.Errorf("greedy matching %v, want [0 -1]", got)
	}
}
