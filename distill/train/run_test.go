package train

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

// testConfig is a small run: B=4, T=seqLen, warmup then cosine over total steps.
func testConfig(total, seqLen int) Config {
	c := DefaultConfig()
	c.LR, c.WarmupSteps, c.TotalSteps, c.MinLRRatio = 1e-2, 3, total, 0.1
	c.BatchSize, c.SeqLen, c.GradAccum = 4, seqLen, 1
	c.EvalEvery, c.EvalBatches, c.CheckpointEvery = 0, 2, 0
	return c
}

// encoderJob is a training job of the fake encoder on 48 intent records.
func encoderJob(t *testing.T, seed uint64) Job {
	t.Helper()
	d := buildTestData(t, model.ArchEncoder, intentRecords(48, "train"), 64)
	ev := buildTestData(t, model.ArchEncoder, intentRecords(12, "test"), 64)
	mc := fakeConfig(model.ArchEncoder, len(d.Labels))
	return Job{Model: newFakeModel(mc, seed), ModelConfig: mc, Preset: "fake", Tokenizer: byteTok{},
		Train: d, Eval: ev, OutDir: t.TempDir(), Lineage: map[string]string{"dataset": "test"}}
}

// TestAccumulation checks that 2 micro-batches of 4 give the same steps as 1 batch of 8.
func TestAccumulation(t *testing.T) {
	var trained Model
	run := func(batch, accum int) ([]StepMetrics, []model.Param) {
		job := encoderJob(t, 5)
		trained = job.Model
		c := testConfig(6, 64)
		c.BatchSize, c.GradAccum = batch, accum
		if _, err := Run(context.Background(), c, job); err != nil {
			t.Fatal(err)
		}
		var st Metrics
		data, err := os.ReadFile(filepath.Join(job.OutDir, metricsFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &st); err != nil {
			t.Fatal(err)
		}
		return st.Steps, job.Model.Params()
	}
	h8, p8 := run(8, 1)
	h4, p4 := run(4, 2)
	if len(h8) != 6 || len(h4) != 6 {
		t.Fatalf("%d and %d steps recorded, want 6", len(h8), len(h4))
	}
	for i := range h8 {
		if math.Abs(h8[i].Loss-h4[i].Loss) > 1e-6 || math.Abs(h8[i].GradNorm-h4[i].GradNorm) > 1e-6 {
			t.Errorf("step %d: batch 8 loss %.9g norm %.9g, 2x4 loss %.9g norm %.9g", i+1, h8[i].Loss, h8[i].GradNorm, h4[i].Loss, h4[i].GradNorm)
		}
	}
	for i := range p8 {
		for j := range p8[i].Data {
			if math.Abs(float64(p8[i].Data[j]-p4[i].Data[j])) > 1e-6 {
				t.Fatalf("%s[%d]: %g vs %g", p8[i].Name, j, p8[i].Data[j], p4[i].Data[j])
			}
		}
	}
	fresh := encoderJob(t, 5)
	mean := func(m Model) float64 { // over the whole training split
		var sum float64
		batches := EvalBatches(fresh.Train, 8, 64, 100)
		for _, b := range batches {
			l, err := m.Loss(b)
			if err != nil {
				t.Fatal(err)
			}
			sum += l / float64(len(batches))
		}
		return sum
	}
	if before, after := mean(fresh.Model), mean(trained); after >= before {
		t.Errorf("training loss did not go down: %g -> %g", before, after)
	}
}

// decoderJob is a training job of the fake decoder on intent records (ChatML prompts).
func decoderJob(t *testing.T, seed uint64, out string) Job {
	t.Helper()
	d := buildTestData(t, model.ArchDecoder, intentRecords(24, "train"), 256)
	ev := buildTestData(t, model.ArchDecoder, intentRecords(6, "test"), 256)
	mc := fakeConfig(model.ArchDecoder, 0)
	return Job{Model: newFakeModel(mc, seed), ModelConfig: mc, Tokenizer: byteTok{}, Train: d, Eval: ev, OutDir: out}
}

// TestResumeExact trains 20 steps straight, and 10 steps + cancel (which checkpoints)
// + resume into a freshly initialised model + 10 steps: the losses, evaluations and
// final weights must agree, so data order, schedule, moments and weights all resumed.
func TestResumeExact(t *testing.T) {
	c := testConfig(20, 256)
	c.GradAccum, c.EvalEvery, c.CheckpointEvery = 2, 5, 4
	straight := decoderJob(t, 1, t.TempDir())
	var progress []Progress
	straight.Progress = func(p Progress) { progress = append(progress, p) }
	res, err := Run(context.Background(), c, straight)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopDone || res.Step != 20 || len(progress) != 20 {
		t.Fatalf("result %+v after %d progress calls", res, len(progress))
	}
	if p := progress[19]; p.Step != 20 || p.TotalSteps != 20 || math.IsNaN(p.EvalLoss) || p.Checkpoint == "" || p.ETA != 0 {
		t.Errorf("last progress %+v", p)
	}
	if p := progress[5]; !math.IsNaN(p.EvalLoss) || p.TokensPerSec <= 0 || p.LR != c.LRAt(5) {
		t.Errorf("progress at step 6 %+v", p)
	}

	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	first := decoderJob(t, 1, out)
	first.Progress = func(p Progress) {
		if p.Step == 10 {
			cancel()
		}
	}
	res1, runErr := Run(ctx, c, first)
	if !errors.Is(runErr, context.Canceled) || res1.Stopped != StopCanceled || res1.Step != 10 {
		t.Fatalf("first half: result %+v, error %v", res1, runErr)
	}
	latest, err := LatestCheckpoint(out)
	if err != nil || filepath.Base(latest) != "step-00000010" || !strings.Contains(runErr.Error(), latest) {
		t.Fatalf("latest checkpoint %q (%v), cancel error %v", latest, err, runErr)
	}
	second := decoderJob(t, 99, out) // different init: the checkpoint must overwrite it
	second.Resume = latest
	res2, err := Run(context.Background(), c, second)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Step != 20 {
		t.Fatalf("resumed run ended at %d", res2.Step)
	}
	a, b := readState(t, res.Checkpoint), readState(t, res2.Checkpoint)
	if len(a.History) != 20 || len(b.History) != 20 {
		t.Fatalf("histories of %d and %d steps", len(a.History), len(b.History))
	}
	for i := range a.History {
		if d := math.Abs(a.History[i].Loss - b.History[i].Loss); d > 1e-6 || a.History[i].LR != b.History[i].LR {
			t.Errorf("step %d: loss %.9g vs %.9g, lr %g vs %g", i+1, a.History[i].Loss, b.History[i].Loss, a.History[i].LR, b.History[i].LR)
		}
	}
	if len(a.Evals) != 4 || len(b.Evals) != 4 || a.Evals[3].Loss != b.Evals[3].Loss {
		t.Errorf("evals %v vs %v", a.Evals, b.Evals)
	}
	for i, p := range straight.Model.Params() {
		q := second.Model.Params()[i]
		for j := range p.Data {
			if math.Abs(float64(p.Data[j]-q.Data[j])) > 1e-6 {
				t.Fatalf("%s[%d]: %g straight, %g resumed", p.Name, j, p.Data[j], q.Data[j])
			}
		}
	}
	for _, f := range []string{metricsFile, lossPlotFile} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestResumeCountsOwnTokens checks that a resumed run reports only its own
// work: Result.Tokens counts the non-padding tokens of the steps this call
// ran, not those of the attempt it resumed, nor the padding (tokens/s of a
// TrainResult divides Tokens by this call's Elapsed).
func TestResumeCountsOwnTokens(t *testing.T) {
	c := testConfig(12, 256)
	c.CheckpointEvery = 4
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	first := decoderJob(t, 1, out)
	first.Progress = func(p Progress) {
		if p.Step == 8 {
			cancel()
		}
	}
	if res, err := Run(ctx, c, first); !errors.Is(err, context.Canceled) || res.Step != 8 || res.Tokens <= 0 {
		t.Fatalf("first attempt: result %+v, error %v", res, err)
	}
	latest, err := LatestCheckpoint(out)
	if err != nil {
		t.Fatal(err)
	}
	second := decoderJob(t, 1, out)
	second.Resume = latest
	var real, padded int64
	inner := second.Model
	second.Model = &hookModel{Model: inner, fb: func(b model.Batch) (float64, error) {
		for _, v := range b.Valid {
			if v != 0 {
				real++
			}
		}
		padded += int64(b.B * b.T)
		return inner.ForwardBackward(b)
	}}
	res, err := Run(context.Background(), c, second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Step != 12 || real == 0 || real >= padded {
		t.Fatalf("resumed run: step %d, %d real of %d padded tokens: want 4 steps of padded batches", res.Step, real, padded)
	}
	if res.Tokens != real {
		t.Errorf("resumed run reports %d tokens, want the %d non-padding tokens of its own 4 steps", res.Tokens, real)
	}
	if res.Elapsed <= 0 {
		t.Errorf("elapsed %v", res.Elapsed)
	}
}

// readState reads trainer_state.json of a checkpoint.
func readState(t *testing.T, dir string) State {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, model.TrainerStateFile))
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestNonFiniteStop checks that a NaN loss or gradient stops the run with an error that
// names the step, without writing the bad step, and that the last checkpoint still loads.
func TestNonFiniteStop(t *testing.T) {
	t.Run("nan loss", func(t *testing.T) {
		job := encoderJob(t, 2)
		inner, calls := job.Model, 0
		job.Model = &hookModel{Model: inner, fb: func(b model.Batch) (float64, error) {
			calls++
			l, err := inner.ForwardBackward(b)
			if calls == 7 {
				return math.NaN(), err
			}
			return l, err
		}}
		c := testConfig(20, 64)
		c.CheckpointEvery = 5
		res, err := Run(context.Background(), c, job)
		if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "step 7:") || res.Stopped != StopNonFinite {
			t.Fatalf("result %+v, error %v: want a non-finite error at step 7", res, err)
		}
		latest, _ := LatestCheckpoint(job.OutDir)
		if filepath.Base(latest) != "step-00000005" || !strings.Contains(err.Error(), latest) {
			t.Fatalf("latest %q, error %v: want step 5 named in the error", latest, err)
		}
		ck, err := model.LoadCheckpoint(latest, &job.ModelConfig)
		if err != nil {
			t.Fatal(err)
		}
		if st := readState(t, ck.Dir); st.Step != 5 || len(st.History) != 5 {
			t.Errorf("checkpoint state at step %d with %d history entries", st.Step, len(st.History))
		}
		ents, _ := os.ReadDir(filepath.Join(job.OutDir, checkpointsDir))
		if len(ents) != 2 { // step-00000005 and latest
			t.Errorf("%d entries in checkpoints/, want the step-5 checkpoint and latest", len(ents))
		}
	})
	t.Run("inf gradient", func(t *testing.T) {
		job := encoderJob(t, 2)
		inner := job.Model
		job.Model = &hookModel{Model: inner, fb: func(b model.Batch) (float64, error) {
			l, err := inner.ForwardBackward(b)
			inner.Params()[0].Grad[3] = float32(math.Inf(1))
			return l, err
		}}
		before := append([]float32(nil), inner.Params()[0].Data...)
		res, err := Run(context.Background(), testConfig(5, 64), job)
		if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "step 1:") || res.Checkpoint != "" {
			t.Fatalf("result %+v, error %v", res, err)
		}
		if inner.Params()[0].Data[0] != before[0] {
			t.Error("the bad step was applied")
		}
	})
}

