package importer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/datasets/importer"
	"github.com/cyclecore/mlmforge/distill"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/eval/runner"
	"github.com/cyclecore/mlmforge/schemas"
)

// obj is a JSON object that keeps its keys in the order given (a map would
// sort them), so the test can check that an import keeps the order written.
type obj []kv

type kv struct {
	k string
	v any
}

// MarshalJSON writes the keys in order.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		v, err := json.Marshal(f.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// nestedSchema is a schema nesting depth objects below the root: each level
// has a "label" and the next level, the deepest an array of items. Keys are
// in the order a person writes them, not sorted.
func nestedSchema(depth int) obj {
	typ := func(t string) obj { return obj{{"type", t}} }
	items := obj{{"type", "array"}, {"minItems", 1}, {"items", obj{{"type", "object"}, {"additionalProperties", false},
		{"required", []string{"sku", "qty"}}, {"properties", obj{{"sku", typ("string")}, {"qty", obj{{"type", "integer"}, {"minimum", 1}}}}}}}}
	level := obj{{"type", "object"}, {"additionalProperties", false}, {"required", []string{"label", "items"}},
		{"properties", obj{{"label", typ("string")}, {"items", items}}}}
	for d := depth - 1; d >= 1; d-- {
		level = obj{{"type", "object"}, {"additionalProperties", false}, {"required", []string{"label", "next"}},
			{"properties", obj{{"label", typ("string")}, {"next", level}}}}
	}
	return obj{{"type", "object"}, {"additionalProperties", false}, {"required", []string{"customer", "order"}},
		{"properties", obj{{"customer", typ("string")}, {"order", level}}}}
}

// nestedRow is one JSON Lines row: a text in English or German naming every
// value of a nested target, its schema and its depth.
func nestedRow(depth, i int, lang string) string {
	names := []string{"Anna Müller", "Jürgen Weiß", "Zoë Ångström", "Samuel Kowalski", "Lea Schäfer", "Omar Haddad"}
	skus := []string{"kaffee-500", "tee-grün", "brot-1kg", "käse-200", "milch-1l"}
	name, sku, qty := names[(i+depth)%len(names)], skus[(i*3+depth)%len(skus)], 1+(i+depth)%7
	labels := make([]string, depth)
	for d := range labels {
		labels[d] = fmt.Sprintf("L%d-%c%d", d+1, 'A'+rune((i+d)%6), (i*7+d)%10)
	}
	order := obj{{"label", labels[depth-1]}, {"items", []any{obj{{"sku", sku}, {"qty", qty}}}}}
	for d := depth - 2; d >= 0; d-- {
		order = obj{{"label", labels[d]}, {"next", order}}
	}
	text := fmt.Sprintf("Order for %s: %d x %s, levels %s.", name, qty, sku, strings.Join(labels, " > "))
	if lang == "de" {
		text = fmt.Sprintf("Bestellung für %s: %d × %s, Ebenen %s.", name, qty, sku, strings.Join(labels, " › "))
	}
	row, _ := json.Marshal(map[string]any{"input": text, "target": obj{{"customer", name}, {"order", order}},
		"schema": nestedSchema(depth), "depth": depth, "lang": lang})
	return string(row)
}

