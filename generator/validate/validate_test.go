package validate

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/cyclecore/mlmforge/internal/testutil"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// Cells and samples built by hand from the embedded catalog.
var (
	cardCell   = generator.Cell{Key: "contact.contact_card", Task: schemas.EdgeJSON, Variant: "edgejson", SchemaID: "contact.contact_card", Complexity: schemas.Simple}
	cardTarget = `{"full_name":"Ana Silva","email":"ana.silva@example.com","phone":"+1 415 555 0100","company":"Acme Corp","job_title":"Head of Sales"}`
	cardInput  = "Hi, I'm Ana Silva, head of sales at Acme Corp. Reach me at ana.silva@example.com or (415) 555-0100."

	weatherCell   = generator.Cell{Key: "weather_current", Task: schemas.EdgeIntent, Variant: "assistant-50", Taxonomy: "assistant-50", Class: "weather_current"}
	weatherTarget = `{"intent":"weather_current","slots":{"city":"Lisbon"}}`
)

// fcCell is an EdgeFuncCall cell.
func fcCell(fn string, sc schemas.Scenario) generator.Cell {
	key := fn + "/" + string(sc)
	if sc == schemas.Irrelevant {
		key = "irrelevant"
	}
	return generator.Cell{Key: key, Task: schemas.EdgeFuncCall, Variant: "funccall-120", Function: fn, Scenario: sc}
}

// fcSample builds a sample and its target from turn plans and gold turns.
func fcSample(t *testing.T, cell generator.Cell, plans []generator.TurnPlan, turns []generator.GoldTurn) (generator.Sample, json.RawMessage) {
	t.Helper()
	target, err := json.Marshal(generator.FuncCallTarget{Scenario: cell.Scenario, Turns: turns})
	if err != nil {
		t.Fatal(err)
	}
	return generator.Sample{Cell: cell, Target: target, Turns: plans}, target
}

// brightness is a lights_set_brightness call.
func brightness(room string, level any) generator.Call {
	return generator.Call{Name: "lights_set_brightness", Arguments: map[string]any{"room": room, "brightness": level}}
}

