package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/internal/testutil"
)

// markedData is decoder data whose examples carry their task marker as first token
// and their index as second, so a batch row tells where it came from.
func markedData(marker int32, n int) *Data {
	d := &Data{Arch: model.ArchDecoder, PadID: bytePad}
	for i := range n {
		d.Examples = append(d.Examples, Example{ID: fmt.Sprintf("%d-%d", marker, i), Prompt: 2,
			Tokens: []int32{marker, int32(i), 'a', 'b', byteEOS}})
	}
	return d
}

// rowSources returns the marker and the example index of every row of b.
func rowSources(b model.Batch) (markers, index []int32) {
	for r := 0; r < b.B; r++ {
		markers = append(markers, b.Tokens[r*b.T])
		index = append(index, b.Tokens[r*b.T+1])
	}
	return markers, index
}

// TestMixLoaderWeights checks that batches follow the weights (every batch within one
// row of its share, the whole run within 0.5%), that each task is served in epoch
// permutations, that Served counts the rows, and that the draws depend on the seed.
func TestMixLoaderWeights(t *testing.T) {
	for _, tc := range []struct {
		name    string
		weights []float64
		batch   int
	}{
		{"3:1", []float64{3, 1}, 5},
		{"0.5/0.3/0.2", []float64{0.5, 0.3, 0.2}, 8},
		{"rare task", []float64{0.95, 0.05}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var srcs []Source
			sizes := []int{37, 11, 23}
			for i, w := range tc.weights {
				srcs = append(srcs, Source{Name: fmt.Sprintf("task%d", i), Data: markedData(int32(i), sizes[i]), Weight: w})
			}
			m, err := NewMixLoader(srcs, tc.batch, 8, 42)
			if err != nil {
				t.Fatal(err)
			}
			const batches = 600
			counts := make([]int, len(srcs))
			seen := make([][]int32, len(srcs))
			var firstBatches [][]int32
			for k := range batches {
				b := m.Next()
				markers, index := rowSources(b)
				if k < 5 {
					firstBatches = append(firstBatches, markers)
				}
				per := make([]int, len(srcs))
				for r, mk := range markers {
					per[mk]++
					seen[mk] = append(seen[mk], index[r])
				}
				for i, w := range tc.weights {
					share := w / sum(tc.weights) * float64(tc.batch)
					if float64(per[i]) < math.Floor(share) || float64(per[i]) > math.Ceil(share) {
						t.Fatalf("batch %d: %d rows of task %d, want floor/ceil of %.2f", k, per[i], i, share)
					}
					counts[i] += per[i]
				}
			}
			served := m.Served()
			for i, w := range tc.weights {
				got, want := float64(counts[i])/float64(batches*tc.batch), w/sum(tc.weights)
				t.Logf("task %d: %.4f of the rows, weight %.4f", i, got, want)
				if math.Abs(got-want) > 0.005 {
					t.Errorf("task %d: %.4f of the rows, want %.4f", i, got, want)
				}
				if served[srcs[i].Name] != int64(counts[i]) {
					t.Errorf("Served()[%s] = %d, counted %d", srcs[i].Name, served[srcs[i].Name], counts[i])
				}
				n := sizes[i]
				if len(seen[i]) >= n {
					epoch := slices.Clone(seen[i][:n])
					slices.Sort(epoch)
					for j, v := range epoch {
						if v != int32(j) {
							t.Fatalf("task %d: first epoch is not a permutation of its %d examples: %v", i, n, epoch)
						}
					}
				}
			}
			other, err := NewMixLoader(srcs, tc.batch, 8, 43)
			if err != nil {
				t.Fatal(err)
			}
			same := true
			for k := range 5 {
				mk, _ := rowSources(other.Next())
				same = same && slices.Equal(mk, firstBatches[k])
			}
			if same && len(tc.weights) > 2 {
				t.Error("seed 43 splits the first batches as seed 42 does")
			}
		})
	}
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

// TestMixLoaderSeek checks that a saved position (through JSON) reproduces the following
// batches and that positions of other tasks or weights are refused.
func TestMixLoaderSeek(t *testing.T) {
	srcs := []Source{{Name: "a", Data: markedData(0, 9), Weight: 2}, {Name: "b", Data: markedData(1, 4), Weight: 1}}
	a, err := NewMixLoader(srcs, 3, 8, 7)
	if err != nil {
		t.Fatal(err)
	}
	for range 7 {
		a.Next()
	}
	raw, err := json.Marshal(a.Cursor())
	if err != nil {
		t.Fatal(err)
	}
	var cur MixCursor
	if err := json.Unmarshal(raw, &cur); err != nil {
		t.Fatal(err)
	}
	if cur.Batches != 7 || cur.Tasks[1].Name != "b" || cur.Tasks[1].Epoch == 0 {
		t.Errorf("cursor %s after 7 batches: want 7 batches and task b past its first epoch", raw)
	}
	b, _ := NewMixLoader(srcs, 3, 8, 7)
	if err := b.Seek(cur); err != nil {
		t.Fatal(err)
	}
	for k := range 6 {
		if x, y := a.Next(), b.Next(); !slices.Equal(x.Tokens, y.Tokens) {
			t.Fatalf("batch %d after seeking differs", k)
		}
	}
	reweighted := []Source{srcs[0], {Name: "b", Data: srcs[1].Data, Weight: 2}}
	c, _ := NewMixLoader(reweighted, 3, 8, 7)
	if err := c.Seek(cur); err == nil || !strings.Contains(err.Error(), "mixture task a: weight") {
		t.Errorf("seek with other weights: %v", err)
	}
	d, _ := NewMixLoader([]Source{srcs[1], srcs[0]}, 3, 8, 7)
	if err := d.Seek(cur); err == nil || !strings.Contains(err.Error(), `task 0 is "a"`) {
		t.Errorf("seek with other task order: %v", err)
	}
}

