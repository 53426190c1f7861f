package importer

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// The counts below are the ones the benchmarks' READMEs state (see
// $MLMFORGE_EXTERNAL_DATA/README.md).

func TestCLINC150External(t *testing.T) {
	dir := externalDir(t, "clinc150")
	d, err := ImportCLINC150(dir, CLINC150Options{IncludeOOS: true})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "split", d.Counts(), map[string]int{"train": 15000, "val": 3000, "test": 4500,
		"oos_train": 100, "oos_val": 100, "oos_test": 1000})
	perIntent := map[string]int{}
	for _, r := range d.Records {
		var tgt generator.IntentTarget
		if err := json.Unmarshal([]byte(r.Target), &tgt); err != nil || tgt.Intent != r.Intent || r.Cell != r.Intent {
			t.Fatalf("record %s: target %s, intent %q, cell %q", r.ID, r.Target, r.Intent, r.Cell)
		}
		var meta clinc150Meta
		if err := json.Unmarshal([]byte(r.Meta), &meta); err != nil || meta.OutOfScope != (r.Intent == "oos") ||
			(meta.Domain == "") != meta.OutOfScope {
			t.Fatalf("record %s: meta %s (%v)", r.ID, r.Meta, err)
		}
		if r.Split == "test" {
			perIntent[r.Intent]++
		}
	}
	if len(perIntent) != 150 || perIntent["translate"] != 30 {
		t.Errorf("test split has %d intents (translate %d), want 150 x 30", len(perIntent), perIntent["translate"])
	}
	if first := d.Records[0]; first.ID != "clinc150-train-00000" || first.Variant != "clinc150" {
		t.Errorf("first record %+v", first)
	}
	if !strings.HasPrefix(d.Description(), "imported from clinc150 data_full.json sha256 ") {
		t.Errorf("description %q", d.Description())
	}
	store, m := commitAndReadBack(t, d)

	// Re-importing gives the same records, hence the same version.
	again, err := ImportCLINC150(filepath.Join(dir, "data_full.json"), CLINC150Options{IncludeOOS: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Records, d.Records) || again.SpecHash() != d.SpecHash() {
		t.Fatal("re-import differs")
	}
	m2, reused, err := Commit(store, again, CommitOptions{})
	if err != nil || !reused || m2.Version != m.Version {
		t.Fatalf("re-commit = %v, reused %v, version %v", err, reused, m2)
	}

	inScope, err := ImportCLINC150(dir, CLINC150Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "in-scope split", inScope.Counts(), map[string]int{"train": 15000, "val": 3000, "test": 4500})
	if inScope.SpecHash() == d.SpecHash() {
		t.Error("options do not change the spec hash")
	}
}

func TestSNIPSExternal(t *testing.T) {
	dir := externalDir(t, "snips")
	js, err := ImportSNIPS(dir, SNIPSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if js.Task != schemas.EdgeJSON || len(js.Files) != 14 {
		t.Fatalf("task %s, %d files, want 7 validate + 7 train_*_full", js.Task, len(js.Files))
	}
	checkCounts(t, "split", js.Counts(), map[string]int{"train": 13784, "test": 700})
	test := map[string]int{}
	for _, r := range js.Records {
		if r.Split == "test" {
			test[r.Cell]++
		}
	}
	want := map[string]int{}
	for _, c := range []string{"add_to_playlist", "book_restaurant", "get_weather", "play_music", "rate_book",
		"search_creative_work", "search_screening_event"} {
		want["snips."+c] = 100
	}
	checkCounts(t, "test cell", test, want)
	// train_PlayMusic_full.json is UTF-8 but for one emoji written as a CESU-8
	// surrogate pair: that pair is repaired and every other character kept.
	var repaired []SourceFile
	for _, f := range js.Files {
		if f.Encoding != "" {
			repaired = append(repaired, f)
		}
	}
	if len(repaired) != 1 || repaired[0].Name != "train_PlayMusic_full.json" || repaired[0].Encoding != "utf-8" ||
		len(repaired[0].Repairs) != 1 {
		t.Fatalf("files read with repairs: %+v", repaired)
	}
	nonASCII := 0
	for _, r := range js.Records {
		if strings.Contains(r.Input, "Ã") {
			t.Errorf("record %s is garbled: %q", r.ID, r.Input)
		}
		for _, c := range r.Input {
			if c > 127 {
				nonASCII++
				break
			}
		}
	}
	if !slices.ContainsFunc(js.Records, func(r datasets.Record) bool {
		return strings.Contains(r.Input, "Pop Punk Perfection \U0001F355")
	}) {
		t.Error("the repaired emoji is not in any input")
	}
	if nonASCII < 20 {
		t.Errorf("%d inputs with non-ASCII characters; the PlayMusic file alone has 20", nonASCII)
	}
	compiled := map[string]bool{}
	for _, r := range js.Records {
		checkSNIPSRecord(t, r, compiled)
	}

	in, err := ImportSNIPS(dir, SNIPSOptions{Task: schemas.EdgeIntent})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "intent split", in.Counts(), map[string]int{"train": 13784, "test": 700})
	for i, r := range in.Records {
		if r.ID != js.Records[i].ID || r.Input != js.Records[i].Input || r.Target != `{"intent":"`+r.Intent+`"}` ||
			"snips."+r.Intent != js.Records[i].Cell {
			t.Fatalf("intent record %+v does not match JSON record %+v", r, js.Records[i])
		}
	}
	commitAndReadBack(t, js)
	commitAndReadBack(t, in)
}