func TestValidatorAccepts(t *testing.T) {
	v := New(testutil.Catalog(t), DefaultConfig())
	single := fcCell("lights_set_brightness", schemas.SingleTurn)
	multi := fcCell("clock_create_alarm", schemas.MultiTurn)
	type acceptCase struct {
		name       string
		sample     generator.Sample
		input      string
		target     json.RawMessage
		wantChecks []string
		wantGround map[string]string
	}
	tests := []acceptCase{
		{
			name: "edgejson", sample: generator.Sample{Cell: cardCell}, input: cardInput, target: json.RawMessage(cardTarget),
			wantChecks: []string{"json", "schema", "length", "leak", "grounding"},
			wantGround: map[string]string{"$.full_name": "exact", "$.email": "exact", "$.phone": "phone", "$.company": "exact", "$.job_title": "case"},
		},
		{
			name: "edgejson input with markup is just text", sample: generator.Sample{Cell: cardCell},
			input: cardInput + ` <script>alert("x")</script>`, target: json.RawMessage(cardTarget),
			wantChecks: []string{"json", "schema", "length", "leak", "grounding"},
		},
		{
			name: "edgeintent", sample: generator.Sample{Cell: weatherCell, Slots: map[string]string{"city": "Lisbon"}},
			input: "what's the weather like in lisbon right now", target: json.RawMessage(weatherTarget),
			wantChecks: []string{"json", "label", "length", "leak", "grounding"},
			wantGround: map[string]string{"$.slots.city": "case"},
		},
	}
	add := func(name, input string, s generator.Sample, target json.RawMessage, checks []string, ground map[string]string) {
		tests = append(tests, acceptCase{name, s, input, target, checks, ground})
	}
	s, tg := fcSample(t, single, []generator.TurnPlan{{Function: "lights_set_brightness", Args: map[string]any{"room": "kitchen", "brightness": 40}}},
		[]generator.GoldTurn{{Action: generator.ActionCall, Calls: []generator.Call{brightness("kitchen", 40)}}})
	add("single_turn", "set the Kitchen lights to forty percent", s, tg,
		[]string{"json", "schema", "label", "length", "leak", "mock_execution", "grounding"},
		map[string]string{"$.turns[0].args.room": "case", "$.turns[0].args.brightness": "number"})
	s.Turns = nil
	add("single_turn teacher-labels grounds the gold arguments", "set the kitchen lights to 40%", s, tg,
		nil, map[string]string{"$.turns[0].calls[0].arguments.room": "exact", "$.turns[0].calls[0].arguments.brightness": "exact"})

	s, tg = fcSample(t, multi, []generator.TurnPlan{
		{Function: "clock_create_alarm", Args: map[string]any{"time": "07:30", "label": "Gym"}},
		{Function: "clock_update_alarm", Args: map[string]any{"alarm_id": "alarms_1", "time": "08:15"}, Refs: map[string]int{"alarm_id": 0}},
	}, []generator.GoldTurn{
		{Action: generator.ActionCall, Calls: []generator.Call{{Name: "clock_create_alarm", Arguments: map[string]any{"time": "07:30", "label": "Gym"}}}},
		{Action: generator.ActionCall, Calls: []generator.Call{{Name: "clock_update_alarm", Arguments: map[string]any{"alarm_id": "alarms_1", "time": "08:15"}}}},
	})
	add("multi_turn", `["set an alarm for 7:30 am called gym", "actually make it 8:15"]`, s, tg,
		[]string{"json", "schema", "label", "turns", "length", "leak", "mock_execution", "grounding"}, nil)

	s, tg = fcSample(t, fcCell("lights_set_brightness", schemas.MissingParam),
		[]generator.TurnPlan{{Function: "lights_set_brightness", Args: map[string]any{"room": "kitchen"}, Omit: []string{"brightness"}}},
		[]generator.GoldTurn{{Action: generator.ActionAsk, Missing: []string{"brightness"}}})
	add("missing_param", "change how bright the kitchen lights are", s, tg,
		[]string{"json", "schema", "label", "length", "leak", "grounding"}, nil)

	s, tg = fcSample(t, fcCell("lights_set_brightness", schemas.InvalidValue),
		[]generator.TurnPlan{{Function: "lights_set_brightness", Args: map[string]any{"room": "kitchen", "brightness": 150}, Invalid: "brightness"}},
		[]generator.GoldTurn{{Action: generator.ActionAsk, Invalid: []string{"brightness"}}})
	add("invalid_value", "set the kitchen lights to 150 percent", s, tg, nil, nil)

	s, tg = fcSample(t, fcCell("", schemas.Irrelevant), []generator.TurnPlan{{Request: "tell me a joke"}}, []generator.GoldTurn{{Action: generator.ActionNone}})
	add("irrelevant", "tell me a joke about cats", s, tg, nil, nil)

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			val, rej := v.Check(tc.sample, tc.input, tc.target)
			if rej != nil {
				t.Fatalf("rejected: %v", rej)
			}
			if tc.wantChecks != nil && !reflect.DeepEqual(val.Checks, tc.wantChecks) {
				t.Errorf("checks %v, want %v", val.Checks, tc.wantChecks)
			}
			if tc.wantGround != nil && !reflect.DeepEqual(val.Grounded, tc.wantGround) {
				t.Errorf("grounded %v, want %v", val.Grounded, tc.wantGround)
			}
		})
	}
}

