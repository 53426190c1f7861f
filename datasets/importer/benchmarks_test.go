package importer

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/schemas"
)

// These tests run the benchmark importers on small files in the benchmarks'
// formats, so the importers' logic is tested without the external data.

func TestCLINC150Fixture(t *testing.T) {
	tests := []struct {
		name, data string
		oos        bool
		counts     map[string]int
		err        string
	}{
		{name: "in scope only", counts: map[string]int{"train": 2, "val": 1, "test": 1},
			data: `{"train": [["hi there", "greeting"], ["bye now", "goodbye"]], "val": [["hello", "greeting"]],
				"test": [["see ya", "goodbye"]], "oos_test": [["what is love", "oos"]]}`},
		{name: "with oos", oos: true, counts: map[string]int{"train": 1, "val": 1, "test": 1, "oos_train": 1, "oos_val": 1, "oos_test": 2},
			data: `{"train": [["hi", "greeting"]], "val": [["yo", "greeting"]], "test": [["hey", "greeting"]],
				"oos_train": [["a", "oos"]], "oos_val": [["b", "oos"]], "oos_test": [["c", "oos"], ["d", "oos"]]}`},
		{name: "missing split", data: `{"train": [], "test": []}`, err: `data_full.json: no "val" list`},
		{name: "oos in scope", data: `{"train": [["x", "oos"]], "val": [], "test": []}`, err: `$.train[0]: intent "oos" in list "train"`},
		{name: "in scope in oos", oos: true, data: `{"train": [], "val": [], "test": [], "oos_train": [["x", "greeting"]]}`,
			err: `$.oos_train[0]: intent "greeting" in list "oos_train"`},
		{name: "bad pair", data: `{"train": [["only text"]], "val": [], "test": []}`, err: `$.train[0]: want [text, intent]`},
		{name: "not json", data: `{"train": [`, err: "data_full.json: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "data_full.json", tt.data)
			writeFile(t, dir, "domains.json", `{"small_talk": ["greeting", "goodbye"]}`)
			d, err := ImportCLINC150(dir, CLINC150Options{IncludeOOS: tt.oos})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkCounts(t, "split", d.Counts(), tt.counts)
			if r := d.Records[0]; r.Meta != `{"domain":"small_talk"}` || r.ID != "clinc150-train-00000" {
				t.Errorf("first record %+v", r)
			}
		})
	}
}

