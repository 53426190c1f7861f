package generator

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/internal/testutil"

	"github.com/cyclecore/mlmforge/schemas"
)

// compactJSONLiteral compacts a JSON literal so tests can compare canonical encodings.
func compactJSONLiteral(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON literal %s: %v", s, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestMockExecute(t *testing.T) {
	cat := testutil.Catalog(t)
	type step struct {
		call    Call
		want    string // expected result JSON ("" = do not check)
		wantErr string // substring of the expected error
	}
	event := Call{Name: "calendar_create_event", Arguments: map[string]any{"title": "Dentist", "start": "2026-03-14T09:30:00Z"}}
	tests := []struct {
		name  string
		steps []step
		state string
	}{
		{
			name: "create then delete by the returned id",
			steps: []step{
				{call: event, want: `{"id":"calendar_events_1"}`},
				{call: Call{Name: "calendar_delete_event", Arguments: map[string]any{"event_id": "calendar_events_1"}}, want: `{"deleted":"calendar_events_1"}`},
			},
			state: `{}`,
		},
		{
			name: "delete of a missing mock id fails",
			steps: []step{
				{call: event},
				{call: Call{Name: "calendar_delete_event", Arguments: map[string]any{"event_id": "calendar_events_2"}}, wantErr: "no calendar_events record with event_id=calendar_events_2"},
			},
		},
		{
			name: "deleting twice fails the second time",
			steps: []step{
				{call: event},
				{call: Call{Name: "calendar_delete_event", Arguments: map[string]any{"event_id": "calendar_events_1"}}},
				{call: Call{Name: "calendar_delete_event", Arguments: map[string]any{"event_id": "calendar_events_1"}}, wantErr: "no calendar_events record"},
			},
		},
		{
			name: "delete of a key the mock never issued is a record outside the world",
			steps: []step{
				{call: Call{Name: "shopping_remove_from_cart", Arguments: map[string]any{"sku": "SKU-4821"}}, want: `{"deleted":"SKU-4821"}`},
			},
			state: `{}`,
		},
		{
			name: "ids count per collection",
			steps: []step{
				{call: event, want: `{"id":"calendar_events_1"}`},
				{call: Call{Name: "notes_create", Arguments: map[string]any{"title": "Milk", "body": "buy milk"}}, want: `{"id":"notes_1"}`},
				{call: event, want: `{"id":"calendar_events_2"}`},
			},
		},
		{
			name: "upsert creates, then merges over the same key",
			steps: []step{
				{call: Call{Name: "lights_set_power", Arguments: map[string]any{"room": "kitchen", "state": "on"}}, want: `{"room":"kitchen","state":"on"}`},
				{call: Call{Name: "lights_set_brightness", Arguments: map[string]any{"room": "kitchen", "brightness": 40}}, want: `{"brightness":40,"room":"kitchen","state":"on"}`},
				{call: Call{Name: "lights_set_power", Arguments: map[string]any{"room": "bedroom", "state": "off"}}},
			},
			state: `{"lights":[{"brightness":40,"room":"kitchen","state":"on"},{"room":"bedroom","state":"off"}]}`,
		},
		{
			name: "upsert by a created id merges into that record",
			steps: []step{
				{call: event},
				{call: Call{Name: "calendar_update_event", Arguments: map[string]any{"event_id": "calendar_events_1", "title": "Dentist (moved)"}},
					want: `{"id":"calendar_events_1","start":"2026-03-14T09:30:00Z","title":"Dentist (moved)"}`},
			},
			state: `{"calendar_events":[{"id":"calendar_events_1","start":"2026-03-14T09:30:00Z","title":"Dentist (moved)"}]}`,
		},
		{
			name: "upsert of a missing mock id fails",
			steps: []step{
				{call: Call{Name: "calendar_update_event", Arguments: map[string]any{"event_id": "calendar_events_3", "title": "x"}}, wantErr: "no calendar_events record with event_id=calendar_events_3"},
			},
		},
		{
			name: "a dangling mock id in another argument fails",
			steps: []step{
				{call: Call{Name: "notes_share", Arguments: map[string]any{"note_id": "notes_1", "with": []any{"a@example.com"}, "permission": "view"}}, wantErr: `argument "note_id": no notes record`},
			},
		},
		{
			name: "read filters on the fields records have and on created ids",
			steps: []step{
				{call: event},
				{call: Call{Name: "calendar_create_event", Arguments: map[string]any{"title": "Gym", "start": "2026-03-15T18:00:00Z", "calendar": "personal"}}},
				{call: Call{Name: "calendar_get_event", Arguments: map[string]any{"event_id": "calendar_events_2"}},
					want: `[{"calendar":"personal","id":"calendar_events_2","start":"2026-03-15T18:00:00Z","title":"Gym"}]`},
				// Records without a "calendar" field do not filter on it.
				{call: Call{Name: "calendar_list_events", Arguments: map[string]any{"calendar": "work"}},
					want: `[{"id":"calendar_events_1","start":"2026-03-14T09:30:00Z","title":"Dentist"}]`},
				{call: Call{Name: "calendar_get_event", Arguments: map[string]any{"event_id": "calendar_events_3"}}, wantErr: "no calendar_events record with id=calendar_events_3"},
				{call: Call{Name: "shopping_get_product", Arguments: map[string]any{"sku": "SKU-1"}}, want: `[]`},
				{call: Call{Name: "calendar_list_events", Arguments: map[string]any{}}},
			},
		},
		{
			name: "invalid arguments name the argument",
			steps: []step{
				{call: Call{Name: "lights_set_brightness", Arguments: map[string]any{"room": "kitchen", "brightness": 150}}, wantErr: `argument "brightness"`},
				{call: Call{Name: "lights_set_brightness", Arguments: map[string]any{"room": "kitchen"}}, wantErr: `missing required argument "brightness"`},
				{call: Call{Name: "lights_set_brightness", Arguments: map[string]any{"room": "kitchen", "brightness": 5, "hue": 3}}, wantErr: `unknown argument "hue"`},
				{call: Call{Name: "calendar_create_event", Arguments: map[string]any{"title": "x", "start": "tomorrow"}}, wantErr: `argument "start"`},
				{call: Call{Name: "no_such_function", Arguments: map[string]any{}}, wantErr: `unknown function "no_such_function"`},
			},
			state: `{}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWorld()
			for i, st := range tc.steps {
				got, err := w.Execute(cat, st.call)
				if st.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), st.wantErr) {
						t.Fatalf("step %d %s: error %v, want one containing %q", i, st.call.Name, err, st.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d %s: %v", i, st.call.Name, err)
				}
				if st.want != "" && string(got) != compactJSONLiteral(t, st.want) {
					t.Errorf("step %d %s: result %s, want %s", i, st.call.Name, got, compactJSONLiteral(t, st.want))
				}
			}
			if tc.state != "" && string(w.State()) != compactJSONLiteral(t, tc.state) {
				t.Errorf("state %s, want %s", w.State(), compactJSONLiteral(t, tc.state))
			}
		})
	}
}

func TestMockRecordsDoNotAliasArguments(t *testing.T) {
	cat := testutil.Catalog(t)
	w := NewWorld()
	args := map[string]any{"room": "kitchen", "state": "on"}
	if _, err := w.Execute(cat, Call{Name: "lights_set_power", Arguments: args}); err != nil {
		t.Fatal(err)
	}
	args["state"] = "off"
	if got, want := string(w.State()), `{"lights":[{"room":"kitchen","state":"on"}]}`; got != want {
		t.Errorf("state %s after changing the caller's map, want %s", got, want)
	}
}

func TestMockExecuteTarget(t *testing.T) {
	cat := testutil.Catalog(t)
	target := FuncCallTarget{Scenario: schemas.MultiTurn, Turns: []GoldTurn{
		{Action: ActionCall, Calls: []Call{{Name: "clock_create_alarm", Arguments: map[string]any{"time": "07:30", "label": "Gym"}}}},
		{Action: ActionCall, Calls: []Call{{Name: "clock_update_alarm", Arguments: map[string]any{"alarm_id": "alarms_1", "time": "08:00"}}}},
		{Action: ActionCall, Calls: []Call{
			{Name: "clock_list_alarms", Arguments: map[string]any{}},
			{Name: "clock_delete_alarm", Arguments: map[string]any{"alarm_id": "alarms_1"}},
		}},
	}}
	state, results, err := ExecuteTarget(cat, target)
	if err != nil {
		t.Fatal(err)
	}
	if string(state) != `{}` {
		t.Errorf("final state %s, want {}", state)
	}
	wantResults := [][]string{
		{`{"id":"alarms_1"}`},
		{`{"id":"alarms_1","label":"Gym","time":"08:00"}`},
		{`[{"id":"alarms_1","label":"Gym","time":"08:00"}]`, `{"deleted":"alarms_1"}`},
	}
	if len(results) != len(wantResults) {
		t.Fatalf("%d turns of results, want %d", len(results), len(wantResults))
	}
	for i := range wantResults {
		for j, want := range wantResults[i] {
			if j >= len(results[i]) || string(results[i][j]) != want {
				t.Errorf("turn %d call %d: %s, want %s", i, j, results[i], want)
			}
		}
	}

	target.Turns[1].Calls[0].Arguments["alarm_id"] = "alarms_2"
	if _, _, err := ExecuteTarget(cat, target); err == nil || !strings.Contains(err.Error(), "turn 2 call 1") {
		t.Errorf("dangling id: error %v, want one naming turn 2 call 1", err)
	}
}

func TestMockStateDeterministic(t *testing.T) {
	cat := testutil.Catalog(t)
	run := func() string {
		w := NewWorld()
		for _, room := range []string{"kitchen", "hall", "bedroom", "office"} {
			if _, err := w.Execute(cat, Call{Name: "lights_set_color", Arguments: map[string]any{"room": room, "color": "blue", "saturation": 50}}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Execute(cat, Call{Name: "thermostat_set_mode", Arguments: map[string]any{"zone": room, "mode": "heat"}}); err != nil {
				t.Fatal(err)
			}
		}
		return string(w.State())
	}
	first := run()
	for range 5 {
		if got := run(); got != first {
			t.Fatalf("state differs between runs:\n%s\n%s", first, got)
		}
	}
}
