// Package train distills students: it turns datasets.Record rows into batches, runs the
// optimisation loop (AdamW, warmup + cosine schedule, global-norm clipping, gradient
// accumulation, periodic evaluation) on any Model, and writes self-describing
// checkpoints (distill/model) from which a run resumes exactly. A run trains on one
// dataset (Job.Train) or on a mixture of tasks sampled by weight (Job.Mixture,
// MixLoader), with one eval loss per task (Job.Evals).
//
// The package knows neither gorgonia nor a tokenizer implementation: Model and
// Tokenizer are the small interfaces it consumes. Like llm.c's train_gpt2.c, one Config
// holds every knob and Run shows the whole step loop in one function.
package train

import (
	"errors"
	"fmt"
	"math"

	"github.com/cyclecore/mlmforge/distill/model"
)

// Config is every training hyper-parameter, llm.c style. One optimizer step consumes
// GradAccum micro-batches of BatchSize sequences of SeqLen tokens.
type Config struct {
	// LR is the peak learning rate, reached at the end of the warmup.
	LR float64 `json:"lr"`
	// WarmupSteps ramps the learning rate linearly from LR/WarmupSteps to LR.
	WarmupSteps int `json:"warmup_steps"`
	// TotalSteps is the number of optimizer steps of the run; the cosine ends there.
	TotalSteps int `json:"total_steps"`
	// MinLRRatio is the learning rate at TotalSteps as a fraction of LR (cosine floor).
	MinLRRatio float64 `json:"min_lr_ratio"`
	// WeightDecay is AdamW's decoupled decay, applied to matrices only (see DecayParam).
	WeightDecay float64 `json:"weight_decay"`
	// Beta1 and Beta2 are Adam's moment decay rates.
	Beta1 float64 `json:"beta1"`
	Beta2 float64 `json:"beta2"`
	// Eps is Adam's denominator epsilon.
	Eps float64 `json:"eps"`
	// GradClip is the largest global L2 norm of the gradient; 0 disables clipping.
	GradClip float64 `json:"grad_clip"`
	// GradAccum is the number of micro-batches whose gradients are averaged per step.
	GradAccum int `json:"grad_accum_steps"`
	// BatchSize is B, the number of sequences of one micro-batch.
	BatchSize int `json:"batch_size"`
	// SeqLen is T, the padded length of every sequence; longer examples are truncated.
	SeqLen int `json:"seq_len"`
	// EvalEvery runs an evaluation every N steps (and at the end); 0 disables it.
	EvalEvery int `json:"eval_every"`
	// EvalBatches is the number of held-out batches one evaluation averages.
	EvalBatches int `json:"eval_batches"`
	// CheckpointEvery writes a checkpoint every N steps (and at the end); 0 = only at
	// the end, on cancellation and on improvement of the eval loss.
	CheckpointEvery int `json:"checkpoint_every"`
	// Seed seeds the data order (every epoch is a permutation drawn from Seed and the
	// epoch number); model initialisation is the caller's, from the same seed.
	Seed uint64 `json:"seed"`
	// ValidateEvery scores the student with its task metric (Job.Validator) every N
	// steps and at the end; 0 disables it. When it runs, the task metric picks the
	// best checkpoint and drives early stopping.
	ValidateEvery int `json:"validate_every,omitempty"`
	// ScrambleCopies adds, for every decoder training record, this many copies whose
	// free-text answer values are replaced by random strings of the same shape in
	// the input and the answer alike (Scramble): examples only copying can get
	// right. 0 trains on the records as they are.
	ScrambleCopies int `json:"scramble_copies,omitempty"`
	// CopyLoss, for decoders, weights the pointer-head loss (distill/nn copy
	// supervision: head 0 of the last layer learns to attend to the prompt token being
	// copied); 0 trains on the answer tokens alone. Decoders trained from scratch
	// learn copying spans many times faster with it.
	CopyLoss float64 `json:"copy_loss,omitempty"`
	// LabelSmoothing, for encoders, trains the cross-entropy against
	// (1-eps) * one-hot + eps / classes instead of the one-hot label (Szegedy
	// et al. 2016): a classifier of a few thousand utterances per class stops
	// driving its logits apart on the training set. 0 is plain cross-entropy.
	LabelSmoothing float64 `json:"label_smoothing,omitempty"`
	// TokenDropout, for encoders, hides each input token of a training example
	// from the model (its Valid flag off: attention and pooling skip it) with
	// this probability, a fresh draw every time the example is served (word
	// dropout, Iyyer et al. 2015): a classifier cannot lean on one token. At
	// least one token stays. Evaluation and validation see every token.
	TokenDropout float64 `json:"token_dropout,omitempty"`
	// Patience stops the run after this many selecting evaluations (validations when
	// the run validates, else eval losses) without a new best; 0 disables early
	// stopping.
	Patience int `json:"patience,omitempty"`
}

