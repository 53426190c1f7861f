package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cyclecore/mlmforge/generator/ollamatest"
	"github.com/cyclecore/mlmforge/schemas"
)

// promptCase is a hand-built sample of one task and scenario, with a text to
// extract from and values that must (LabelFirst) or must not (Extract) be in
// the prompt.
type promptCase struct {
	name   string
	sample Sample
	text   string
	// shown are values a LabelFirst prompt must show verbatim.
	shown []string
	// secret are gold values that the text does not state, so an Extract
	// prompt that contains one leaks the answer.
	secret []string
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func promptCases(t testing.TB) []promptCase {
	contact := map[string]any{
		"full_name": "Dana Lee",
		"email":     "dana.lee@northwind.io",
		"phone":     "+1 415 555 0134",
		"company":   "Northwind & Sons <HQ>",
		"job_title": `{{.Schema}} "quoted" title`,
	}
	event := func(title, start string) map[string]any { return map[string]any{"title": title, "start": start} }
	ft := func(sc schemas.Scenario, turns ...GoldTurn) json.RawMessage {
		return mustJSON(t, FuncCallTarget{Scenario: sc, Turns: turns})
	}
	cell := func(fn string, sc schemas.Scenario) Cell {
		key := fn + "/" + string(sc)
		if fn == "" {
			key = "irrelevant"
		}
		return Cell{Key: key, Task: schemas.EdgeFuncCall, Variant: "funccall-130", Function: fn, Scenario: sc}
	}
	return []promptCase{
		{
			name: "edgejson",
			sample: Sample{
				Cell:   Cell{Key: "contact.contact_card", Task: schemas.EdgeJSON, Variant: "edgejson", SchemaID: "contact.contact_card", Complexity: schemas.Simple},
				Target: mustJSON(t, contact),
			},
			text:   "Best, Dana Lee, Northwind. dana.lee@northwind.io",
			shown:  []string{`"Northwind & Sons <HQ>"`, `"{{.Schema}} \"quoted\" title"`, `"+1 415 555 0134"`},
			secret: []string{"+1 415 555 0134", "Sons <HQ>"},
		},
		{
			name: "edgeintent",
			sample: Sample{
				Cell:   Cell{Key: "weather_current", Task: schemas.EdgeIntent, Variant: "assistant-50", Taxonomy: "assistant-50", Class: "weather_current"},
				Target: mustJSON(t, IntentTarget{Intent: "weather_current", Slots: map[string]string{"city": "Lisbon"}}),
				Slots:  map[string]string{"city": "Lisbon"},
			},
			text:   "is it raining out there right now",
			shown:  []string{`"city": "Lisbon"`, "weather_current"},
			secret: []string{"Lisbon"},
		},
		{
			name: "edgefunccall single_turn",
			sample: Sample{
				Cell: cell("calendar_create_event", schemas.SingleTurn),
				Target: ft(schemas.SingleTurn, GoldTurn{Action: ActionCall, Calls: []Call{
					{Name: "calendar_create_event", Arguments: event("Dentist", "2026-03-14T09:30:00Z")}}}),
				Turns: []TurnPlan{{Function: "calendar_create_event", Args: event("Dentist", "2026-03-14T09:30:00Z")}},
			},
			text:   "put the dentist in my calendar",
			shown:  []string{`"title": "Dentist"`, `"start": "2026-03-14T09:30:00Z"`},
			secret: []string{"2026-03-14"},
		},
		{
			name: "edgefunccall missing_param",
			sample: Sample{
				Cell:   cell("calendar_create_event", schemas.MissingParam),
				Target: ft(schemas.MissingParam, GoldTurn{Action: ActionAsk, Missing: []string{"start"}}),
				Turns:  []TurnPlan{{Function: "calendar_create_event", Args: map[string]any{"title": "Yoga"}, Omit: []string{"start"}}},
			},
			text:   "add yoga to my calendar",
			shown:  []string{`"title": "Yoga"`, "Leave out start"},
			secret: []string{"Leave out start"},
		},
		{
			name: "edgefunccall invalid_value",
			sample: Sample{
				Cell:   cell("lights_set_brightness", schemas.InvalidValue),
				Target: ft(schemas.InvalidValue, GoldTurn{Action: ActionAsk, Invalid: []string{"brightness"}}),
				Turns: []TurnPlan{{Function: "lights_set_brightness",
					Args: map[string]any{"room": "kitchen", "brightness": 140}, Invalid: "brightness"}},
			},
			text:   "kitchen lights to 140 percent",
			shown:  []string{`"brightness": 140`, "The value for brightness"},
			secret: []string{"The value for brightness"},
		},
		{
			name: "edgefunccall irrelevant",
			sample: Sample{
				Cell:   cell("", schemas.Irrelevant),
				Target: ft(schemas.Irrelevant, GoldTurn{Action: ActionNone}),
				Turns:  []TurnPlan{{Request: "tell me a joke about penguins"}},
			},
			text:   "what's the capital of Peru",
			shown:  []string{`"tell me a joke about penguins"`},
			secret: []string{"penguins"},
		},
		{
			name: "edgefunccall multi_turn",
			sample: Sample{
				Cell: cell("calendar_create_event", schemas.MultiTurn),
				Target: ft(schemas.MultiTurn,
					GoldTurn{Action: ActionCall, Calls: []Call{{Name: "calendar_create_event", Arguments: event("Team sync", "2026-05-04T10:00:00Z")}}},
					GoldTurn{Action: ActionCall, Calls: []Call{{Name: "calendar_delete_event", Arguments: map[string]any{"event_id": MockID("calendar_events", 1)}}}}),
				Turns: []TurnPlan{
					{Function: "calendar_create_event", Args: event("Team sync", "2026-05-04T10:00:00Z")},
					{Function: "calendar_delete_event", Refs: map[string]int{"event_id": 0}},
				},
			},
			text:   `["add team sync on may 4 at 10", "actually delete it"]`,
			shown:  []string{`"title": "Team sync"`, "created in message 1", "calendar_delete_event"},
			secret: []string{"created in message 1"},
		},
	}
}

// compileFormat compiles an answer format as a draft 2020-12 JSON schema.
func compileFormat(t *testing.T, format json.RawMessage) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(format))
	if err != nil {
		t.Fatalf("format is not JSON: %v\n%s", err, format)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("format.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("format.json")
	if err != nil {
		t.Fatalf("format is not a valid JSON schema: %v\n%s", err, format)
	}
	return sch
}

func validateAnswer(t *testing.T, sch *jsonschema.Schema, answer string) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(answer))
	if err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return sch.Validate(inst)
}

