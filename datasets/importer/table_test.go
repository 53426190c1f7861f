package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/schemas"
)

// at returns "file:line:col" where col is the 1-based column of sub in text.
func at(file string, line int, text, sub string) string {
	i := strings.Index(text, sub)
	if i < 0 {
		panic(fmt.Sprintf("%q not in %q", sub, text))
	}
	return fmt.Sprintf("%s:%d:%d:", file, line, i+1)
}

func TestImportTableErrors(t *testing.T) {
	intentMap := Mapping{Input: "text", Label: "intent"}
	const (
		jl1  = `{"input": "set a timer", "target": {"intent": "set_timer"}, "split": "dev"}`
		jl2  = `{"input": "play jazz", "target": {"intent": "play_music"}, "split": "test" }`
		jl3  = `{"input": "play jazz", "target": {"label": "play_music"}}`
		csv2 = `set a timer,set_timer,dev`
	)
	tests := []struct {
		name, file, content string
		task                schemas.Task
		m                   Mapping
		want                []string // substrings of the error
	}{
		{"csv missing column", "bad.csv", "utterance,intent\nhi,greet\n", schemas.EdgeIntent, intentMap,
			[]string{`bad.csv:1: no column "text" (field input): the header has utterance, intent`}},
		{"csv unknown split", "bad.csv", "text,intent,split\n" + csv2 + "\n", schemas.EdgeIntent, intentMap,
			[]string{at("bad.csv", 2, csv2, "dev"), `column "split": unknown split "dev": allowed splits are train, val, test`}},
		{"csv bad target json", "bad.csv", "input,target\nhello,\"{\"\"intent\"\": }\"\n", schemas.EdgeIntent, Mapping{},
			[]string{"bad.csv:2:7:", `column "target": not valid JSON`}},
		{"csv field count", "bad.csv", "text,intent\na,b\nc,d,e\n", schemas.EdgeIntent, intentMap,
			[]string{"bad.csv:3:1:", "wrong number of fields"}},
		{"csv bare quote", "bad.csv", "text,intent\na \"quoted\" word,b\n", schemas.EdgeIntent, intentMap,
			[]string{"bad.csv:2:3:", `bare " in non-quoted-field`}},
		{"csv empty input", "bad.csv", "text,intent\n ,b\n", schemas.EdgeIntent, intentMap,
			[]string{"bad.csv:2:1:", `column "text": empty input`}},
		{"csv duplicate id", "bad.csv", "id,text,intent\nx1,a,b\nx1,c,d\n", schemas.EdgeIntent, intentMap,
			[]string{"bad.csv:3: duplicate id \"x1\" (also at bad.csv: line 2)"}},
		{"csv error after a quoted newline", "bad.csv", "text,intent,split\n\"two\nlines\",x,dev\n", schemas.EdgeIntent, intentMap,
			[]string{"bad.csv:3:10:", `column "split": unknown split "dev"`}},
		{"csv duplicate header", "bad.csv", "text,intent, text\na,b,c\n", schemas.EdgeIntent, intentMap,
			[]string{"bad.csv:1:13:", `column "text": empty or duplicate column name`}},
		{"csv label needs edgeintent", "bad.csv", "text,intent\na,b\n", schemas.EdgeJSON, intentMap,
			[]string{"label=intent needs task edgeintent"}},
		{"csv unknown complexity", "bad.csv", "input,target,complexity\na,{},hard\n", schemas.EdgeJSON, Mapping{},
			[]string{"bad.csv:2:6:", `column "complexity": unknown complexity "hard"`}},
		{"jsonl bad json line", "bad.jsonl", jl2 + "\n{\"input\": \"x\" \"target\": 1}\n", schemas.EdgeIntent, Mapping{},
			[]string{"bad.jsonl:2:15: invalid JSON"}},
		{"jsonl truncated line", "bad.jsonl", `{"input": "x", "target": {`, schemas.EdgeIntent, Mapping{},
			[]string{"bad.jsonl:1:27: invalid JSON: unexpected end of line"}},
		{"jsonl unknown split", "bad.jsonl", jl1, schemas.EdgeIntent, Mapping{},
			[]string{at("bad.jsonl", 1, jl1, `"dev"`), `column "split": unknown split "dev"`}},
		{"jsonl missing column", "bad.jsonl", jl2 + "\n\n" + `{"text": "hi", "target": {"intent": "x"}}`, schemas.EdgeIntent, Mapping{},
			[]string{`bad.jsonl:3: column "input": missing (input column)`}},
		{"jsonl not an object", "bad.jsonl", `  ["input", "target"]`, schemas.EdgeIntent, Mapping{},
			[]string{"bad.jsonl:1:3: want a JSON object per line"}},
		{"jsonl wrong target shape", "bad.jsonl", jl3, schemas.EdgeIntent, Mapping{},
			[]string{at("bad.jsonl", 1, jl3, `{"label"`), `column "target": want {"intent": "<class>"}: json: unknown field "label"`}},
		{"jsonl duplicate key", "bad.jsonl", `{"input": "a", "input": "b", "target": {}}`, schemas.EdgeJSON, Mapping{},
			[]string{"bad.jsonl:1:25:", `column "input": duplicate key`}},
		{"jsonl input not a string", "bad.jsonl", `{"input": true, "target": {}}`, schemas.EdgeJSON, Mapping{},
			[]string{"bad.jsonl:1:11:", `column "input": want a string, got true`}},
		{"jsonl target breaks schema", "bad.jsonl", `{"input": "a", "target": {"n": "x"}, "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}`,
			schemas.EdgeJSON, Mapping{}, []string{"bad.jsonl:1:26:", `column "target": does not match the schema column`}},
		{"jsonl funccall call without calls", "bad.jsonl", `{"input": "a", "target": {"scenario": "single_turn", "turns": [{"action": "call"}]}}`,
			schemas.EdgeFuncCall, Mapping{}, []string{"bad.jsonl:1:26:", `turns[0]: action "call" with 0 calls`}},
		{"jsonl text after object", "bad.jsonl", `{"input": "a", "target": {}} x`, schemas.EdgeJSON, Mapping{},
			[]string{"bad.jsonl:1:30: text after the JSON object"}},
		{"jsonl empty", "bad.jsonl", "\n\n", schemas.EdgeJSON, Mapping{}, []string{"bad.jsonl: no JSON objects"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), tt.file, tt.content)
			imp := func(strict bool) (*Dataset, error) {
				opts := TableOptions{Task: tt.task, Mapping: tt.m, Strict: strict}
				if strings.HasSuffix(tt.file, ".csv") {
					return ImportCSV(path, opts)
				}
				return ImportJSONL(path, opts)
			}
			// Strict: the first bad row stops the import, with its place and reason.
			_, err := imp(true)
			if err == nil {
				t.Fatalf("strict: no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("strict: error %q does not contain %q", err, w)
				}
			}
			// Default: a bad row is skipped and reported the same way; a bad
			// file still stops the import.
			d, err := imp(false)
			var msg string
			switch {
			case err != nil:
				msg = err.Error()
			case len(d.BadRows) > 0:
				msg = d.BadRows[0].String()
			default:
				t.Fatalf("no error and no bad row, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("skipped row %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestImportCSV(t *testing.T) {
	dir := t.TempDir()
	content := "\ufefftext,intent,fold,source\n" +
		"set a timer for 5 minutes,set_timer,train,crowd\n" +
		"\"play \"\"Blue\"\"\non two lines\",play_music,test,crowd\n" +
		"what's the weather,weather_current,test,\n"
	path := writeFile(t, dir, "My Tests.csv", content)
	opts := TableOptions{Task: schemas.EdgeIntent, Mapping: Mapping{Input: "text", Label: "intent", Split: "fold"}, Variant: "assistant-50"}
	d, err := ImportCSV(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "split", d.Counts(), map[string]int{"train": 1, "test": 2})
	r := d.Records[1]
	want := datasets.Record{ID: "my_tests-42169f0f5df9", Task: "edgeintent", Split: "test", Input: "play \"Blue\"\non two lines",
		Target: `{"intent":"play_music"}`, Cell: "play_music", Variant: "assistant-50", Intent: "play_music",
		Validation: `{"checks":["json","label"]}`, ReviewStatus: "unsampled", Meta: `{"columns":{"source":"crowd"}}`}
	r.Provenance = ""
	if !reflect.DeepEqual(r, want) {
		t.Errorf("record\n%+v, want\n%+v", r, want)
	}
	if loc := d.Records[2].Provenance; !strings.Contains(loc, `"locator":"line 5"`) {
		t.Errorf("third record's provenance %s: the quoted field spans lines 3-4", loc)
	}
	again, err := ImportCSV(path, opts)
	if err != nil || !reflect.DeepEqual(again, d) {
		t.Fatalf("re-import differs (%v)", err)
	}
	opts.Mapping.Split = ""
	other, err := ImportCSV(path, opts)
	if err != nil || other.SpecHash() == d.SpecHash() || other.Counts()["test"] != 3 {
		t.Fatalf("without the split column: %v, counts %v", err, other.Counts())
	}
	tsv := writeFile(t, dir, "t.tsv", "input\ttarget\tcomplexity\tschema\nname: Ann \t{\"name\": \"Ann\", \"age\": 3}\tsimple\t{\"type\": \"object\"}\n")
	d, err = ImportCSV(tsv, TableOptions{Task: schemas.EdgeJSON, Variant: "people"})
	if err != nil || d.Records[0].Target != `{"name":"Ann","age":3}` || d.Records[0].Complexity != "simple" ||
		d.Records[0].Cell != "people" || d.Records[0].Input != "name: Ann " {
		t.Fatalf("tsv: %v %+v", err, d)
	}
}

func TestImportJSONL(t *testing.T) {
	dir := t.TempDir()
	lines := []string{
		`{"id": "fc-1", "input": "turn on the lights", "target": {"scenario": "single_turn", "turns": [{"action": "call", "calls": [{"name": "lights_on", "arguments": {"room": "kitchen", "level": 12345678901234567890}}]}]}, "note": {"by": "ann"}}`,
		`{"id": "fc-2", "input": ["book it", "for 5pm"], "target": "{\"scenario\": \"irrelevant\", \"turns\": [{\"action\": \"none\"}]}", "split": "val"}`,
	}
	path := writeFile(t, dir, "fc.jsonl", strings.Join(lines, "\r\n")+"\r\n")
	d, err := ImportJSONL(path, TableOptions{Task: schemas.EdgeFuncCall})
	if err != nil {
		t.Fatal(err)
	}
	r0, r1 := d.Records[0], d.Records[1]
	if r0.ID != "fc-1" || r0.Cell != "lights_on/single_turn" || r0.Function != "lights_on" || r0.Scenario != "single_turn" ||
		!strings.Contains(r0.Target, `"level":12345678901234567890`) || r0.Meta != `{"columns":{"note":{"by":"ann"}}}` || r0.Split != "test" {
		t.Errorf("record 0 %+v", r0)
	}
	if r1.Input != `["book it","for 5pm"]` || r1.Cell != "irrelevant" || r1.Split != "val" || r1.Function != "" {
		t.Errorf("record 1 %+v", r1)
	}
}

// TestJSONLRoundTrip exports a committed import with the datasets package and
// imports the export back: every field the table importer maps survives.
func TestJSONLRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, "people.jsonl",
		`{"input": "Ann, 31", "target": {"name": "Ann", "age": 31}, "schema": {"type": "object", "required": ["name"]}, "complexity": "simple", "split": "train"}`+"\n"+
			`{"input": "Bob", "target": {"name": "Bob"}, "cell": "people.basic", "schema": {"type": "object"}}`)
	d, err := ImportJSONL(src, TableOptions{Task: schemas.EdgeJSON})
	if err != nil {
		t.Fatal(err)
	}
	if raw, ok := RecordSchema(d.Records[0]); !ok || string(raw) != `{"type":"object","required":["name"]}` {
		t.Fatalf("schema %s %v", raw, ok)
	}
	store, m := commitAndReadBack(t, d)
	v, err := store.Version(schemas.EdgeJSON, m.Version)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := v.ExportJSONL(&buf, ""); err != nil {
		t.Fatal(err)
	}
	exported := writeFile(t, dir, "export.jsonl", buf.String())
	back, err := ImportJSONL(exported, TableOptions{Task: schemas.EdgeJSON})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]datasets.Record{}
	for _, r := range d.Records {
		want[r.ID] = r
	}
	for _, r := range back.Records {
		w := want[r.ID]
		got := [7]string{r.Split, r.Input, r.Target, r.Cell, r.Variant, r.Complexity, r.Intent}
		if exp := [7]string{w.Split, w.Input, w.Target, w.Cell, w.Variant, w.Complexity, w.Intent}; got != exp {
			t.Errorf("%s: round trip %v, want %v", r.ID, got, exp)
		}
		var meta struct{ Columns map[string]json.RawMessage }
		if err := json.Unmarshal([]byte(r.Meta), &meta); err != nil || meta.Columns["provenance"] == nil {
			t.Errorf("%s: unmapped columns not kept: %s", r.ID, r.Meta)
		}
	}
	if len(back.Records) != len(d.Records) {
		t.Errorf("%d records back, want %d", len(back.Records), len(d.Records))
	}
}

func TestParseMapping(t *testing.T) {
	m, err := ParseMapping(" input=text , label=intent,split=fold,")
	if err != nil || m != (Mapping{Input: "text", Label: "intent", Split: "fold"}) {
		t.Fatalf("ParseMapping = %+v, %v", m, err)
	}
	for in, want := range map[string]string{
		"input":                 "want field=column",
		"inputs=text":           `unknown field "inputs": fields are input, target, label`,
		"input=a,input=b":       `field "input" mapped twice`,
		"label=x,target=y":      "", // parses; resolve refuses it
		"split=":                "want field=column",
		"INPUT=Text,Target=Out": "",
	} {
		_, err := ParseMapping(in)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("ParseMapping(%q) = %v, want %q", in, err, want)
		}
	}
	if _, err := (Mapping{Label: "x", Target: "y"}).resolve(schemas.EdgeIntent, func(string) bool { return true }); err == nil {
		t.Error("resolve accepts label and target")
	}
}