// DefaultConfig is a sensible starting point for the tiny presets on a CPU.
func DefaultConfig() Config {
	return Config{
		LR: 3e-4, WarmupSteps: 100, TotalSteps: 2000, MinLRRatio: 0.1, WeightDecay: 0.1,
		Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, GradClip: 1.0, GradAccum: 1, BatchSize: 8, SeqLen: 256,
		EvalEvery: 100, EvalBatches: 8, CheckpointEvery: 500, Seed: 1337,
	}
}

// Validate reports every unusable field by its JSON name.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("train config %s: "+format, append([]any{field}, args...)...))
	}
	if !(c.LR > 0) {
		bad("lr", "%g: must be positive", c.LR)
	}
	if c.TotalSteps <= 0 {
		bad("total_steps", "%d: must be positive", c.TotalSteps)
	}
	if c.WarmupSteps < 0 || c.WarmupSteps > c.TotalSteps {
		bad("warmup_steps", "%d: must be in [0, total_steps %d]", c.WarmupSteps, c.TotalSteps)
	}
	if c.MinLRRatio < 0 || c.MinLRRatio > 1 {
		bad("min_lr_ratio", "%g: must be in [0, 1]", c.MinLRRatio)
	}
	if !(c.TokenDropout >= 0 && c.TokenDropout < 1) {
		bad("token_dropout", "%g: must be in [0, 1)", c.TokenDropout)
	}
	if !(c.LabelSmoothing >= 0 && c.LabelSmoothing < 1) {
		bad("label_smoothing", "%g: must be in [0, 1)", c.LabelSmoothing)
	}
	if c.CopyLoss < 0 || math.IsNaN(c.CopyLoss) {
		bad("copy_loss", "%g: must not be negative", c.CopyLoss)
	}
	if c.WeightDecay < 0 {
		bad("weight_decay", "%g: must not be negative", c.WeightDecay)
	}
	if c.Beta1 < 0 || c.Beta1 >= 1 {
		bad("beta1", "%g: must be in [0, 1)", c.Beta1)
	}
	if c.Beta2 < 0 || c.Beta2 >= 1 {
		bad("beta2", "%g: must be in [0, 1)", c.Beta2)
	}
	if !(c.Eps > 0) {
		bad("eps", "%g: must be positive", c.Eps)
	}
	if c.GradClip < 0 {
		bad("grad_clip", "%g: must not be negative", c.GradClip)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"grad_accum_steps", c.GradAccum}, {"batch_size", c.BatchSize}, {"seq_len", c.SeqLen}} {
		if f.v <= 0 {
			bad(f.name, "%d: must be positive", f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"eval_every", c.EvalEvery}, {"checkpoint_every", c.CheckpointEvery}, {"patience", c.Patience}, {"validate_every", c.ValidateEvery}, {"scramble_copies", c.ScrambleCopies}} {
		if f.v < 0 {
			bad(f.name, "%d: must not be negative", f.v)
		}
	}
	if c.EvalEvery > 0 && c.EvalBatches <= 0 {
		bad("eval_batches", "%d: must be positive when eval_every is set", c.EvalBatches)
	}
	if c.Patience > 0 && c.EvalEvery == 0 && c.ValidateEvery == 0 {
		bad("patience", "%d: early stopping needs eval_every or validate_every", c.Patience)
	}
	return errors.Join(errs...)
}

// resumeDiff names the fields that must not change when a run resumes, because they
// change the data order or the meaning of a step.
func (c Config) resumeDiff(o Config) []string {
	var d model.FieldDiff
	add := d.Add
	add("seed", c.Seed, o.Seed)
	add("batch_size", c.BatchSize, o.BatchSize)
	add("seq_len", c.SeqLen, o.SeqLen)
	add("grad_accum_steps", c.GradAccum, o.GradAccum)
	add("scramble_copies", c.ScrambleCopies, o.ScrambleCopies)
	return d
}