func TestRenderPromptEveryTaskAndMode(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[string]string{}
	for _, ti := range Templates() {
		hashes[ti.ID] = ti.Hash
	}
	for _, pc := range promptCases(t) {
		for _, mode := range []Mode{LabelFirst, TeacherLabels, Extract} {
			t.Run(pc.name+"/"+string(mode), func(t *testing.T) {
				s := pc.sample
				if mode == TeacherLabels {
					s = Sample{Cell: s.Cell} // the teacher gets only the cell
				}
				text := ""
				if mode == Extract {
					text = pc.text
				}
				p, err := RenderPrompt(cat, mode, s, text)
				if err != nil {
					t.Fatalf("RenderPrompt: %v", err)
				}
				if want := TemplateID(s.Cell.Task, mode); p.TemplateID != want {
					t.Errorf("TemplateID = %q, want %q", p.TemplateID, want)
				}
				if p.Hash == "" || p.Hash != hashes[p.TemplateID] {
					t.Errorf("Hash = %q, want %q", p.Hash, hashes[p.TemplateID])
				}
				for part, txt := range map[string]string{"system": p.System, "user": p.User} {
					if strings.TrimSpace(txt) == "" {
						t.Errorf("%s prompt is empty", part)
					}
					for _, bad := range []string{"<no value>", "\\u0026", "\\u003c", "%!"} {
						if strings.Contains(txt, bad) {
							t.Errorf("%s prompt contains %q:\n%s", part, bad, txt)
						}
					}
				}
				switch mode {
				case LabelFirst:
					for _, v := range pc.shown {
						if !strings.Contains(p.User, v) {
							t.Errorf("label-first prompt does not show %q:\n%s", v, p.User)
						}
					}
				case Extract:
					for _, v := range pc.secret {
						if strings.Contains(p.User, v) || strings.Contains(p.System, v) {
							t.Errorf("extract prompt leaks the gold value %q:\n%s", v, p.User)
						}
					}
				}
				checkFormat(t, mode, s, p)
				if testing.Verbose() && os.Getenv("PROMPT_DUMP") != "" {
					t.Logf("SYSTEM:\n%s\n\nUSER:\n%s\n\nFORMAT:\n%s", p.System, p.User, p.Format)
				}
			})
		}
	}
}

