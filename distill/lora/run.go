package lora

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/train"
)

// Job is one adapter training run: train.Job's fields, with the frozen base in place
// of a model config. distill/train's Run cannot be used because it checkpoints the
// whole model; this loop is the same step (train.Run's documentation applies) and
// writes adapter checkpoints under OutDir/checkpoints/step-NNNNNNNN with the same
// "latest" pointer, so train.LatestCheckpoint finds the one to resume from.
type Job struct {
	// Model is the LoRA net; its Params must be exactly LoRA.Params(Base.Config).
	Model train.Model
	// LoRA is the adapter setup; Base the frozen model it adapts.
	LoRA Config
	Base BaseRef
	// Preset and Lineage are recorded in every checkpoint.
	Preset  string
	Lineage map[string]string
	// Tokenizer, if set, is saved as every checkpoint's tokenizer.json.
	Tokenizer train.Tokenizer
	// Train is the training data; Eval the held-out data (nil: no evaluation).
	Train, Eval *train.Data
	// OutDir receives checkpoints/ and metrics.json.
	OutDir string
	// Resume is an adapter checkpoint to continue from ("" starts fresh).
	Resume string
	// Progress, if set, is called after every step.
	Progress func(train.Progress)
}

// run is the state of one Run call.
type run struct {
	cfg        train.Config
	job        Job
	params     []model.Param
	opt        *train.AdamW
	loader     *train.Loader
	st         train.State
	evals      []model.Batch
	latest     string
	latestStep int
	started    time.Time
	startStep  int
}

// Run trains the adapters of job.Model for cfg.TotalSteps optimizer steps exactly as
// train.Run trains a whole model: zero, accumulate cfg.GradAccum micro-batches,
// average, clip, AdamW with the scheduled rate, evaluate and checkpoint on their
// intervals. Cancelling ctx writes a checkpoint and returns ctx's error; a NaN/Inf
// loss or gradient returns train.ErrNonFinite without saving the bad step.
func Run(ctx context.Context, cfg train.Config, job Job) (train.Result, error) {
	r, err := newRun(cfg, job)
	if err != nil {
		return train.Result{Stopped: train.StopError}, err
	}
	for r.st.Step < cfg.TotalSteps {
		t0, cur := time.Now(), r.loader.Cursor()
		for _, p := range r.params {
			clear(p.Grad)
		}
		loss, tokens := 0.0, 0
		for micro := 0; micro < cfg.GradAccum; micro++ {
			if ctx.Err() != nil {
				r.loader.Seek(cur) // the interrupted step is redone after resuming
				return r.stop(train.StopCanceled, fmt.Errorf("lora training canceled at step %d: %w", r.st.Step+1, ctx.Err()))
			}
			b := r.loader.Next()
			l, err := job.Model.ForwardBackward(b)
			if err != nil {
				return r.result(train.StopError), fmt.Errorf("step %d: forward/backward: %w", r.st.Step+1, err)
			}
			loss += l / float64(cfg.GradAccum)
			tokens += countValid(b)
		}
		if cfg.GradAccum > 1 {
			scale := float32(1 / float64(cfg.GradAccum))
			for _, p := range r.params {
				for i := range p.Grad {
					p.Grad[i] *= scale
				}
			}
		}
		norm := train.ClipGrads(r.params, cfg.GradClip)
		if !finite(loss) || !finite(norm) {
			return r.result(train.StopNonFinite), fmt.Errorf("step %d: %w: loss %g, gradient norm %g; last good checkpoint: %q",
				r.st.Step+1, train.ErrNonFinite, loss, norm, r.latest)
		}
		lr := cfg.LRAt(r.st.Step)
		if err := r.opt.Step(r.params, lr); err != nil {
			return r.result(train.StopError), fmt.Errorf("step %d: %w", r.st.Step+1, err)
		}
		r.st.Step++
		r.st.TokensSeen += int64(tokens)
		tps := float64(tokens) / max(time.Since(t0).Seconds(), 1e-9)
		r.st.History = append(r.st.History, train.StepMetrics{Step: r.st.Step, Loss: loss, LR: lr, GradNorm: norm, TokensPerSec: tps})
		evalLoss, improved, err := r.maybeEvaluate()
		if err != nil {
			return r.result(train.StopError), err
		}
		early := cfg.Patience > 0 && r.st.EvalsSinceBest >= cfg.Patience
		due := cfg.CheckpointEvery > 0 && r.st.Step%cfg.CheckpointEvery == 0
		if improved || due || early || r.st.Step == cfg.TotalSteps {
			if err := r.checkpoint(); err != nil {
				return r.result(train.StopError), err
			}
		}
		r.report(loss, lr, norm, tps, evalLoss)
		if early {
			return r.result(train.StopEarly), nil
		}
	}
	if r.latestStep != r.st.Step {
		if err := r.checkpoint(); err != nil {
			return r.result(train.StopError), err
		}
	}
	return r.result(train.StopDone), nil
}

