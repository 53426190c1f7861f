package importer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/schemas"
)

// The importers read files users bring (CSV, JSON Lines, BFCL, SNIPS,
// CLINC150). Their fuzz targets check that no input panics and that every
// dataset an importer returns can be committed: each record passes the
// datasets package's validation with a unique id, and every bad row
// (skipped, not imported) names its file.

var fuzzTasks = []schemas.Task{schemas.EdgeJSON, schemas.EdgeIntent, schemas.EdgeFuncCall}

// checkImported fails unless d is committable.
func checkImported(t *testing.T, d *Dataset, err error) {
	t.Helper()
	if err != nil {
		if d != nil {
			t.Fatalf("dataset returned with error %v", err)
		}
		return
	}
	for _, b := range d.BadRows {
		if b.String() == "" {
			t.Fatalf("bad row without a message: %+v", b)
		}
	}
	if err := datasets.WriteShard(filepath.Join(t.TempDir(), "shard.parquet"), d.Records); err != nil {
		t.Fatalf("imported records the dataset writer refuses: %v", err)
	}
	if len(d.Counts()) > 0 && d.SpecHash() == "" {
		t.Fatal("no spec hash")
	}
}

func fuzzWrite(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func fuzzTable(f *testing.F, ext string, seeds []string) {
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i), "")
	}
	f.Add([]byte("text,intent\nhi,greet\n"), uint8(1), "input=text,label=intent")
	f.Fuzz(func(t *testing.T, data []byte, task uint8, mapping string) {
		m, err := ParseMapping(mapping)
		if err != nil {
			m = Mapping{}
		}
		path := fuzzWrite(t, t.TempDir(), "rows."+ext, data)
		opts := TableOptions{Task: fuzzTasks[int(task)%len(fuzzTasks)], Mapping: m, Strict: task&0x80 != 0}
		d, err := ImportTable(ext, []TableFile{{Path: path}}, opts)
		if err != nil && !strings.Contains(err.Error(), "rows."+ext) && !strings.Contains(err.Error(), "mapping") {
			t.Fatalf("error does not name the file: %v", err)
		}
		checkImported(t, d, err)
	})
}

func FuzzImportCSV(f *testing.F) {
	fuzzTable(f, "csv", []string{
		"input,target,complexity,schema,split\n\"Ann, 31\",\"{\"\"name\"\": \"\"Ann\"\"}\",simple,\"{\"\"type\"\": \"\"object\"\"}\",train\n",
		"input,target\nhello,\"{\"\"intent\"\": \"\"greet\"\"}\"\n",
		"id,input,target\nfc-1,turn on,\"{\"\"scenario\"\": \"\"single_turn\"\", \"\"turns\"\": [{\"\"action\"\": \"\"call\"\", \"\"calls\"\": [{\"\"name\"\": \"\"f\"\", \"\"arguments\"\": {}}]}]}\"\n",
		"text,intent, text\na,b,c\n",
		"text,intent,split\n\"two\nlines\",x,dev\n",
	})
}

func FuzzImportJSONL(f *testing.F) {
	fuzzTable(f, "jsonl", []string{
		`{"input": "Ann, 31", "target": {"name": "Ann", "age": 31}, "schema": {"type": "object", "required": ["name"]}, "complexity": "simple", "split": "train"}` + "\n" + `{"input": "Bob", "target": {"name": "Bob"}, "cell": "people.basic", "schema": {"type": "object"}}`,
		`{"input": "play jazz", "target": {"intent": "play_music"}, "split": "test" }` + "\n\n" + `{"input": "x", "target": {"intent": "y"}, "soft_labels": {"y": 1}}`,
		`{"id": "fc-1", "input": "turn on the lights", "target": {"scenario": "single_turn", "turns": [{"action": "call", "calls": [{"name": "lights_on", "arguments": {"room": "kitchen", "level": 12345678901234567890}}]}]}, "note": {"by": "ann"}}` + "\r\n" +
			`{"id": "fc-2", "input": ["book it", "for 5pm"], "target": "{\"scenario\": \"irrelevant\", \"turns\": [{\"action\": \"none\"}]}", "split": "val"}`,
		`{"input": "a", "input": "b", "target": {}}`,
		`{"input": "a", "target": {"n": "x"}, "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}`,
	})
}