// mixSeq is the sequence length of mixedJob's data (EdgeJSON prompts are ~280 bytes).
const mixSeq = 320

// mixedJob is a multi-task job of the fake decoder: intent records (weight 3) and
// EdgeJSON records (weight 1), each with its own eval set.
func mixedJob(t *testing.T, seed uint64, out string) Job {
	t.Helper()
	intents := buildTestData(t, model.ArchDecoder, intentRecords(24, "train"), mixSeq)
	jsons := buildTestData(t, model.ArchDecoder, jsonRecords(t, 16, "train"), mixSeq)
	mc := fakeConfig(model.ArchDecoder, 0)
	return Job{Model: newFakeModel(mc, seed), ModelConfig: mc, Tokenizer: byteTok{}, OutDir: out,
		Mixture: []Source{{Name: "edgeintent", Data: intents, Weight: 3}, {Name: "edgejson", Data: jsons, Weight: 1}},
		Evals: []EvalSet{
			{Name: "edgeintent", Data: buildTestData(t, model.ArchDecoder, intentRecords(6, "test"), mixSeq)},
			{Name: "edgejson", Data: buildTestData(t, model.ArchDecoder, jsonRecords(t, 4, "test"), mixSeq)},
		}}
}

// jsonRecords makes n EdgeJSON records of the catalog's smallest schema.
func jsonRecords(t *testing.T, n int, split string) []datasets.Record {
	t.Helper()
	cat := testutil.Catalog(t)
	best := cat.Schemas[0]
	for _, s := range cat.Schemas {
		if len(s.Schema) < len(best.Schema) {
			best = s
		}
	}
	recs := make([]datasets.Record, n)
	for i := range recs {
		recs[i] = datasets.Record{ID: fmt.Sprintf("j-%s-%03d", split, i), Task: "edgejson", Split: split, Cell: best.ID,
			Input: fmt.Sprintf("item %d", i), Target: fmt.Sprintf(`{"n": %d}`, i%5)}
	}
	return recs
}

// TestResumeMixture trains a two-task mixture 20 steps straight, and 10 steps + cancel +
// resume into a fresh model + 10 steps: losses, per-task evaluations and weights must
// agree. It also checks the per-task eval losses in Progress, metrics.json and the
// result, that they fall, and that the trainer state records the mixture.
func TestResumeMixture(t *testing.T) {
	c := testConfig(20, mixSeq)
	c.LR, c.GradAccum, c.EvalEvery, c.CheckpointEvery = 5e-2, 2, 5, 10
	straight := mixedJob(t, 1, t.TempDir())
	var progress []Progress
	straight.Progress = func(p Progress) { progress = append(progress, p) }
	res, err := Run(context.Background(), c, straight)
	if err != nil {
		t.Fatal(err)
	}
	if p := progress[4]; len(p.EvalLosses) != 2 || math.Abs(p.EvalLoss-(p.EvalLosses["edgeintent"]+p.EvalLosses["edgejson"])/2) > 1e-12 {
		t.Errorf("progress at step 5: eval %g, per task %v; want both tasks and their mean", p.EvalLoss, p.EvalLosses)
	}
	if progress[5].EvalLosses != nil || len(res.BestEvalLosses) != 2 {
		t.Errorf("per-task losses %v at step 6 (no eval), %v in the result", progress[5].EvalLosses, res.BestEvalLosses)
	}
	var m Metrics
	data, err := os.ReadFile(filepath.Join(straight.OutDir, metricsFile))
	if err != nil || json.Unmarshal(data, &m) != nil || len(m.Evals) != 4 {
		t.Fatalf("metrics.json: %v, %d evals", err, len(m.Evals))
	}
	for _, task := range []string{"edgeintent", "edgejson"} {
		first, last := m.Evals[0].Tasks[task], m.Evals[3].Tasks[task]
		t.Logf("%s eval loss %.3f -> %.3f", task, first, last)
		if !(last < first-0.1) {
			t.Errorf("%s eval loss %g -> %g: did not fall", task, first, last)
		}
	}

	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	first := mixedJob(t, 1, out)
	first.Progress = func(p Progress) {
		if p.Step == 10 {
			cancel()
		}
	}
	if _, err := Run(ctx, c, first); !errors.Is(err, context.Canceled) {
		t.Fatalf("first half: %v", err)
	}
	latest, err := LatestCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	st := readState(t, latest)
	if st.Mixture == nil || st.Mixture.Batches != 20 || len(st.Mixture.Tasks) != 2 || st.Mixture.Tasks[1].Weight != 0.25 {
		t.Fatalf("trainer state mixture %+v, want 20 batches of 2 tasks weighted 0.75/0.25", st.Mixture)
	}
	second := mixedJob(t, 99, out)
	second.Resume = latest
	res2, err := Run(context.Background(), c, second)
	if err != nil {
		t.Fatal(err)
	}
	compareRuns(t, readState(t, res.Checkpoint), readState(t, res2.Checkpoint), straight.Model, second.Model)
}

