package datasets

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/cyclecore/mlmforge/internal/testutil/extproc"
	"github.com/cyclecore/mlmforge/schemas"
)

// TestDuckDBReadsVersions checks that DuckDB, through its Node API, reads every split
// file of a version with the row counts, column names and types we wrote, NULLs in
// the optional columns exactly where the Go fields were empty, and JSON targets.
func TestDuckDBReadsVersions(t *testing.T) {
	node := extproc.DuckDB.Require(t)
	script := extproc.Script(t, "duckdb_check.mjs")

	type column struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	type result struct {
		Rows      int            `json:"rows"`
		Columns   []column       `json:"columns"`
		Nulls     map[string]int `json:"nulls"`
		JSONValid int            `json:"json_valid_targets"`
	}
	var wantColumns []column
	for _, name := range []string{"id", "task", "split", "input", "target", "cell", "variant", "complexity",
		"intent", "function", "scenario", "provenance", "validation", "review_status", "soft_labels", "meta"} {
		wantColumns = append(wantColumns, column{name, "VARCHAR"})
	}

	s := openStore(t)
	var files []string
	want := map[string]result{}
	for _, task := range schemas.Tasks {
		recs := exampleRecords(task, 1000+len(task))
		recs[0].Input = "it's \"quoted\", ünïcode 🙂\nand multi-line"
		commitVersion(t, s, task, "", recs)
		v, err := s.Version(task, "")
		if err != nil {
			t.Fatal(err)
		}
		for split, rs := range bySplit(recs) {
			path, err := v.Path(split)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, path)
			nulls := map[string]int{}
			for _, c := range wantColumns {
				nulls[c.Name] = 0
			}
			for _, r := range rs {
				for col, val := range map[string]string{"complexity": r.Complexity, "intent": r.Intent,
					"function": r.Function, "scenario": r.Scenario, "soft_labels": r.SoftLabels, "meta": r.Meta} {
					if val == "" {
						nulls[col]++
					}
				}
			}
			want[path] = result{Rows: len(rs), Columns: wantColumns, Nulls: nulls, JSONValid: len(rs)}
		}
	}
	cmd := node.Command(script, files...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, out)
	}
	var got map[string]result
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("parse script output: %v\n%s", err, out)
	}
	for path, w := range want {
		if g, ok := got[path]; !ok || !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\nDuckDB sees %+v\n     want %+v", path, g, w)
		}
	}
}
