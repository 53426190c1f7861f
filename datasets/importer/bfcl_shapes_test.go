package importer

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// bfclShapeDocs are function docs in BFCL's dialect with every parameter type.
const bfclShapeDocs = `[{"name": "geo.area", "description": "Area of a shape.", "parameters": {"type": "dict", "properties": {
  "base": {"type": "integer", "description": "base"},
  "scale": {"type": "float", "description": "scale factor"},
  "span": {"type": "array", "items": {"type": "float"}, "description": "interval"},
  "unit": {"type": "string", "description": "unit", "enum": ["cm", "m"]},
  "tags": {"type": "array", "items": {"type": "string"}, "description": "tags"},
  "opts": {"type": "dict", "properties": {"mode": {"type": "string"}, "level": {"type": "integer"}}, "description": "options"},
  "flag": {"type": "boolean", "description": "flag"}}, "required": ["base", "scale"]}},
 {"name": "geo.perimeter", "description": "Perimeter.", "parameters": {"type": "dict", "properties": {
  "side": {"type": "integer", "description": "side"}, "label": {"type": "string", "description": "label"}}, "required": ["side", "label"]}}]`

// bfclShapes writes a BFCL directory with every importable category (and
// two that are not), each with a few good lines and the bad lines the
// importer must skip, and returns the number of good questions per category.
func bfclShapes(t *testing.T) (dir string, good map[string]int) {
	t.Helper()
	dir = t.TempDir()
	q := func(id, content string) string {
		return fmt.Sprintf(`{"id": %q, "question": [[{"role": "system", "content": "Use the tools."}, {"role": "user", "content": %q}]], "function": %s}`,
			id, content, strings.ReplaceAll(bfclShapeDocs, "\n", ""))
	}
	area := `{"geo.area": {"base": [10], "scale": [2.0], "span": [[1.0, 3.0]], "unit": ["cm", ""], "tags": [["a", "b"], ""], "opts": [{"mode": ["fast"], "level": [1, ""]}, ""], "flag": [true, ""]}}`
	perim := `{"geo.perimeter": {"side": [4, 4.0], "label": [""]}}`
	g := func(id, calls string) string { return fmt.Sprintf(`{"id": %q, "ground_truth": [%s]}`, id, calls) }
	good = map[string]int{}
	for _, c := range []struct {
		cat   string
		calls string // "" for the categories without gold
	}{
		{"simple_python", area}, {"multiple", perim}, {"parallel", area + ", " + area}, {"parallel_multiple", area + ", " + perim},
		{"live_simple", area}, {"live_multiple", area}, {"live_parallel", perim + ", " + perim}, {"live_parallel_multiple", perim + ", " + area},
		{"irrelevance", ""}, {"live_irrelevance", ""}, {"live_relevance", ""},
	} {
		lines := []string{q(c.cat+"_0", "first"), q(c.cat+"_1", "second")}
		var gold []string
		if c.calls != "" {
			gold = []string{g(c.cat+"_0", c.calls), g(c.cat+"_1", c.calls)}
		}
		good[c.cat] = 2
		writeFile(t, dir, "BFCL_v4_"+c.cat+".json", strings.Join(lines, "\n")+"\n")
		if gold != nil {
			writeFile(t, dir, "possible_answer/BFCL_v4_"+c.cat+".json", strings.Join(gold, "\n")+"\n")
		}
	}
	// Bad lines of simple_python: a broken line, an assistant turn, an empty
	// acceptable-value list, a question without gold, gold without question,
	// a repeated id.
	bad := []string{
		q("simple_python_0", "first"), q("simple_python_1", "second"),
		`{"id": "simple_python_2", "question": [[{"role": "user", "content": "é broken"}]], "function": [}`,
		strings.Replace(q("simple_python_3", "x"), `"role": "system"`, `"role": "assistant"`, 1),
		q("simple_python_4", "empty list"), q("simple_python_5", "no gold"), q("simple_python_1", "again"),
	}
	writeFile(t, dir, "BFCL_v4_simple_python.json", strings.Join(bad, "\n")+"\n")
	writeFile(t, dir, "possible_answer/BFCL_v4_simple_python.json", strings.Join([]string{
		g("simple_python_0", area), g("simple_python_1", area), g("simple_python_3", area),
		g("simple_python_4", `{"geo.area": {"base": [], "scale": [1.0]}}`), g("simple_python_9", area)}, "\n")+"\n")
	writeFile(t, dir, "BFCL_v4_simple_java.json", q("simple_java_0", "java")+"\n")
	writeFile(t, dir, "BFCL_v4_multi_turn_base.json", `{"id": "multi_turn_base_0"}`+"\n")
	return dir, good
}

