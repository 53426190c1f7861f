package report

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/internal/testutil/extproc"
)

// TestDuckDBReadsPredictions checks that DuckDB reads every job's predictions
// file through one glob, the way a user inspects failures: row and verdict
// counts per job, NULL for the empty optional columns, and the per-example
// metrics through DuckDB's json functions.
func TestDuckDBReadsPredictions(t *testing.T) {
	node := extproc.DuckDB.Require(t)
	script := extproc.Script(t, "duckdb_query.mjs")
	dir := t.TempDir()
	results := handMadeResults()
	f, err := Write(dir, results, testLineage)
	if err != nil {
		t.Fatal(err)
	}
	glob := strings.ReplaceAll(filepath.Join(dir, PredictionsDir, "*.parquet"), "'", "''")
	sql := `SELECT job, count(*)::INTEGER AS n, count(*) FILTER (WHERE correct)::INTEGER AS correct,
		count(*) FILTER (WHERE parse_error IS NULL)::INTEGER AS parsed_ok,
		count(*) FILTER (WHERE parsed IS NULL AND turn_outputs IS NULL)::INTEGER AS null_optional,
		sum(json_extract(metrics, '$.m')::DOUBLE) AS m, sum(output_tokens)::INTEGER AS tokens
		FROM read_parquet('` + glob + `') GROUP BY job ORDER BY job`
	out, err := node.Command(script, sql).CombinedOutput()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, out)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("duckdb output %s: %v", out, err)
	}
	if len(rows) != len(f.Jobs) {
		t.Fatalf("duckdb saw %d jobs, want %d: %s", len(rows), len(f.Jobs), out)
	}
	for _, r := range rows {
		j := f.job(fmt.Sprint(r["job"]))
		if j == nil {
			t.Fatalf("duckdb job %v is not in the report", r["job"])
		}
		n, k := 0, 0
		for _, ex := range sourceOf(results, j).Report.Examples {
			n++
			if ex.Correct {
				k++
			}
		}
		got := []int{toInt(r["n"]), toInt(r["correct"]), toInt(r["parsed_ok"]), toInt(r["null_optional"]),
			toInt(r["m"]), toInt(r["tokens"])}
		if want := []int{n, k, k, n, k, 10 * n}; !slices.Equal(got, want) {
			t.Errorf("job %s: duckdb n, correct, parsed, NULL optional, metric sum, tokens = %v, want %v", j.Key, got, want)
		}
	}
}

// toInt reads a JSON number DuckDB printed.
func toInt(v any) int {
	f, _ := v.(float64)
	return int(f)
}
