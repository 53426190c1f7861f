package review

import (
	"encoding/json"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/validate"
	"github.com/cyclecore/mlmforge/schemas"
)

func TestValidatorCheckEdits(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	check := ValidatorCheck(validate.New(cat, validate.DefaultConfig()))
	rec := datasets.Record{ID: "x1", Task: string(schemas.EdgeIntent), Split: "test", Cell: "timer_set", Variant: "assistant-50",
		Intent: "timer_set", Input: "set a timer for ten minutes for the pasta please",
		Target: `{"intent":"timer_set","slots":{"duration":"ten minutes","label":"pasta"}}`}
	if err := check(rec, rec.Input, json.RawMessage(rec.Target)); err != nil {
		t.Fatalf("the original record fails its own check: %v", err)
	}
	q := NewQueue(Config{}, []datasets.Record{rec})
	tests := []struct {
		name   string
		input  string
		target string
		frag   string // "" means accepted
	}{
		{"slot dropped", "", `{"intent":"timer_set","slots":{"duration":"ten minutes"}}`, ""},
		{"input rewritten and still grounded", "please count down ten minutes for the pasta", "", ""},
		{"slot not in input", "", `{"intent":"timer_set","slots":{"duration":"twenty minutes","label":"pasta"}}`, "twenty minutes"},
		{"another class", "", `{"intent":"alarm_set"}`, `not the cell's class "timer_set"`},
		{"unknown slot", "", `{"intent":"timer_set","slots":{"colour":"red"}}`, `slot "colour"`},
		{"input too short", "timer", "", "input has 5 characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Decision{RequestID: "e", RecordID: "x1", Reviewer: "ann", Kind: Edit, EditInput: tc.input}
			if tc.target != "" {
				d.EditTarget = json.RawMessage(tc.target)
			}
			err := q.Validate(d, check)
			if tc.frag == "" {
				if err != nil {
					t.Fatalf("edit refused: %v", err)
				}
				return
			}
			wantCode(t, err, CodeInvalid, tc.frag)
		})
	}
}

func TestSampleOf(t *testing.T) {
	tests := []struct {
		rec  datasets.Record
		want generator.Cell
	}{
		{datasets.Record{Task: "edgejson", Cell: "ecommerce.order_summary", Variant: "edgejson", Complexity: "nested"},
			generator.Cell{Key: "ecommerce.order_summary", Task: schemas.EdgeJSON, Variant: "edgejson", SchemaID: "ecommerce.order_summary", Complexity: "nested"}},
		{datasets.Record{Task: "edgeintent", Cell: "timer_set", Variant: "assistant-50", Intent: "timer_set"},
			generator.Cell{Key: "timer_set", Task: schemas.EdgeIntent, Variant: "assistant-50", Taxonomy: "assistant-50", Class: "timer_set"}},
		{datasets.Record{Task: "edgefunccall", Cell: "lights_on/single_turn", Variant: "funccall-20", Function: "lights_on", Scenario: "single_turn"},
			generator.Cell{Key: "lights_on/single_turn", Task: schemas.EdgeFuncCall, Variant: "funccall-20", Function: "lights_on", Scenario: "single_turn"}},
	}
	for _, tc := range tests {
		t.Run(tc.rec.Task, func(t *testing.T) {
			if got := SampleOf(tc.rec, json.RawMessage(`{}`)).Cell; got != tc.want {
				t.Fatalf("cell %+v, want %+v", got, tc.want)
			}
		})
	}
}