func TestValidatorRejects(t *testing.T) {
	cat := testutil.Catalog(t)
	v := New(cat, DefaultConfig())
	single := fcCell("lights_set_brightness", schemas.SingleTurn)
	okPlan := []generator.TurnPlan{{Function: "lights_set_brightness", Args: map[string]any{"room": "kitchen", "brightness": 40}}}
	okTurn := []generator.GoldTurn{{Action: generator.ActionCall, Calls: []generator.Call{brightness("kitchen", 40)}}}
	fc := func(cell generator.Cell, plans []generator.TurnPlan, turns []generator.GoldTurn) (generator.Sample, json.RawMessage) {
		return fcSample(t, cell, plans, turns)
	}
	type tcase struct {
		name   string
		sample generator.Sample
		input  string
		target json.RawMessage
		reason generator.RejectReason
		detail string // substring of the rejection detail
	}
	var tests []tcase
	add := func(name string, s generator.Sample, input string, target json.RawMessage, reason generator.RejectReason, detail string) {
		tests = append(tests, tcase{name, s, input, target, reason, detail})
	}
	card, intent := generator.Sample{Cell: cardCell}, generator.Sample{Cell: weatherCell}

	// json_parse
	add("target not JSON", card, cardInput, json.RawMessage(`{"full_name": "Ana"`), generator.RejectJSONParse, "not valid JSON")
	multiCell := fcCell("clock_create_alarm", schemas.MultiTurn)
	ms, mt := fc(multiCell, nil, []generator.GoldTurn{
		{Action: generator.ActionCall, Calls: []generator.Call{{Name: "clock_create_alarm", Arguments: map[string]any{"time": "07:30"}}}},
		{Action: generator.ActionCall, Calls: []generator.Call{{Name: "clock_delete_alarm", Arguments: map[string]any{"alarm_id": "alarms_1"}}}},
	})
	add("multi_turn input not an array", ms, "set an alarm for 7:30 then delete it", mt, generator.RejectJSONParse, "JSON array of 2 strings")
	add("multi_turn wrong number of turns", ms, `["set an alarm for 7:30", "delete it", "thanks"]`, mt, generator.RejectJSONParse, "3 utterances for 2 turns")
	add("multi_turn empty utterance", ms, `["set an alarm for 7:30", "  "]`, mt, generator.RejectJSONParse, "utterance 2 is empty")

	// schema
	add("edgejson missing required", card, cardInput, json.RawMessage(`{"full_name":"Ana Silva","email":"ana.silva@example.com","company":"Acme Corp"}`), generator.RejectSchema, `"phone"`)
	add("edgejson bad format", card, cardInput, json.RawMessage(`{"full_name":"Ana Silva","email":"not-an-email","phone":"+1 415 555 0100","company":"Acme Corp"}`), generator.RejectSchema, `field "email"`)
	s, tg := fc(single, okPlan, []generator.GoldTurn{{Action: generator.ActionCall, Calls: []generator.Call{brightness("kitchen", 150)}}})
	add("call argument out of range", s, "set the kitchen lights to 150 percent", tg, generator.RejectSchema, `argument "brightness"`)
	s, tg = fc(single, okPlan, []generator.GoldTurn{{Action: generator.ActionCall, Calls: []generator.Call{{Name: "lights_set_glow", Arguments: map[string]any{}}}}})
	add("unknown function", s, "set the kitchen lights to 40 percent", tg, generator.RejectSchema, `unknown function "lights_set_glow"`)
	add("target with unknown field", intent, "weather in lisbon now", json.RawMessage(`{"intent":"weather_current","confidence":0.9}`), generator.RejectSchema, "confidence")

	// label
	add("intent of another class", intent, "will it rain in lisbon on friday", json.RawMessage(`{"intent":"weather_forecast"}`), generator.RejectLabel, `not the cell's class "weather_current"`)
	add("intent not in taxonomy", intent, "what's the weather in lisbon", json.RawMessage(`{"intent":"weather_now"}`), generator.RejectLabel, "not a class of taxonomy assistant-50")
	add("slot not of the class", intent, "what's the weather in lisbon", json.RawMessage(`{"intent":"weather_current","slots":{"day":"friday"}}`), generator.RejectLabel, `slot "day"`)
	s, tg = fc(single, okPlan, okTurn)
	s.Cell.Scenario = schemas.MissingParam
	add("scenario differs from cell", s, "set the kitchen lights to 40 percent", tg, generator.RejectLabel, `target scenario "single_turn"`)
	s, tg = fc(fcCell("lights_set_brightness", schemas.MissingParam), nil, []generator.GoldTurn{{Action: generator.ActionAsk, Missing: []string{"colour"}}})
	add("missing names no parameter", s, "change the kitchen lights", tg, generator.RejectLabel, `missing "colour" is not a required parameter`)
	s, tg = fc(fcCell("lights_set_brightness", schemas.MissingParam), nil, []generator.GoldTurn{{Action: generator.ActionAsk, Missing: []string{"transition_seconds"}}})
	add("missing names an optional parameter", s, "change the kitchen lights", tg, generator.RejectLabel, "not a required parameter")
	s, tg = fc(fcCell("", schemas.Irrelevant), nil, []generator.GoldTurn{{Action: generator.ActionNone, Calls: []generator.Call{brightness("kitchen", 40)}}})
	add("irrelevant with a call", s, "tell me a joke about cats", tg, generator.RejectLabel, "action none has calls")
	s, tg = fc(single, okPlan, []generator.GoldTurn{{Action: generator.ActionCall, Calls: []generator.Call{{Name: "lights_set_power", Arguments: map[string]any{"room": "kitchen", "state": "on"}}}}})
	add("single_turn calls another function", s, "turn on the kitchen lights", tg, generator.RejectLabel, `no gold call of the cell's function "lights_set_brightness"`)

	// length
	add("too short", intent, "rain?", json.RawMessage(`{"intent":"weather_current"}`), generator.RejectLength, "5 characters")
	huge := strings.Repeat("what is the weather in lisbon right now ", 1<<20/40)
	add("1 MB input", intent, huge, json.RawMessage(`{"intent":"weather_current"}`), generator.RejectLength, "bytes")
	add("1 MB multi_turn input", ms, `["`+huge+`", "delete it"]`, mt, generator.RejectLength, "bytes")

	// placeholder_leak
	add("unfilled placeholder", intent, "what's the weather like in {city} right now", json.RawMessage(`{"intent":"weather_current"}`), generator.RejectLeak, "{city}")
	add("as an AI", intent, "As an AI, I'd ask: is it raining in Lisbon right now?", json.RawMessage(`{"intent":"weather_current"}`), generator.RejectLeak, "As an AI")
	add("code fence", intent, "```\nis it raining right now\n```", json.RawMessage(`{"intent":"weather_current"}`), generator.RejectLeak, "```")
	add("here is the utterance", intent, "Here is the utterance: is it raining right now", json.RawMessage(`{"intent":"weather_current"}`), generator.RejectLeak, "Here is the utterance")

	// mock_execution
	ds, dt := fc(multiCell, nil, []generator.GoldTurn{
		{Action: generator.ActionCall, Calls: []generator.Call{{Name: "clock_create_alarm", Arguments: map[string]any{"time": "07:30"}}}},
		{Action: generator.ActionCall, Calls: []generator.Call{{Name: "clock_delete_alarm", Arguments: map[string]any{"alarm_id": "alarms_2"}}}},
	})
	add("dangling id", ds, `["set an alarm for 7:30", "delete it"]`, dt, generator.RejectMockExecution, "no alarms record with alarm_id=alarms_2")
	var ft generator.FuncCallTarget
	if err := json.Unmarshal(mt, &ft); err != nil {
		t.Fatal(err)
	}
	ft.FinalState = json.RawMessage(`{"alarms":[{"id":"alarms_1","time":"07:30"}]}`)
	wrongState, _ := json.Marshal(ft)
	add("final state differs", ms, `["set an alarm for 7:30", "delete it"]`, wrongState, generator.RejectMockExecution, "differs from the executed state {}")

	// grounding
	add("hallucinated value", card, strings.Replace(cardInput, "Acme Corp", "Initech", 1), json.RawMessage(cardTarget), generator.RejectGrounding, `$.company "Acme Corp" not found in input`)
	add("hallucinated slot", intent, "what's the weather like in porto right now", json.RawMessage(weatherTarget), generator.RejectGrounding, `$.slots.city "Lisbon"`)
	s, tg = fc(single, okPlan, okTurn)
	add("call argument not stated", s, "set the kitchen lights to 45 percent", tg, generator.RejectGrounding, `$.turns[0].args.brightness 40 not found in input`)
	s, tg = fc(fcCell("lights_set_brightness", schemas.InvalidValue),
		[]generator.TurnPlan{{Function: "lights_set_brightness", Args: map[string]any{"room": "kitchen", "brightness": 150}, Invalid: "brightness"}},
		[]generator.GoldTurn{{Action: generator.ActionAsk, Invalid: []string{"brightness"}}})
	add("invalid value not stated", s, "make the kitchen lights really bright", tg, generator.RejectGrounding, "invalid value $.turns[0].args.brightness 150")
	ps, pt := fc(multiCell, []generator.TurnPlan{
		{Function: "clock_create_alarm", Args: map[string]any{"time": "07:30"}},
		{Function: "clock_delete_alarm", Args: map[string]any{"alarm_id": "alarms_1"}, Refs: map[string]int{"alarm_id": 0}},
	}, []generator.GoldTurn{
		{Action: generator.ActionCall, Calls: []generator.Call{{Name: "clock_create_alarm", Arguments: map[string]any{"time": "07:30"}}}},
		{Action: generator.ActionCall, Calls: []generator.Call{{Name: "clock_delete_alarm", Arguments: map[string]any{"alarm_id": "alarms_1"}}}},
	})
	add("value stated in the wrong turn", ps, `["set an alarm please", "delete the 7:30 one"]`, pt, generator.RejectGrounding, `$.turns[0].args.time "07:30" not found in turn 1`)

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, rej := v.Check(tc.sample, tc.input, tc.target)
			if rej == nil {
				t.Fatalf("accepted, want %s", tc.reason)
			}
			if rej.Reason != tc.reason || !strings.Contains(rej.Detail, tc.detail) {
				t.Errorf("rejection %s: %s\nwant %s containing %q", rej.Reason, rej.Detail, tc.reason, tc.detail)
			}
		})
	}
}