// TestEarlyStop checks that the run stops after Patience evaluations without a new best.
func TestEarlyStop(t *testing.T) {
	job := encoderJob(t, 3)
	job.Model = &hookModel{Model: job.Model, loss: func(model.Batch) (float64, error) { return 1, nil }}
	c := testConfig(50, 64)
	c.EvalEvery, c.Patience = 2, 3
	res, err := Run(context.Background(), c, job)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopEarly || res.Step != 8 || res.BestEvalLoss == nil || *res.BestEvalLoss != 1 {
		t.Fatalf("result %+v, want an early stop at step 8 (best at 2, then 3 evals without improvement)", res)
	}
	if filepath.Base(res.BestCheckpoint) != "step-00000002" || filepath.Base(res.Checkpoint) != "step-00000008" {
		t.Errorf("best %s latest %s", res.BestCheckpoint, res.Checkpoint)
	}
	for _, dir := range []string{res.BestCheckpoint, res.Checkpoint} {
		if _, err := model.LoadCheckpoint(dir, &job.ModelConfig); err != nil {
			t.Error(err)
		}
	}
}

// TestRunMismatch checks the errors of resuming into the wrong model or config, and of a
// model whose tensors do not match its config.
func TestRunMismatch(t *testing.T) {
	job := encoderJob(t, 4)
	c := testConfig(3, 64)
	res, err := Run(context.Background(), c, job)
	if err != nil {
		t.Fatal(err)
	}
	bigger := job.ModelConfig
	bigger.Hidden, bigger.Intermediate = 16, 16
	other := job
	other.ModelConfig, other.Model, other.Resume = bigger, newFakeModel(bigger, 1), res.Checkpoint
	other.OutDir = t.TempDir()
	if _, err := Run(context.Background(), c, other); err == nil ||
		!strings.Contains(err.Error(), "hidden_size: 8 != 16") || !strings.Contains(err.Error(), "intermediate_size: 8 != 16") {
		t.Errorf("error %v, want the differing fields", err)
	}
	reseeded := c
	reseeded.Seed++
	again := job
	again.Resume, again.Model = res.Checkpoint, newFakeModel(job.ModelConfig, 1)
	if _, err := Run(context.Background(), reseeded, again); err == nil || !strings.Contains(err.Error(), "seed: 1337 != 1338") {
		t.Errorf("error %v, want a seed change refused", err)
	}
	wrong := job
	wrong.ModelConfig = bigger
	if _, err := Run(context.Background(), c, wrong); err == nil || !strings.Contains(err.Error(), "tensor model.embed_tokens.weight: shape [260 8], config wants [260 16]") {
		t.Errorf("error %v, want the param mismatch", err)
	}
	bad := c
	bad.BatchSize, bad.MinLRRatio = 0, 2
	if _, err := Run(context.Background(), bad, job); err == nil || !strings.Contains(err.Error(), "batch_size") || !strings.Contains(err.Error(), "min_lr_ratio") {
		t.Errorf("error %v, want every bad field", err)
	}
}