// newRun checks the job and sets up the optimizer, the loaders and the resume state.
func newRun(cfg train.Config, job Job) (*run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case job.Model == nil:
		return nil, errors.New("lora run: job has no model")
	case job.Train == nil || len(job.Train.Examples) == 0:
		return nil, errors.New("lora run: job has no training examples")
	case job.OutDir == "":
		return nil, errors.New("lora run: job has no output directory")
	case job.Train.Arch != model.ArchDecoder:
		return nil, fmt.Errorf("lora run: data built for arch %q, adapters train decoders", job.Train.Arch)
	case cfg.SeqLen > job.Base.Config.MaxSeq:
		return nil, fmt.Errorf("lora run: seq_len %d exceeds the base's max_position_embeddings %d", cfg.SeqLen, job.Base.Config.MaxSeq)
	case job.Tokenizer != nil && job.Tokenizer.VocabSize() > job.Base.Config.Vocab:
		return nil, fmt.Errorf("lora run: tokenizer has %d ids, base vocab_size is %d", job.Tokenizer.VocabSize(), job.Base.Config.Vocab)
	}
	r := &run{cfg: cfg, job: job, params: job.Model.Params(), latestStep: -1}
	w := model.Weights{}
	for _, p := range r.params {
		if len(p.Grad) != len(p.Data) {
			return nil, fmt.Errorf("lora run: param %s has %d values and %d gradients", p.Name, len(p.Data), len(p.Grad))
		}
		w[p.Name] = &model.Tensor{Shape: p.Shape, Data: p.Data}
	}
	if err := job.LoRA.Check(job.Base.Config, w); err != nil {
		return nil, fmt.Errorf("lora run: model params are not the adapters of the config: %w", err)
	}
	if err := os.MkdirAll(job.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("lora run: output directory: %w", err)
	}
	r.opt = train.NewAdamW(cfg, r.params)
	r.loader = train.NewLoader(job.Train, cfg.BatchSize, cfg.SeqLen, cfg.Seed)
	r.st = train.State{FormatVersion: train.StateFormatVersion, Config: cfg}
	if job.Eval != nil && cfg.EvalEvery > 0 {
		r.evals = train.EvalBatches(job.Eval, cfg.BatchSize, cfg.SeqLen, cfg.EvalBatches)
	}
	if job.Resume != "" {
		if err := r.resume(job.Resume); err != nil {
			return nil, err
		}
	}
	r.started, r.startStep = time.Now(), r.st.Step
	return r, nil
}

// maybeEvaluate runs the held-out evaluation when one is due and updates the best
// loss; it returns NaN when none ran.
func (r *run) maybeEvaluate() (loss float64, improved bool, err error) {
	s := r.st.Step
	if len(r.evals) == 0 || s%r.cfg.EvalEvery != 0 && s != r.cfg.TotalSteps {
		return math.NaN(), false, nil
	}
	for _, b := range r.evals {
		l, err := r.job.Model.Loss(b)
		if err != nil {
			return 0, false, fmt.Errorf("eval at step %d: %w", s, err)
		}
		loss += l / float64(len(r.evals))
	}
	if !finite(loss) {
		return 0, false, fmt.Errorf("eval after step %d: %w: eval loss %g; last checkpoint: %q", s, train.ErrNonFinite, loss, r.latest)
	}
	r.st.Evals = append(r.st.Evals, train.EvalMetrics{Step: s, Loss: loss})
	if r.st.BestEvalLoss == nil || loss < *r.st.BestEvalLoss {
		r.st.BestEvalLoss, r.st.BestStep, r.st.EvalsSinceBest = &loss, s, 0
		r.st.BestCheckpoint = checkpointName(s)
		return loss, true, nil
	}
	r.st.EvalsSinceBest++
	return loss, false, nil
}

// report calls the progress callback.
func (r *run) report(loss, lr, norm, tps, evalLoss float64) {
	if r.job.Progress == nil {
		return
	}
	done := r.st.Step - r.startStep
	eta := time.Duration(float64(time.Since(r.started)) / float64(done) * float64(r.cfg.TotalSteps-r.st.Step))
	r.job.Progress(train.Progress{Step: r.st.Step, TotalSteps: r.cfg.TotalSteps, Loss: loss, LR: lr, GradNorm: norm,
		TokensPerSec: tps, ETA: eta, EvalLoss: evalLoss, Checkpoint: r.latest})
}

// stop checkpoints the current step (unless it is already on disk) and returns err.
func (r *run) stop(why string, err error) (train.Result, error) {
	if r.latestStep != r.st.Step {
		if cerr := r.checkpoint(); cerr != nil {
			return r.result(why), errors.Join(err, cerr)
		}
	}
	return r.result(why), fmt.Errorf("%w (checkpoint %s)", err, r.latest)
}

// result summarises the run so far.
func (r *run) result(why string) train.Result {
	res := train.Result{Step: r.st.Step, BestEvalLoss: r.st.BestEvalLoss, Checkpoint: r.latest, Stopped: why}
	if n := len(r.st.History); n > 0 {
		res.Loss = r.st.History[n-1].Loss
	}
	if r.st.BestCheckpoint != "" {
		res.BestCheckpoint = r.checkpointDir(r.st.BestCheckpoint)
	}
	return res
}

// countValid is the number of real (non-padding) positions of a batch.
func countValid(b model.Batch) int {
	if b.Valid == nil {
		return b.B * b.T
	}
	n := 0
	for _, v := range b.Valid {
		if v != 0 {
			n++
		}
	}
	return n
}

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