// checkSNIPSRecord checks a SNIPS EdgeJSON record: its target matches the
// schema in its Meta, and every span is where it says in the input.
func checkSNIPSRecord(t *testing.T, r datasets.Record, compiled map[string]bool) {
	t.Helper()
	raw, ok := RecordSchema(r)
	if !ok {
		t.Fatalf("record %s has no schema in meta %s", r.ID, r.Meta)
	}
	if !compiled[string(raw)] {
		if _, err := compileSchema(r.Cell, raw); err != nil {
			t.Fatalf("record %s: %v", r.ID, err)
		}
		compiled[string(raw)] = true
	}
	var meta SNIPSMeta
	if err := json.Unmarshal([]byte(r.Meta), &meta); err != nil {
		t.Fatal(err)
	}
	var target map[string]any
	if err := json.Unmarshal([]byte(r.Target), &target); err != nil {
		t.Fatal(err)
	}
	runes := []rune(r.Input)
	n := 0
	for _, s := range meta.Spans {
		if string(runes[s.Start:s.End]) != s.Text {
			t.Fatalf("record %s: span %+v is %q in %q", r.ID, s, string(runes[s.Start:s.End]), r.Input)
		}
	}
	for _, v := range target {
		if vs, ok := v.([]any); ok {
			n += len(vs)
		} else {
			n++
		}
	}
	if n != len(meta.Spans) {
		t.Fatalf("record %s: target %s has %d values, %d spans", r.ID, r.Target, n, len(meta.Spans))
	}
}

func TestBFCLExternal(t *testing.T) {
	dir := externalDir(t, "bfcl")
	d, err := ImportBFCL(dir, BFCLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "split", d.Counts(), map[string]int{"test": 1240})
	checkCounts(t, "category", cellCounts(d.Records), map[string]int{"simple_python": 400, "multiple": 200,
		"parallel": 200, "parallel_multiple": 200, "irrelevance": 240})
	if len(d.Files) != 9 {
		t.Errorf("read %d files, want 5 question files and 4 possible_answer files", len(d.Files))
	}
	for _, r := range d.Records {
		var tgt generator.FuncCallTarget
		if err := json.Unmarshal([]byte(r.Target), &tgt); err != nil || len(tgt.Turns) != 1 {
			t.Fatalf("record %s: target %s (%v)", r.ID, r.Target, err)
		}
		var meta BFCLMeta
		if err := json.Unmarshal([]byte(r.Meta), &meta); err != nil || "bfcl-"+meta.ID != r.ID || len(meta.Functions) == 0 {
			t.Fatalf("record %s: meta %.200s (%v)", r.ID, r.Meta, err)
		}
		irrelevant := r.Scenario == "irrelevance"
		if irrelevant != (tgt.Turns[0].Action == generator.ActionNone) || irrelevant != (meta.PossibleAnswer == nil) {
			t.Fatalf("record %s: scenario %s, target %s, possible answer %s", r.ID, r.Scenario, r.Target, meta.PossibleAnswer)
		}
		if !irrelevant {
			if info, err := checkTarget(schemas.EdgeFuncCall, json.RawMessage(r.Target)); err != nil || info.function != r.Function {
				t.Fatalf("record %s: %v, function %q", r.ID, err, r.Function)
			}
		}
	}
	// simple_python_0's gold: base [10], height [5], unit ["units", ""]: the
	// optional unit may be omitted, so the concrete gold omits it (eval.GoldCalls).
	first := d.Records[0]
	want := `{"scenario":"single_turn","turns":[{"action":"call","calls":[{"name":"calculate_triangle_area","arguments":{"base":10,"height":5}}]}]}`
	if first.ID != "bfcl-simple_python_0" || first.Target != want || first.Variant != "bfcl-v4" ||
		first.Input != "Find the area of a triangle with a base of 10 units and height of 5 units." {
		t.Errorf("first record %+v", first)
	}
	commitAndReadBack(t, d)
	if again, err := ImportBFCL(dir, BFCLOptions{}); err != nil || !reflect.DeepEqual(again, d) {
		t.Fatalf("re-import differs (%v)", err)
	}

	only, err := ImportBFCL(dir, BFCLOptions{Categories: []string{"parallel"}})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "parallel", cellCounts(only.Records), map[string]int{"parallel": 200})
}

// TestBFCLGoldScores scores the imported BFCL gold answers with the
// evaluation's scorer: every function and argument right, no call on the
// irrelevance cases, and the AST checker (with every acceptable value from
// Meta) accepting every case. Cases with float lists (simple_python_13's
// interval [1.0, 3.0]) fail when the importer writes their gold as [1, 3]:
// BFCL's checker takes no int in a list of floats.
func TestBFCLGoldScores(t *testing.T) {
	dir := externalDir(t, "bfcl")
	d, err := ImportBFCL(dir, BFCLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := eval.NewScorer(cat)
	preds := make([]eval.Prediction, len(d.Records))
	for i, r := range d.Records {
		preds[i] = eval.Prediction{ID: r.ID, Raw: r.Target}
	}
	rep, err := sc.Score(d.Records, preds)
	if err != nil {
		t.Fatal(err)
	}
	m := rep.EdgeFuncCall
	if m.FunctionExact != 1 || m.ParamF1 != 1 || m.ExampleAccuracy != 1 || m.ErrorRecovery.NoCallIrrelevant.Rate != 1 || m.AST != 1 {
		t.Errorf("gold BFCL scores: function_exact %.3f param_f1 %.3f example %.3f irrelevance %.3f ast %.3f",
			m.FunctionExact, m.ParamF1, m.ExampleAccuracy, m.ErrorRecovery.NoCallIrrelevant.Rate, m.AST)
	}
}