// checkFormat compiles the prompt's format, checks that the fake server's
// default and alternative answers to it are valid, and that Write's parser
// reads the default one.
func checkFormat(t *testing.T, mode Mode, s Sample, p Prompt) {
	t.Helper()
	sch := compileFormat(t, p.Format)
	for _, alt := range []bool{false, true} {
		answer, err := ollamatest.FromSchema(p.Format, alt)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateAnswer(t, sch, answer); err != nil {
			t.Errorf("answer (alternative %v) breaks the format: %v\nanswer: %s\nformat: %s", alt, err, answer, p.Format)
		}
	}
	if err := validateAnswer(t, sch, `{"unexpected_field": 1}`); err == nil {
		t.Errorf("format accepts an answer of unknown fields: %s", p.Format)
	}
	answer, _ := ollamatest.FromSchema(p.Format, false)
	input, target, err := ParseAnswer(Request{Mode: mode, Sample: s}, answer)
	if err != nil {
		t.Fatalf("parse default answer: %v\n%s", err, answer)
	}
	if (mode == Extract) != (input == "") {
		t.Errorf("mode %s: input = %q", mode, input)
	}
	if (mode == LabelFirst) != (target == nil) {
		t.Errorf("mode %s: target = %s", mode, target)
	}
	if isDialogueSample(s) && mode != Extract {
		var turns []string
		if err := json.Unmarshal([]byte(input), &turns); err != nil || len(turns) < 2 {
			t.Errorf("dialogue input = %q, want a JSON array of 2+ messages (%v)", input, err)
		}
	}
}

func TestTemplatesListsEveryTemplateWithItsFileHash(t *testing.T) {
	var ids []string
	for _, ti := range Templates() {
		ids = append(ids, ti.ID)
		data, err := os.ReadFile("prompts/" + ti.ID + ".tmpl")
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if want := hex.EncodeToString(sum[:]); ti.Hash != want {
			t.Errorf("%s: hash %s, want %s", ti.ID, ti.Hash, want)
		}
		if TemplateID(ti.Task, ti.Mode) != ti.ID {
			t.Errorf("%s: task %q mode %q give id %q", ti.ID, ti.Task, ti.Mode, TemplateID(ti.Task, ti.Mode))
		}
	}
	want := []string{
		"edgefunccall-example@v1", "edgefunccall-extract@v1", "edgefunccall-input@v1",
		"edgeintent-example@v1", "edgeintent-extract@v1", "edgeintent-input@v1",
		"edgejson-example@v1", "edgejson-extract@v1", "edgejson-input@v1",
	}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("Templates() = %v, want %v", ids, want)
	}
}

func TestRenderPromptRejectsBadRequests(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	cases := promptCases(t)
	jsonSample, multi := cases[0].sample, cases[len(cases)-1].sample
	noTurns := cases[2].sample
	noTurns.Turns = nil
	forward := multi
	forward.Turns = []TurnPlan{{Function: "calendar_delete_event", Refs: map[string]int{"event_id": 1}}, multi.Turns[0]}
	unknown := jsonSample
	unknown.Cell.SchemaID = "contact.no_such_schema"
	tests := []struct {
		name string
		mode Mode
		s    Sample
		text string
		want string
	}{
		{"unknown mode", "freestyle", jsonSample, "", "unknown mode"},
		{"label-first without target", LabelFirst, Sample{Cell: jsonSample.Cell}, "", "no target"},
		{"extract without text", Extract, jsonSample, " ", "needs a text"},
		{"unknown schema", LabelFirst, unknown, "", "unknown schema"},
		{"funccall without turn plans", LabelFirst, noTurns, "", "no turn plans"},
		{"reference to a later turn", LabelFirst, forward, "", "not an earlier turn"},
		{"dialogue text not an array", Extract, multi, "just one message", "not a JSON array"},
		{"unknown task", LabelFirst, Sample{Cell: Cell{Task: "edgeaudio"}, Target: json.RawMessage(`{}`)}, "", "edgeaudio"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RenderPrompt(cat, tc.mode, tc.s, tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
