package datasets

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/schemas"
)

const testProvenance = `{"teacher":"ollama","model":"qwen2.5:7b","model_digest":"sha256:abc","template":"intent-v1","template_hash":"h1","seed":7,"mode":"json"}`

// exampleRecord returns a plausible record of task number i, alternating splits
// (every fourth is test) and cycling over a few cells.
func exampleRecord(task schemas.Task, i int) Record {
	split := "train"
	if i%4 == 3 {
		split = "test"
	}
	r := Record{
		ID:           fmt.Sprintf("%s-%06d", task, i),
		Task:         string(task),
		Split:        split,
		Provenance:   testProvenance,
		Validation:   `{"json_valid":true,"schema_valid":true}`,
		ReviewStatus: ReviewUnsampled,
	}
	switch task {
	case schemas.EdgeJSON:
		r.Cell = []string{"ecommerce.order_summary", "travel.booking", "health.appointment"}[i%3]
		r.Variant = "schema-v1"
		r.Complexity = []string{"simple", "nested"}[i%2]
		r.Input = fmt.Sprintf("Order %d for Zoë Ångström: 2× crème brûlée, ship to 東京 🚚", i)
		r.Target = fmt.Sprintf(`{"order_id":%d,"customer":"Zoë Ångström","items":[{"name":"crème brûlée","qty":2}]}`, i)
	case schemas.EdgeIntent:
		intent := []string{"set_timer", "play_music", "weather_query", "lights_on"}[i%4]
		r.Cell, r.Variant, r.Intent = intent, "assistant-50", intent
		r.Input = fmt.Sprintf("could you %s please (%d)", strings.ReplaceAll(intent, "_", " "), i)
		r.Target = fmt.Sprintf(`{"intent":%q}`, intent)
		r.SoftLabels = fmt.Sprintf(`{"%s":0.9,"other":0.1}`, intent)
	case schemas.EdgeFuncCall:
		fn := []string{"lights_turn_on", "thermostat_set"}[i%2]
		scen := []string{"single_turn", "multi_turn"}[i%2]
		r.Cell, r.Variant, r.Function, r.Scenario = fn+"/"+scen, "home-20", fn, scen
		r.Intent = "home_control"
		r.Input = fmt.Sprintf(`[{"role":"user","content":"turn on the kitchen lights %d"}]`, i)
		r.Target = fmt.Sprintf(`[{"name":%q,"arguments":{"room":"kitchen","n":%d}}]`, fn, i)
		r.Meta = `{"note":"multi"}`
	}
	return r
}

func exampleRecords(task schemas.Task, n int) []Record {
	out := make([]Record, n)
	for i := range out {
		out[i] = exampleRecord(task, i)
	}
	return out
}

// bySplit groups records by split, keeping order.
func bySplit(recs []Record) map[string][]Record {
	out := map[string][]Record{}
	for _, r := range recs {
		out[r.Split] = append(out[r.Split], r)
	}
	return out
}

func openStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// commitVersion writes recs as task@version and commits it.
func commitVersion(t testing.TB, s *Store, task schemas.Task, version string, recs []Record) *Manifest {
	t.Helper()
	w, err := s.Create(task, version)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.Write(recs...); err != nil {
		t.Fatal(err)
	}
	m, err := w.Commit(CommitInfo{SpecHash: "0123456789abcdef0123", Notes: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