func TestValidatorConfig(t *testing.T) {
	cat := testutil.Catalog(t)
	input := "weather in lisbon now please"
	target := json.RawMessage(`{"intent":"weather_current","slots":{"city":"Porto"}}`)
	s := generator.Sample{Cell: weatherCell}
	tests := []struct {
		name   string
		cfg    Config
		reason generator.RejectReason
	}{
		{"defaults ground", DefaultConfig(), generator.RejectGrounding},
		{"grounding off", Config{}, ""},
		{"tighter max", Config{MaxInputChars: 10}, generator.RejectLength},
		{"higher min", Config{MinInputChars: 40}, generator.RejectLength},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, rej := New(cat, tc.cfg).Check(s, input, target)
			got := generator.RejectReason("")
			if rej != nil {
				got = rej.Reason
			}
			if got != tc.reason {
				t.Errorf("rejection %v, want %q", rej, tc.reason)
			}
		})
	}
}

func TestValidatorConcurrent(t *testing.T) {
	v := New(testutil.Catalog(t), DefaultConfig())
	s, target := fcSample(t, fcCell("lights_set_brightness", schemas.SingleTurn),
		[]generator.TurnPlan{{Function: "lights_set_brightness", Args: map[string]any{"room": "kitchen", "brightness": 40}}},
		[]generator.GoldTurn{{Action: generator.ActionCall, Calls: []generator.Call{brightness("kitchen", 40)}}})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if _, rej := v.Check(s, "set the kitchen lights to 40 percent", target); rej != nil {
					t.Errorf("rejected: %v", rej)
					return
				}
			}
		})
	}
	wg.Wait()
}