// compareRuns checks that two runs' histories, evaluations and final weights agree.
func compareRuns(t *testing.T, a, b State, ma, mb Model) {
	t.Helper()
	if len(a.History) != len(b.History) || len(a.Evals) != len(b.Evals) {
		t.Fatalf("%d/%d steps and %d/%d evals", len(a.History), len(b.History), len(a.Evals), len(b.Evals))
	}
	for i := range a.History {
		if d := math.Abs(a.History[i].Loss - b.History[i].Loss); d > 1e-6 {
			t.Errorf("step %d: loss %.9g vs %.9g", i+1, a.History[i].Loss, b.History[i].Loss)
		}
	}
	for i := range a.Evals {
		for task, l := range a.Evals[i].Tasks {
			if math.Abs(l-b.Evals[i].Tasks[task]) > 1e-9 {
				t.Errorf("eval %d %s: %g vs %g", i, task, l, b.Evals[i].Tasks[task])
			}
		}
	}
	for i, p := range ma.Params() {
		q := mb.Params()[i]
		for j := range p.Data {
			if math.Abs(float64(p.Data[j]-q.Data[j])) > 1e-6 {
				t.Fatalf("%s[%d]: %g straight, %g resumed", p.Name, j, p.Data[j], q.Data[j])
			}
		}
	}
}

// TestMixtureJobErrors checks the refusals of inconsistent mixture jobs and of resuming
// across single-task and mixture runs or with other weights.
func TestMixtureJobErrors(t *testing.T) {
	c := testConfig(3, mixSeq)
	base := mixedJob(t, 1, t.TempDir())
	res, err := Run(context.Background(), c, base)
	if err != nil {
		t.Fatal(err)
	}
	enc := buildTestData(t, model.ArchEncoder, intentRecords(12, "train"), 64)
	single := decoderJob(t, 1, t.TempDir()) // its data is cut to 256 tokens, which fits in mixSeq
	for _, tc := range []struct {
		name string
		edit func(j *Job)
		want string
	}{
		{"train and mixture", func(j *Job) { j.Train = j.Mixture[0].Data }, "both Train and Mixture"},
		{"eval and evals", func(j *Job) { j.Eval = j.Evals[0].Data }, "both Eval and Evals"},
		{"duplicate source", func(j *Job) { j.Mixture[1].Name = "edgeintent" }, "source edgeintent: name used twice"},
		{"zero weight", func(j *Job) { j.Mixture[1].Weight = 0 }, "source edgejson: weight 0"},
		{"other arch", func(j *Job) { j.Mixture[1].Data = enc }, "source edgejson: data built with another arch"},
		{"unnamed eval", func(j *Job) { j.Evals[1].Name = "" }, "eval set 1: no name"},
		{"resume other weights", func(j *Job) { j.Mixture[1].Weight, j.Resume = 2, res.Checkpoint }, "mixture task edgeintent: weight 0.75"},
		{"resume single from mixture", func(j *Job) { *j = decoderJob(t, 1, t.TempDir()); j.Resume = res.Checkpoint }, "multi-task run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := mixedJob(t, 1, t.TempDir())
			tc.edit(&j)
			if _, err := Run(context.Background(), c, j); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	sres, err := Run(context.Background(), c, single)
	if err != nil {
		t.Fatal(err)
	}
	again := mixedJob(t, 1, t.TempDir())
	again.Resume = sres.Checkpoint
	if _, err := Run(context.Background(), c, again); err == nil || !strings.Contains(err.Error(), "single-dataset run") {
		t.Errorf("resuming a mixture from a single-task checkpoint: %v", err)
	}
	// A single-task run keeps its formats: no mixture in the state, no per-task evals.
	for _, f := range []string{filepath.Join(sres.Checkpoint, model.TrainerStateFile), filepath.Join(single.OutDir, metricsFile)} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), `"mixture"`) || strings.Contains(string(raw), `"tasks"`) {
			t.Errorf("%s of a single-task run has mixture or per-task fields", filepath.Base(f))
		}
	}
}
