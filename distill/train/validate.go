package train

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/cyclecore/mlmforge/distill/model"
)

// Validator scores the student with its task's own metric on held-out training
// examples (never the test split), by decoding or classifying them as the
// evaluation would: JSON exact match, example accuracy, top-1. The loss says how
// well a student predicts the gold tokens; the metric says whether its answers
// are right, and only the metric should pick the checkpoint that ships.
type Validator interface {
	// Validate runs the model with weights w of architecture cfg on the held-out
	// examples and scores them. w aliases the training weights: it must not be
	// modified or kept after Validate returns.
	Validate(ctx context.Context, cfg model.Config, w model.Weights) (Validation, error)
}

// Validation is one scoring of the held-out examples.
type Validation struct {
	// Metric names the value, e.g. "edgejson.json_exact".
	Metric string `json:"metric"`
	// Value is the metric, higher is better (a share in [0, 1]).
	Value float64 `json:"value"`
	// Tiebreak is a finer-grained score of the same answers (field-F1,
	// param-F1, macro-F1; a share in [0, 1]) that decides between checkpoints
	// whose Values are equal, e.g. a strict metric still at 0 early on.
	Tiebreak float64 `json:"tiebreak,omitempty"`
	// Scores are the other metrics of the same examples, by name.
	Scores map[string]float64 `json:"scores,omitempty"`
	// N is the number of examples scored.
	N int `json:"n"`
}

// ValidationMetrics is one validation in the history.
type ValidationMetrics struct {
	// Step is the number of steps done when it ran.
	Step int `json:"step"`
	Validation
	// Seconds is how long decoding and scoring took.
	Seconds float64 `json:"seconds"`
}

// maybeValidate runs Job.Validator when one is due, records it and reports
// whether it is a new best: a strictly higher value, or an equal one with a
// strictly higher Tiebreak (other ties keep the earlier checkpoint).
// It returns NaN when none ran.
func (r *run) maybeValidate(ctx context.Context) (value float64, improved bool, err error) {
	s := r.st.Step
	every := r.cfg.ValidateEvery
	if r.job.Validator == nil || every == 0 || s%every != 0 && s != r.cfg.TotalSteps {
		return math.NaN(), false, nil
	}
	cfg, w, err := r.checkpointer.Inference(r.params)
	if err != nil {
		return 0, false, fmt.Errorf("validate at step %d: %w", s, err)
	}
	t0 := time.Now()
	v, err := r.job.Validator.Validate(ctx, cfg, w)
	if err != nil {
		return 0, false, fmt.Errorf("validate at step %d: %w", s, err)
	}
	if !finite(v.Value) {
		return 0, false, fmt.Errorf("validate at step %d: %s is %g", s, v.Metric, v.Value)
	}
	r.st.Validations = append(r.st.Validations, ValidationMetrics{Step: s, Validation: v, Seconds: time.Since(t0).Seconds()})
	if best := r.st.BestMetric; best == nil || v.Value > *best || v.Value == *best && v.Tiebreak > r.st.BestTiebreak {
		r.st.BestMetric = &v.Value
		r.st.BestTiebreak = v.Tiebreak
		r.markBest(s)
		return v.Value, true, nil
	}
	r.st.EvalsSinceBest++
	return v.Value, false, nil
}

// selectsByMetric reports whether the task metric, rather than the eval loss,
// picks the best checkpoint and drives early stopping.
func (r *run) selectsByMetric() bool {
	return r.job.Validator != nil && r.cfg.ValidateEvery > 0
}

// markBest records step as the best checkpoint so far.
func (r *run) markBest(step int) {
	r.st.BestStep, r.st.EvalsSinceBest = step, 0
	r.st.BestCheckpoint = checkpointName(step)
}
