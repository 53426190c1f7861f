package distill

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/builtin"
	"github.com/cyclecore/mlmforge/schemas"
)

// genVersion generates n train records of a task with the builtin teacher (as the
// generate activity does) and commits them as version v1 of the task in store.
func genVersion(t *testing.T, cat *schemas.Catalog, store *datasets.Store, task schemas.Task, variant string, n int) *datasets.Version {
	t.Helper()
	recs, err := builtin.Generate(context.Background(), cat,
		generator.Spec{Task: task, Variant: variant, Counts: map[string]int{"train": n}, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < n*9/10 {
		t.Fatalf("generated %d of %d %s records", len(recs), n, task)
	}
	w, err := store.Create(task, "v1")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.Write(recs...); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(datasets.CommitInfo{Notes: "multitask test"}); err != nil {
		t.Fatal(err)
	}
	v, err := store.Version(task, "v1")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTrainMultitask trains tiny-balanced on EdgeIntent and EdgeJSON weighted 3:1: one
// tokenizer for both tasks, a per-task eval loss that falls, batches split 3:1, the
// lineage the evaluation reads, and a second call that resumes the finished run.
func TestTrainMultitask(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	store, err := datasets.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Listed JSON first: the run sorts tasks, so the order given does not matter.
	// 100 records each: the 5% hold-out of 60 (gen-v2's ids) drew no EdgeJSON
	// record, and a task without one gets no eval loss.
	versions := []*datasets.Version{
		genVersion(t, cat, store, schemas.EdgeJSON, "", 100),
		genVersion(t, cat, store, schemas.EdgeIntent, "assistant-50", 100),
	}
	spec := TrainSpec{Preset: "tiny-balanced", Versions: versions, Weights: map[string]float64{"edgeintent": 3, "edgejson": 1},
		Catalog: cat, OutDir: filepath.Join(t.TempDir(), "run"), Lineage: map[string]string{"workflow_run": "r1"},
		Train: train.Config{LR: 1e-2, TotalSteps: 8, WarmupSteps: 2, BatchSize: 4, EvalEvery: 4, EvalBatches: 1, CheckpointEvery: 8}}
	res, err := TrainStudent(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != MethodMultitask || strings.Join(res.Tasks, ",") != "edgeintent,edgejson" || res.Result.Step != 8 || res.Resumed {
		t.Fatalf("result %+v", res)
	}
	ck, err := model.LoadCheckpoint(res.Checkpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"method": "multitask", "tasks": "edgeintent,edgejson", "datasets": "edgeintent@v1,edgejson@v1",
		"weights": "edgeintent=0.75,edgejson=0.25", "workflow_run": "r1"}
	for k, v := range want {
		if ck.Lineage[k] != v {
			t.Errorf("lineage %s = %q, want %q", k, ck.Lineage[k], v)
		}
	}
	checkMultitaskMetrics(t, spec.OutDir)
	checkMixtureState(t, res.Checkpoint, 8*4)
	checkSharedTokenizer(t, filepath.Join(spec.OutDir, "tokenizer.json"))

	again, err := TrainStudent(context.Background(), spec)
	if err != nil || !again.Resumed || again.Result.Step != 8 {
		t.Fatalf("second call: %+v, %v; want the finished run resumed", again, err)
	}
}

// checkMultitaskMetrics checks that metrics.json has both tasks' eval losses at every
// evaluation, their mean as the loss, and that each task's loss fell.
func checkMultitaskMetrics(t *testing.T, outDir string) {
	t.Helper()
	var m train.Metrics
	data, err := os.ReadFile(filepath.Join(outDir, "metrics.json"))
	if err != nil || json.Unmarshal(data, &m) != nil || len(m.Evals) != 2 {
		t.Fatalf("metrics.json: %v, %d evals; want 2", err, len(m.Evals))
	}
	for _, e := range m.Evals {
		mean := (e.Tasks["edgeintent"] + e.Tasks["edgejson"]) / 2
		if len(e.Tasks) != 2 || mean-e.Loss > 1e-9 || e.Loss-mean > 1e-9 {
			t.Errorf("eval at step %d: loss %g, tasks %v; want both tasks and their mean", e.Step, e.Loss, e.Tasks)
		}
	}
	for _, task := range []string{"edgeintent", "edgejson"} {
		first, last := m.Evals[0].Tasks[task], m.Evals[1].Tasks[task]
		t.Logf("%s eval loss %.3f (step 4) -> %.3f (step 8)", task, first, last)
		if !(last < first) {
			t.Errorf("%s eval loss did not fall: %g -> %g", task, first, last)
		}
	}
	if fi, err := os.Stat(filepath.Join(outDir, "loss.png")); err != nil || fi.Size() == 0 {
		t.Errorf("loss.png: %v", err)
	}
}

// checkMixtureState checks that the checkpoint's data position served the tasks 3:1.
func checkMixtureState(t *testing.T, dir string, rows int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, model.TrainerStateFile))
	if err != nil {
		t.Fatal(err)
	}
	var st train.State
	if err := json.Unmarshal(data, &st); err != nil || st.Mixture == nil || len(st.Mixture.Tasks) != 2 {
		t.Fatalf("trainer state %s: %v; want a mixture of 2 tasks", data, err)
	}
	// Every batch of 4 holds exactly 3 intent rows and 1 JSON row: the tasks' cursors
	// (epochs x examples + position) add up to 3/4 and 1/4 of the rows.
	t.Logf("mixture position %+v", st.Mixture)
	tasks := st.Mixture.Tasks
	if st.Mixture.Batches != int64(rows/4) || tasks[0].Name != "edgeintent" || tasks[0].Weight != 0.75 {
		t.Errorf("mixture position %+v", st.Mixture)
	}
	if tasks[0].Cursor != (train.Cursor{Pos: rows * 3 / 4}) || tasks[1].Cursor != (train.Cursor{Pos: rows / 4}) {
		t.Errorf("served %+v and %+v of %d rows, want 3:1 within the first epochs", tasks[0].Cursor, tasks[1].Cursor, rows)
	}
}

// checkSharedTokenizer checks that the tokenizer learnt both tasks' prompts: words
// that only one task's (compact) prompts use are single tokens.
func checkSharedTokenizer(t *testing.T, path string) {
	t.Helper()
	tok, err := LoadTokenizer(path)
	if err != nil {
		t.Fatal(err)
	}
	// Decoder tokenizers isolate spaces (tokenizer.StudentPreTokenizer): a word is
	// one id wherever it stands.
	for _, w := range []string{"Taxonomy", "Request", "intent", "Schema", "Text"} {
		if ids := tok.Encode(w); len(ids) != 1 {
			t.Errorf("%q is %d tokens %v, want 1: the tokenizer did not learn its task's prompts", w, len(ids), ids)
		}
		if ids, one := tok.Encode(" "+w), tok.Encode(w); len(ids) != 2 || ids[1] != one[0] {
			t.Errorf("%q is %v, want a space and the id of %q", " "+w, ids, w)
		}
	}
}

// TestMultitaskSpecErrors checks the refusals of inconsistent multitask specs.
func TestMultitaskSpecErrors(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	store, err := datasets.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	intent := genVersion(t, cat, store, schemas.EdgeIntent, "assistant-50", 20)
	jsonV := genVersion(t, cat, store, schemas.EdgeJSON, "", 20)
	both := []*datasets.Version{intent, jsonV}
	for _, tc := range []struct {
		name string
		spec TrainSpec
		want string
	}{
		{"encoder", TrainSpec{Preset: "tiny-intent", Versions: both}, `method "multitask" does not apply to a encoder`},
		{"seqkd with versions", TrainSpec{Preset: "tiny-balanced", Method: MethodSeqKD, Versions: both}, "Versions is for method multitask"},
		{"version and versions", TrainSpec{Preset: "tiny-balanced", Version: intent, Versions: both}, "not Version"},
		{"no versions", TrainSpec{Preset: "tiny-balanced", Method: MethodMultitask}, "no dataset versions"},
		{"task twice", TrainSpec{Preset: "tiny-balanced", Versions: []*datasets.Version{intent, intent}}, "two versions of task edgeintent"},
		{"missing weight", TrainSpec{Preset: "tiny-balanced", Versions: both, Weights: map[string]float64{"edgejson": 1}}, "no weight for task edgeintent"},
		{"unknown weight", TrainSpec{Preset: "tiny-balanced", Versions: both, Weights: map[string]float64{"edgejson": 1, "edgeintent": 1, "edgefunccall": 1}}, "weight for task edgefunccall"},
		{"zero weight", TrainSpec{Preset: "tiny-balanced", Versions: both, Weights: map[string]float64{"edgejson": 0, "edgeintent": 1}}, "task edgejson: weight 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Catalog, tc.spec.OutDir = cat, t.TempDir()
			if _, err := TrainStudent(context.Background(), tc.spec); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