const fuzzBFCLFunc = `[{"name": "area", "description": "Area.", "parameters": {"type": "dict", "properties": {"base": {"type": "integer"}, "unit": {"type": "string"}, "dims": {"type": "array", "items": {"type": "float"}}}, "required": ["base"]}}]`

func FuzzImportBFCL(f *testing.F) {
	q := `{"id": "simple_python_0", "question": [[{"role": "system", "content": "be brief"}, {"role": "user", "content": "Area of base 10?"}]], "function": ` + fuzzBFCLFunc + "}\n"
	f.Add([]byte(q), []byte(`{"id": "simple_python_0", "ground_truth": [{"area": {"base": [10, 10.0], "unit": ["", "units"], "dims": [[1.5, 2]]}}]}`), false)
	f.Add([]byte(q+strings.Replace(q, "_0", "_1", 1)), []byte(`{"id": "simple_python_0", "ground_truth": [{"area": {"base": []}}]}`+"\n"+`{"id": "simple_python_9", "ground_truth": [{"area": {"base": [1]}}]}`), true)
	f.Add([]byte(`{"id": "simple_python_0", "question": [[{"role": "user" "content": "q"}]]}`), []byte(`{}`), false)
	f.Fuzz(func(t *testing.T, questions, gold []byte, strict bool) {
		dir := t.TempDir()
		fuzzWrite(t, dir, "BFCL_v4_simple_python.json", questions)
		fuzzWrite(t, dir, "possible_answer/BFCL_v4_simple_python.json", gold)
		fuzzWrite(t, dir, "BFCL_v4_irrelevance.json", questions)
		d, err := ImportBFCL(dir, BFCLOptions{Strict: strict})
		checkImported(t, d, err)
	})
}

func FuzzImportSNIPS(f *testing.F) {
	f.Add([]byte(`{"PlayMusic": [
		{"data": [{"text": " play "}, {"text": "Abba", "entity": "artist"}, {"text": " and "}, {"text": " Queen ", "entity": "artist"}, {"text": " on "}, {"text": "Spotify", "entity": "service"}]},
		{"data": [{"text": "play something"}]}]}`), []byte("{\"PlayMusic\": [{\"data\": [{\"text\": \"play \"}, {\"text\": \"Beyonc\xe9\", \"entity\": \"artist\"}]}]}"), false)
	f.Add([]byte(`{"PlayMusic": [{"data": [{"text": "x", "entity": "a b"}]}], "Other": []}`), []byte(`[]`), true)
	f.Fuzz(func(t *testing.T, validate, train []byte, intent bool) {
		dir := t.TempDir()
		fuzzWrite(t, dir, "validate_PlayMusic.json", validate)
		fuzzWrite(t, dir, "train_PlayMusic_full.json", train)
		task := schemas.EdgeJSON
		if intent {
			task = schemas.EdgeIntent
		}
		d, err := ImportSNIPS(dir, SNIPSOptions{Task: task})
		checkImported(t, d, err)
	})
}

func FuzzImportCLINC150(f *testing.F) {
	f.Add([]byte(`{"train": [["hi there", "greeting"], ["bye now", "goodbye"]], "val": [["hello", "greeting"]],
		"test": [["see ya", "goodbye"]], "oos_test": [["what is love", "oos"]]}`), []byte(`{"small_talk": ["greeting", "goodbye"]}`), false)
	f.Add([]byte(`{"train": [["hi", "greeting"]], "val": [["yo", "greeting"]], "test": [["hey", "greeting"]],
		"oos_train": [["a", "oos"]], "oos_val": [["b", "oos"]], "oos_test": [["c", "oos"], ["d", "oos"]]}`), []byte(`{}`), true)
	f.Add([]byte(`{"train": [["only text"]], "val": [], "test": []}`), []byte(`[1]`), false)
	f.Fuzz(func(t *testing.T, data, domains []byte, oos bool) {
		dir := t.TempDir()
		fuzzWrite(t, dir, "data_full.json", data)
		fuzzWrite(t, dir, "domains.json", domains)
		d, err := ImportCLINC150(dir, CLINC150Options{IncludeOOS: oos})
		checkImported(t, d, err)
	})
}
