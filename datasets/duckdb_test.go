package datasets

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cyclecore/mlmforge/schemas"
)

// duckdbEnv names a node_modules directory holding @duckdb/node-api. The test reads
// it (not the package) because it decides whether an external tool is available.
const duckdbEnv = "MLMFORGE_DUCKDB_NODE_MODULES"

// TestDuckDBReadsVersions checks that DuckDB, through its Node API, reads every split
// file of a version with the row counts, column names and types we wrote, NULLs in
// the optional columns exactly where the Go fields were empty, and JSON targets.
func TestDuckDBReadsVersions(t *testing.T) {
	nodeModules := os.Getenv(duckdbEnv)
	if nodeModules == "" {
		t.Skipf("set %s to a node_modules directory holding @duckdb/node-api to run: "+
			"npm install --prefix /tmp/duckdb @duckdb/node-api && %s=/tmp/duckdb/node_modules go test ./datasets/",
			duckdbEnv, duckdbEnv)
	}
	if _, err := os.Stat(filepath.Join(nodeModules, "@duckdb", "node-api")); err != nil {
		t.Fatalf("%s=%s: %v (npm install --prefix DIR @duckdb/node-api)", duckdbEnv, nodeModules, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("%s is set but node is not on PATH: %v", duckdbEnv, err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "duckdb_check.mjs"))
	if err != nil {
		t.Fatal(err)
	}

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
	cmd := exec.Command(node, append([]string{script, nodeModules}, files...)...)
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