func TestCommitReuse(t *testing.T) {
	path := writeFile(t, t.TempDir(), "t.csv", "input,target\nhello,\"{\"\"intent\"\": \"\"greet\"\"}\"\n")
	d, err := ImportCSV(path, TableOptions{Task: schemas.EdgeIntent})
	if err != nil {
		t.Fatal(err)
	}
	store, m := commitAndReadBack(t, d)
	for _, tt := range []struct {
		opts    CommitOptions
		version string
		reused  bool
	}{
		{CommitOptions{}, "v1", true},
		{CommitOptions{Version: "v1"}, "v1", true},
		{CommitOptions{Force: true}, "v2", false},
		{CommitOptions{Version: "mine"}, "mine", false},
	} {
		got, reused, err := Commit(store, d, tt.opts)
		if err != nil || got.Version != tt.version || reused != tt.reused {
			t.Errorf("Commit(%+v) = %v, %v, %v; want %s, reused %v", tt.opts, got, reused, err, tt.version, tt.reused)
		}
	}
	if m.Version != "v1" {
		t.Errorf("first version %s", m.Version)
	}
	if _, _, err := Commit(store, d, CommitOptions{Version: "mine", Force: true}); !errors.Is(err, datasets.ErrVersionExists) {
		t.Errorf("existing version: %v", err)
	}
}
