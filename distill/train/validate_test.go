package train

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

// scriptValidator returns scripted values, one per call, and records the steps'
// weights it saw (their first embedding value) to prove it sees the live model.
type scriptValidator struct {
	values []float64
	ties   []float64 // Tiebreak per call, if set
	calls  int
	seen   []float32
}

func (v *scriptValidator) Validate(ctx context.Context, cfg model.Config, w model.Weights) (Validation, error) {
	if v.calls >= len(v.values) {
		return Validation{}, errors.New("validated more often than scripted")
	}
	x := v.values[v.calls]
	v.calls++
	v.seen = append(v.seen, w["model.embed_tokens.weight"].Data[0])
	val := Validation{Metric: "test.accuracy", Value: x, N: 7, Scores: map[string]float64{"test.other": 1 - x}}
	if v.ties != nil {
		val.Tiebreak = v.ties[v.calls-1]
	}
	return val, nil
}

// TestValidationTiebreak checks that among equal headline values (a strict
// metric still at 0) the finer score picks the checkpoint, and that a tie on
// both keeps the earlier one.
func TestValidationTiebreak(t *testing.T) {
	job := encoderJob(t, 5)
	v := &scriptValidator{values: []float64{0, 0, 0, 0, 0.1}, ties: []float64{0.1, 0.3, 0.2, 0.3, 0}}
	job.Validator = v
	c := testConfig(20, 64)
	c.EvalEvery, c.ValidateEvery, c.Patience = 2, 4, 10
	res, err := Run(context.Background(), c, job)
	if err != nil {
		t.Fatal(err)
	}
	if res.BestStep != 20 || *res.BestMetric != 0.1 {
		t.Fatalf("best at step %d (%v), want 20: a higher value beats any tiebreak", res.BestStep, *res.BestMetric)
	}
	job = encoderJob(t, 5)
	v = &scriptValidator{values: []float64{0, 0, 0, 0}, ties: []float64{0.1, 0.3, 0.2, 0.3}}
	job.Validator = v
	c = testConfig(16, 64)
	c.EvalEvery, c.ValidateEvery, c.Patience = 2, 4, 10
	if res, err = Run(context.Background(), c, job); err != nil {
		t.Fatal(err)
	}
	if res.BestStep != 8 {
		t.Fatalf("best at step %d, want 8: the higher tiebreak among zeros, the earlier of two equal ones", res.BestStep)
	}
}

// TestValidationSelects checks that with a validator the task metric, not the eval
// loss, picks the best checkpoint and drives early stopping, and that
// metrics.json and the progress callback carry it.
func TestValidationSelects(t *testing.T) {
	job := encoderJob(t, 5)
	// The eval loss keeps falling, so the loss alone would pick the last step.
	evals := 0
	job.Model = &hookModel{Model: job.Model, loss: func(model.Batch) (float64, error) { evals++; return 10 - float64(evals), nil }}
	v := &scriptValidator{values: []float64{0.2, 0.6, 0.5, 0.6, 0.4, 0.9}}
	job.Validator = v
	var progress []Progress
	job.Progress = func(p Progress) { progress = append(progress, p) }
	c := testConfig(50, 64)
	c.EvalEvery, c.ValidateEvery, c.Patience = 2, 4, 3
	res, err := Run(context.Background(), c, job)
	if err != nil {
		t.Fatal(err)
	}
	// Validations at 4, 8, 12, 16, 20: best 0.6 at step 8, then 3 without a higher value
	// (a tie does not count as better): early stop at 20.
	if res.Stopped != StopEarly || res.Step != 20 || v.calls != 5 || res.BestMetric == nil || *res.BestMetric != 0.6 ||
		res.Metric != "test.accuracy" || res.BestStep != 8 || filepath.Base(res.BestCheckpoint) != "step-00000008" {
		t.Fatalf("result %+v (best metric %v), want an early stop at 20 with the best at step 8", res, res.BestMetric)
	}
	if v.seen[0] == v.seen[1] {
		t.Error("the validator saw the same weights at steps 4 and 8")
	}
	ck, err := model.LoadCheckpoint(res.BestCheckpoint, &job.ModelConfig)
	if err != nil {
		t.Fatal(err)
	}
	if got := ck.Weights["model.embed_tokens.weight"].Data[0]; got != v.seen[1] {
		t.Errorf("best checkpoint holds %v, the validator saw %v at step 8", got, v.seen[1])
	}
	var m Metrics
	data, err := os.ReadFile(filepath.Join(job.OutDir, metricsFile))
	if err != nil || json.Unmarshal(data, &m) != nil {
		t.Fatalf("metrics.json: %v", err)
	}
	if len(m.Validations) != 5 || m.Validations[1].Step != 8 || m.Validations[1].Value != 0.6 || m.BestMetric == nil ||
		*m.BestMetric != 0.6 || m.BestStep != 8 || m.Validations[0].Scores["test.other"] != 0.8 {
		t.Fatalf("metrics.json validations %+v best %v at %d", m.Validations, m.BestMetric, m.BestStep)
	}
	ran := 0
	for _, p := range progress {
		if !math.IsNaN(p.MetricValue) {
			ran++
			if p.Metric != "test.accuracy" || p.Step%4 != 0 {
				t.Errorf("progress at step %d: metric %q = %v", p.Step, p.Metric, p.MetricValue)
			}
		}
	}
	if last := progress[len(progress)-1]; ran != 5 || last.BestMetric != 0.6 {
		t.Errorf("%d progress reports with a validation, last best %v", ran, last.BestMetric)
	}
}

// TestValidationOffKeepsLossSelection checks that a validator without
// ValidateEvery changes nothing: the eval loss still picks.
func TestValidationOffKeepsLossSelection(t *testing.T) {
	job := encoderJob(t, 6)
	job.Validator = &scriptValidator{}
	c := testConfig(6, 64)
	c.EvalEvery = 2
	res, err := Run(context.Background(), c, job)
	if err != nil {
		t.Fatal(err)
	}
	if res.BestMetric != nil || res.BestEvalLoss == nil || res.BestCheckpoint == "" {
		t.Fatalf("result %+v", res)
	}
}