func TestSNIPSFixture(t *testing.T) {
	dir := t.TempDir()
	// A leading space, a repeated slot, a padded span and an utterance without slots.
	writeFile(t, dir, "validate_PlayMusic.json", `{"PlayMusic": [
		{"data": [{"text": " play "}, {"text": "Abba", "entity": "artist"}, {"text": " and "}, {"text": " Queen ", "entity": "artist"}, {"text": " on "}, {"text": "Spotify", "entity": "service"}]},
		{"data": [{"text": "play something"}]}]}`)
	// Latin-1 bytes (0xe9 is é), as in some upstream SNIPS files.
	writeFile(t, dir, "train_PlayMusic_full.json", "{\"PlayMusic\": [{\"data\": [{\"text\": \"play \"}, {\"text\": \"Beyonc\xe9\", \"entity\": \"artist\"}]}]}")
	writeFile(t, dir, "train_PlayMusic.json", `{"PlayMusic": [{"data": [{"text": "skipped: the _full file is its superset"}]}]}`)
	writeFile(t, dir, "README.md", "not a benchmark file")
	d, err := ImportSNIPS(dir, SNIPSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "split", d.Counts(), map[string]int{"train": 1, "test": 2})
	if len(d.Files) != 2 || d.Files[0].Encoding != "latin-1" {
		t.Fatalf("files %+v", d.Files)
	}
	byID := map[string]int{}
	for i, r := range d.Records {
		byID[r.ID] = i
	}
	r := d.Records[byID["snips-play_music-test-000"]]
	if r.Input != "play Abba and  Queen  on Spotify" || r.Target != `{"artist":["Abba","Queen"],"service":"Spotify"}` ||
		r.Cell != "snips.play_music" {
		t.Fatalf("record %+v", r)
	}
	checkSNIPSRecord(t, r, map[string]bool{})
	if got := d.Records[byID["snips-play_music-train-000"]]; got.Input != "play Beyoncé" {
		t.Errorf("latin-1 input %q", got.Input)
	}
	if got := d.Records[byID["snips-play_music-test-001"]]; got.Target != `{}` {
		t.Errorf("no-slot target %s", got.Target)
	}

	// The target must match the schema: an unknown slot cannot be added.
	raw, _ := RecordSchema(r)
	sch, err := compileSchema("t", raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`{"album": "x"}`, `{"artist": ["only one"]}`, `{"artist": ""}`} {
		var v any
		_ = json.Unmarshal([]byte(bad), &v)
		if validateJSON(sch, v) == nil {
			t.Errorf("schema accepts %s", bad)
		}
	}

	in, err := ImportSNIPS(dir, SNIPSOptions{Task: schemas.EdgeIntent})
	if err != nil {
		t.Fatal(err)
	}
	if r := in.Records[byID["snips-play_music-test-000"]]; r.Target != `{"intent":"play_music"}` || r.Intent != "play_music" ||
		!strings.Contains(r.Meta, `"slots":{"artist":["Abba","Queen"],"service":"Spotify"}`) {
		t.Errorf("intent record %+v", r)
	}
	if _, err := ImportSNIPS(dir, SNIPSOptions{Task: schemas.EdgeFuncCall}); err == nil {
		t.Error("snips accepts task edgefunccall")
	}
	if _, err := ImportSNIPS(t.TempDir(), SNIPSOptions{}); err == nil || !strings.Contains(err.Error(), "no validate_<Intent>.json") {
		t.Errorf("empty directory: %v", err)
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{"SearchScreeningEvent": "search_screening_event", "GetWeather": "get_weather",
		"AddToPlaylist": "add_to_playlist", "HTTPRequest": "http_request", "x": "x"} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

const bfclFunc = `[{"name": "area", "description": "Area.", "parameters": {"type": "dict", "properties": {"base": {"type": "integer"}, "unit": {"type": "string"}}, "required": ["base"]}}]`

func TestBFCLFixture(t *testing.T) {
	tests := []struct {
		name, questions, gold string
		want                  []string // targets
		err                   string
	}{
		{name: "first acceptable value, optional omitted",
			questions: `{"id": "simple_python_0", "question": [[{"role": "user", "content": "Area of base 10?"}]], "function": ` + bfclFunc + "}\n\n",
			gold:      `{"id": "simple_python_0", "ground_truth": [{"area": {"base": [10, 10.0], "unit": ["", "units"]}}]}`,
			want:      []string{`{"scenario":"single_turn","turns":[{"action":"call","calls":[{"name":"area","arguments":{"base":10}}]}]}`}},
		{name: "no gold", questions: `{"id": "simple_python_1", "question": [[{"role": "user", "content": "q"}]], "function": ` + bfclFunc + "}",
			gold: ``, err: "BFCL_v4_simple_python.json:1: simple_python_1 has no gold in possible_answer/BFCL_v4_simple_python.json"},
		{name: "gold without question",
			questions: `{"id": "simple_python_0", "question": [[{"role": "user", "content": "q"}]], "function": ` + bfclFunc + "}",
			gold:      `{"id": "simple_python_0", "ground_truth": [{"area": {"base": [1]}}]}` + "\n" + `{"id": "simple_python_9", "ground_truth": [{"area": {"base": [1]}}]}`,
			err:       "possible_answer/BFCL_v4_simple_python.json:2: gold for simple_python_9"},
		{name: "bad json line", questions: `{"id": "simple_python_0", "question": [[{"role": "user" "content": "q"}]]}`,
			gold: `{"id": "simple_python_0", "ground_truth": [{"area": {"base": [1]}}]}`, err: "BFCL_v4_simple_python.json:1:57: invalid JSON"},
		{name: "multi-turn", questions: `{"id": "simple_python_0", "question": [[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]], "function": ` + bfclFunc + "}",
			gold: `{"id": "simple_python_0", "ground_truth": [{"area": {"base": [1]}}]}`, err: "only single-turn"},
		{name: "empty acceptable list", questions: `{"id": "simple_python_0", "question": [[{"role": "user", "content": "q"}]], "function": ` + bfclFunc + "}",
			gold: `{"id": "simple_python_0", "ground_truth": [{"area": {"base": []}}]}`, err: "ground_truth[0].area.base: want a non-empty list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "BFCL_v4_simple_python.json", tt.questions)
			writeFile(t, dir, "BFCL_v3_simple_python.json", "older version: ignored")
			writeFile(t, dir, "possible_answer/BFCL_v4_simple_python.json", tt.gold)
			d, err := ImportBFCL(dir, BFCLOptions{Categories: []string{"simple_python"}, Strict: tt.err != ""})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("strict: error %v, want %q", err, tt.err)
				}
				// Without Strict the line is skipped and reported the same way.
				d, err := ImportBFCL(dir, BFCLOptions{Categories: []string{"simple_python"}})
				msg := fmt.Sprint(err)
				if err == nil && len(d.BadRows) > 0 {
					msg = d.BadRows[0].String()
				}
				if !strings.Contains(msg, tt.err) {
					t.Fatalf("skipped line %q, want %q", msg, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range d.Records {
				got = append(got, r.Target)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("targets %v, want %v", got, tt.want)
			}
			var meta BFCLMeta
			if err := json.Unmarshal([]byte(d.Records[0].Meta), &meta); err != nil || !strings.Contains(string(meta.PossibleAnswer), `"unit":["","units"]`) {
				t.Errorf("meta %s (%v)", d.Records[0].Meta, err)
			}
		})
	}
	if _, err := ImportBFCL(t.TempDir(), BFCLOptions{Categories: []string{"multi_turn_base"}}); err == nil ||
		!strings.Contains(err.Error(), `unknown category "multi_turn_base"`) {
		t.Errorf("multi-turn category: %v", err)
	}
	if _, err := ImportBFCL(t.TempDir(), BFCLOptions{Categories: []string{"irrelevance"}}); err == nil ||
		!strings.Contains(err.Error(), "no BFCL_v<N>_irrelevance.json") {
		t.Errorf("missing file: %v", err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "BFCL_v4_irrelevance.json", `{"id": "irrelevance_0", "question": [[{"role": "system", "content": "be brief"}, {"role": "user", "content": "Weather?"}]], "function": `+bfclFunc+"}")
	d, err := ImportBFCL(dir, BFCLOptions{Categories: []string{"irrelevance"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := d.Records[0]; r.Target != `{"scenario":"irrelevant","turns":[{"action":"none"}]}` || r.Input != "Weather?" ||
		!strings.Contains(r.Meta, `"system":["be brief"]`) || strings.Contains(r.Meta, "possible_answer") || r.ID != "bfcl-irrelevance_0" {
		t.Errorf("irrelevance record %+v", r)
	}
	if filepath.Base(d.Files[0].Name) != "BFCL_v4_irrelevance.json" || len(d.Files) != 1 {
		t.Errorf("files %+v", d.Files)
	}
}