// TestImportedNestedEdgeJSONStudent: an EdgeJSON set of nested schemas of
// depth 3 to 7 in English and German, one file per split with bad rows,
// imports with the bad rows reported; a tiny student trains on it and is
// evaluated with and without the JSON-Schema mask (every example scored by
// its own schema); the gold scores 1.0 on every metric.
func TestImportedNestedEdgeJSONStudent(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains a student")
	}
	dir := t.TempDir()
	var trainRows, testRows []string
	for depth := 3; depth <= 7; depth++ {
		for i := range 8 {
			lang := []string{"en", "de"}[i%2]
			if i < 6 {
				trainRows = append(trainRows, nestedRow(depth, i, lang))
			} else {
				testRows = append(testRows, nestedRow(depth, 100+i, lang))
			}
		}
	}
	// A German row whose gold breaks its own schema (qty a string): its
	// column counts characters, and the line has "ü", "×" and "›" before it.
	badTarget := regexp.MustCompile(`"qty":(\d+)`).ReplaceAllString(nestedRow(3, 50, "de"), `"qty":"$1"`)
	badCol := utf8.RuneCountInString(badTarget[:strings.Index(badTarget, `"target":`)+len(`"target":`)]) + 1
	trainRows = append(trainRows, `{"input": "kaputt", "target": {`, badTarget)
	testRows = append(testRows, strings.Replace(nestedRow(4, 60, "en"), `"schema":{`, `"schema":null,"x":{`, 1))
	trainPath := filepath.Join(dir, "train.jsonl")
	testPath := filepath.Join(dir, "test.jsonl")
	for p, rows := range map[string][]string{trainPath: trainRows, testPath: testRows} {
		if err := os.WriteFile(p, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := importer.ImportTable("jsonl", []importer.TableFile{{Path: trainPath, Split: "train"}, {Path: testPath, Split: "test"}},
		importer.TableOptions{Task: schemas.EdgeJSON, Mapping: importer.Mapping{Complexity: "depth"}})
	if err != nil {
		t.Fatal(err)
	}
	checkNestedImport(t, d, len(trainRows)-2, len(testRows)-1, badCol)
	store, err := datasets.Open(filepath.Join(t.TempDir(), "datasets"))
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := importer.Commit(store, d, importer.CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := store.Version(schemas.EdgeJSON, m.Version)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	res, err := distill.TrainStudent(context.Background(), distill.TrainSpec{Preset: "tiny-json", Version: v, Catalog: cat,
		OutDir: filepath.Join(t.TempDir(), "run"), Train: train.Config{LR: 3e-3, TotalSteps: 12, WarmupSteps: 2, BatchSize: 4,
			EvalEvery: 6, EvalBatches: 1, CheckpointEvery: 12}})
	if err != nil {
		t.Fatalf("train on the imported schemas: %v", err)
	}
	recs, err := v.Read("test")
	if err != nil {
		t.Fatal(err)
	}
	scoreNestedStudent(t, cat, res.Checkpoint, recs)
	scoreNestedGold(t, cat, recs)
}

// checkNestedImport checks the rows, the depth cells and levels, the key
// order, and the bad rows with their places (columns in characters).
func checkNestedImport(t *testing.T, d *importer.Dataset, trainRows, testRows, badCol int) {
	t.Helper()
	if c := d.Counts(); c["train"] != trainRows || c["test"] != testRows {
		t.Errorf("rows per split %v, want train %d test %d", c, trainRows, testRows)
	}
	want := []string{
		fmt.Sprintf("train.jsonl:%d:32: invalid JSON: unexpected end of line", trainRows+1),
		fmt.Sprintf("train.jsonl:%d:%d: column \"target\": does not match the schema column", trainRows+2, badCol),
		fmt.Sprintf("test.jsonl:%d:", testRows+1), `column "schema": empty schema`,
	}
	var got []string
	for _, b := range d.BadRows {
		got = append(got, b.String())
	}
	all := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("bad rows lack %q:\n%s", w, all)
		}
	}
	if len(d.BadRows) != 3 {
		t.Errorf("%d bad rows, want 3:\n%s", len(d.BadRows), all)
	}
	for _, r := range d.Records {
		raw, ok := importer.RecordSchema(r)
		if !ok || !strings.HasPrefix(r.Cell, "depth-") || r.Complexity != "complex" ||
			!strings.HasPrefix(string(raw), `{"type":"object","additionalProperties":false,"required":["customer","order"]`) {
			t.Fatalf("record %s: cell %q complexity %q schema %.80s", r.ID, r.Cell, r.Complexity, raw)
		}
		if !strings.HasPrefix(r.Target, `{"customer":`) || !strings.Contains(r.Target, `[{"sku":`) {
			t.Errorf("record %s: target %.60s: key order not kept", r.ID, r.Target)
		}
	}
}

// scoreNestedStudent evaluates the student with and without the mask: every
// example scored, no example left without its mask, and every answer the
// masked student finished parses and complies with its own schema.
func scoreNestedStudent(t *testing.T, cat *schemas.Catalog, checkpoint string, recs []datasets.Record) {
	t.Helper()
	s, err := runner.NewStudent(checkpoint, cat)
	if err != nil {
		t.Fatal(err)
	}
	scorer, err := eval.NewScorer(cat)
	if err != nil {
		t.Fatal(err)
	}
	for _, constrained := range []bool{false, true} {
		preds, err := s.Predict(context.Background(), recs, runner.Options{Constrained: constrained})
		if err != nil {
			t.Fatalf("constrained=%v: %v", constrained, err)
		}
		rep, err := scorer.Score(recs, preds)
		if err != nil {
			t.Fatalf("constrained=%v: %v", constrained, err)
		}
		if rep.N != len(recs) || rep.MissingPredictions != 0 || rep.MaskFallbacks != 0 || len(rep.EdgeJSON.ByComplexity) != 1 {
			t.Errorf("constrained=%v: report %+v", constrained, rep.EdgeJSON)
		}
		for _, ex := range rep.Examples {
			if constrained && !ex.Truncated && ex.Metrics["schema_compliance"] != 1 {
				t.Errorf("%s: masked answer finished but does not comply (%s): %q", ex.ID, ex.ParseError, ex.Raw)
			}
		}
		t.Logf("constrained=%v: JSON exact %.3f field-F1 %.3f schema %.3f", constrained,
			rep.EdgeJSON.JSONExact, rep.EdgeJSON.FieldF1, rep.EdgeJSON.SchemaCompliance)
	}
}

// scoreNestedGold scores the gold: 1.0 on every metric, overall and per
// depth cell.
func scoreNestedGold(t *testing.T, cat *schemas.Catalog, recs []datasets.Record) {
	t.Helper()
	scorer, err := eval.NewScorer(cat)
	if err != nil {
		t.Fatal(err)
	}
	preds := make([]eval.Prediction, len(recs))
	for i, r := range recs {
		preds[i] = eval.Prediction{ID: r.ID, Raw: r.Target}
	}
	rep, err := scorer.Score(recs, preds)
	if err != nil {
		t.Fatal(err)
	}
	perfect := func(what string, s eval.JSONScores) {
		if s.JSONExact != 1 || s.FieldPrecision != 1 || s.FieldRecall != 1 || s.FieldF1 != 1 || s.SchemaCompliance != 1 || s.ParseFailures != 0 {
			t.Errorf("gold %s: %+v", what, s)
		}
	}
	perfect("overall", rep.EdgeJSON.JSONScores)
	for l, s := range rep.EdgeJSON.ByComplexity {
		perfect(l, s)
	}
	if len(rep.EdgeJSON.ByCell) != 5 {
		t.Errorf("cells %v, want depth-3 to depth-7", rep.EdgeJSON.ByCell)
	}
	for c, s := range rep.EdgeJSON.ByCell {
		perfect(c, s)
	}
}