// TestBFCLEveryCategoryShape imports every BFCL v4 AST category shape (no
// --categories: whatever the directory holds), skips and reports the bad
// lines with file:line:column, and scores the gold through eval.Scorer at
// 100% with int and float kept apart.
func TestBFCLEveryCategoryShape(t *testing.T) {
	dir, good := bfclShapes(t)
	d, err := ImportBFCL(dir, BFCLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range d.Records {
		got[r.Cell]++
	}
	checkCounts(t, "category", got, good)
	wantBad := []string{
		`BFCL_v4_simple_python.json:3:97: invalid JSON`, // column in characters: "é" is two bytes
		`BFCL_v4_simple_python.json:4: simple_python_3: question: unexpected role "assistant"`,
		`BFCL_v4_simple_python.json:5: simple_python_4: ground_truth[0].geo.area.base: want a non-empty list`,
		`BFCL_v4_simple_python.json:6: simple_python_5 has no gold`,
		`BFCL_v4_simple_python.json:7: simple_python_1 has no gold`, // its gold went to the first simple_python_1
		`possible_answer/BFCL_v4_simple_python.json:5: gold for simple_python_9`,
	}
	if len(d.BadRows) != len(wantBad) {
		t.Errorf("%d bad rows, want %d: %v", len(d.BadRows), len(wantBad), d.BadRows)
	}
	for i, w := range wantBad {
		if i < len(d.BadRows) && !strings.HasPrefix(d.BadRows[i].String(), w) {
			t.Errorf("bad row %d: %q, want prefix %q", i, d.BadRows[i], w)
		}
	}
	if w := strings.Join(d.Warnings, "\n"); !strings.Contains(w, "BFCL_v4_simple_java.json not imported: needs BFCL's Java type rules") ||
		!strings.Contains(w, "BFCL_v4_multi_turn_base.json not imported") {
		t.Errorf("warnings %q", d.Warnings)
	}
	if _, err := ImportBFCL(dir, BFCLOptions{Strict: true}); err == nil || !strings.Contains(err.Error(), "BFCL_v4_simple_python.json:3:97") {
		t.Errorf("strict import: %v", err)
	}
	checkBFCLNumbers(t, d)
	scoreBFCLGold(t, d)
}

// checkBFCLNumbers: a float gold stays a float in the target (2.0, not 2;
// in a list too, where BFCL's checker takes no int for a float), and an int
// stays an int.
func checkBFCLNumbers(t *testing.T, d *Dataset) {
	t.Helper()
	for _, r := range d.Records {
		if r.Cell == "simple_python" && (!strings.Contains(r.Target, `"scale":2.0`) || !strings.Contains(r.Target, `"base":10,`) ||
			!strings.Contains(r.Target, `"span":[1.0,3.0]`)) {
			t.Errorf("%s: target %s lost the literal 2.0, 10 or [1.0,3.0]", r.ID, r.Target)
		}
	}
}

// scoreBFCLGold answers every record with its gold (the target's calls; for
// relevance any call) and scores through eval.Scorer: every category at
// 100%. A float for an integer parameter is then rejected.
func scoreBFCLGold(t *testing.T, d *Dataset) {
	t.Helper()
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	scorer, err := eval.NewScorer(cat)
	if err != nil {
		t.Fatal(err)
	}
	var preds []eval.Prediction
	for _, r := range d.Records {
		var tgt generator.FuncCallTarget // numbers as written: [1.0, 3.0] is not [1, 3]
		if err := eval.UnmarshalNumbers([]byte(r.Target), &tgt); err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(tgt.Turns[0].Calls)
		if strings.Contains(r.Cell, "relevance") && !strings.Contains(r.Cell, "irrelevance") {
			raw = []byte(`[{"name": "geo.perimeter", "arguments": {"side": 1, "label": "x"}}]`)
		}
		preds = append(preds, eval.Prediction{ID: r.ID, Raw: string(raw)})
	}
	rep, err := scorer.Score(d.Records, preds)
	if err != nil {
		t.Fatal(err)
	}
	b := rep.EdgeFuncCall.BFCL
	if b == nil || b.AST.Rate != 1 || b.IrrelevanceDetection.Rate != 1 || b.RelevanceDetection.Rate != 1 || b.N != len(d.Records) {
		t.Fatalf("gold BFCL scores %+v", b)
	}
	for _, c := range b.Categories() {
		if r := b.ByCategory[c]; r.Rate != 1 {
			t.Errorf("%s: %+v", c, r)
		}
	}
	for i := range preds {
		if d.Records[i].Cell == "simple_python" {
			preds[i].Raw = strings.Replace(preds[i].Raw, `"base":10`, `"base":10.0`, 1)
		}
	}
	rep, err = scorer.Score(d.Records, preds)
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range rep.Examples {
		if strings.HasPrefix(ex.ID, "bfcl-simple_python") && (ex.Correct || ex.AST.ErrorType != "type_error:simple") {
			t.Errorf("%s: a float for an integer parameter: %+v", ex.ID, ex.AST)
		}
	}
}
