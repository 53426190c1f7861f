package generator

import (
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/schemas"
)

func TestParseAnswer(t *testing.T) {
	dialogue := Sample{Cell: Cell{Task: schemas.EdgeFuncCall, Scenario: schemas.MultiTurn}}
	for _, tc := range []struct {
		name       string
		mode       Mode
		s          Sample
		content    string
		wantInput  string
		wantTarget string
		wantErr    string
	}{
		{"input", LabelFirst, Sample{}, `{"input":"hi there"}`, "hi there", "", ""},
		{"code fence", LabelFirst, Sample{}, "```json\n{\"input\":\"hi\"}\n```", "hi", "", ""},
		{"turns", LabelFirst, dialogue, `{"turns":["a","b \"c\""]}`, `["a","b \"c\""]`, "", ""},
		{"example", TeacherLabels, Sample{}, `{"input":"x","target":{ "a" : [1, 2] }}`, "x", `{"a":[1,2]}`, ""},
		{"extract", Extract, Sample{}, `{"target":{"intent":"timer_set"}}`, "", `{"intent":"timer_set"}`, ""},
		{"not JSON", LabelFirst, Sample{}, `Sure! {"input"`, "", "", "not a JSON object"},
		{"array", LabelFirst, Sample{}, `["x"]`, "", "", "not a JSON object"},
		{"null", LabelFirst, Sample{}, `null`, "", "", "null"},
		{"no input", LabelFirst, Sample{}, `{"text":"x"}`, "", "", `no "input"`},
		{"input not a string", LabelFirst, Sample{}, `{"input":["x"]}`, "", "", "not a string"},
		{"no turns", LabelFirst, dialogue, `{"input":"x"}`, "", "", `no "turns"`},
		{"empty turns", LabelFirst, dialogue, `{"turns":[]}`, "", "", "empty"},
		{"no target", TeacherLabels, Sample{}, `{"input":"x"}`, "", "", `no "target"`},
		{"null target", Extract, Sample{}, `{"target":null}`, "", "", `no "target"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			input, target, err := ParseAnswer(Request{Mode: tc.mode, Sample: tc.s}, tc.content)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || input != tc.wantInput || string(target) != tc.wantTarget {
				t.Errorf("got %q, %s, %v; want %q, %s", input, target, err, tc.wantInput, tc.wantTarget)
			}
		})
	}
}
