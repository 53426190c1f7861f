package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cyclecore/mlmforge/distill/model"
)

// Model is a student as training sees it (distill/nn's *Net implements it).
type Model interface {
	// Params lists the trainable tensors; Data aliases the model's weights and Grad
	// accumulates across ForwardBackward calls until the trainer zeroes it.
	Params() []model.Param
	// ForwardBackward computes the batch's mean loss and adds its gradient to Grad.
	ForwardBackward(b model.Batch) (float64, error)
	// Loss computes the batch's mean loss without touching gradients.
	Loss(b model.Batch) (float64, error)
}

// ErrNonFinite reports a NaN or infinite loss or gradient; the run stops without
// applying the step, and the last checkpoint written before it stays on disk.
var ErrNonFinite = errors.New("non-finite loss or gradient")

// Why a run ended (Result.Stopped).
const (
	StopDone      = "done"       // TotalSteps reached
	StopEarly     = "early_stop" // Patience evaluations without improvement
	StopCanceled  = "canceled"   // the context was canceled; a checkpoint was written
	StopNonFinite = "non_finite" // ErrNonFinite
	StopError     = "error"      // any other error
)

// Job is what one training run works on.
type Job struct {
	// Model is the student; its Params must be exactly ModelConfig's tensors.
	Model Model
	// ModelConfig is the student's architecture, written to every checkpoint.
	ModelConfig model.Config
	// Preset is the preset name, recorded in checkpoints.
	Preset string
	// Lineage is recorded in checkpoints (dataset version, teacher, parent...).
	Lineage map[string]string
	// Tokenizer, if set, is saved as every checkpoint's tokenizer.json.
	Tokenizer Tokenizer
	// Train is the training data; Eval the held-out data (nil: no evaluation).
	Train, Eval *Data
	// OutDir receives checkpoints/, metrics.json and loss.png.
	OutDir string
	// Resume is a checkpoint directory to continue from ("" starts fresh); see
	// LatestCheckpoint.
	Resume string
	// Progress, if set, is called after every step (a CLI bar, an activity heartbeat).
	Progress func(Progress)
}

// Progress reports one finished step.
type Progress struct {
	// Step is the number of steps done; TotalSteps the number the run will do.
	Step, TotalSteps int
	// Loss, LR and GradNorm are the step's (see StepMetrics).
	Loss, LR, GradNorm float64
	// TokensPerSec is the step's throughput; ETA the estimated time to TotalSteps.
	TokensPerSec float64
	ETA          time.Duration
	// EvalLoss is the evaluation run after this step, NaN when none ran.
	EvalLoss float64
	// Checkpoint is the newest checkpoint directory ("" before the first).
	Checkpoint string
}

// Result is how a run ended.
type Result struct {
	// Step is the number of steps done.
	Step int
	// Loss is the last step's training loss.
	Loss float64
	// BestEvalLoss is the best evaluation (nil when none ran).
	BestEvalLoss *float64
	// Checkpoint is the newest checkpoint; BestCheckpoint the one of BestEvalLoss.
	Checkpoint, BestCheckpoint string
	// Stopped says why the run ended (StopDone ...).
	Stopped string
}

// run is the state of one Run call.
type run struct {
	cfg         Config
	job         Job
	params      []model.Param
	opt         *AdamW
	loader      *Loader
	st          State
	evalBatches []model.Batch
	latest      string // newest checkpoint directory
	latestStep  int    // its step, -1 when none
	started     time.Time
	startStep   int
}

// Run trains job.Model for cfg.TotalSteps optimizer steps (continuing job.Resume when
// set). Each step zeroes the gradients, accumulates cfg.GradAccum micro-batches, averages
// loss and gradients over them, clips the global norm, and applies AdamW with the
// scheduled learning rate; evaluations and checkpoints follow on their intervals.
// Cancelling ctx writes a checkpoint and returns ctx's error; a NaN/Inf loss or
// gradient returns ErrNonFinite naming the step, with the last checkpoint kept on disk.
func Run(ctx context.Context, cfg Config, job Job) (Result, error) {
	r, err := newRun(cfg, job)
	if err != nil {
		return Result{Stopped: StopError}, err
	}
	for r.st.Step < cfg.TotalSteps {
		t0, cur := time.Now(), r.loader.Cursor()
		zeroGrads(r.params)
		var loss float64
		tokens := 0
		for micro := 0; micro < cfg.GradAccum; micro++ {
			if ctx.Err() != nil {
				r.loader.Seek(cur) // the interrupted step is redone after resuming
				return r.stop(StopCanceled, fmt.Errorf("training canceled at step %d: %w", r.st.Step+1, ctx.Err()))
			}
			b := r.loader.Next()
			l, err := job.Model.ForwardBackward(b)
			if err != nil {
				return r.result(StopError), fmt.Errorf("step %d: forward/backward: %w", r.st.Step+1, err)
			}
			loss += l / float64(cfg.GradAccum)
			tokens += countTokens(b)
		}
		if cfg.GradAccum > 1 {
			scaleGrads(r.params, 1/float64(cfg.GradAccum))
		}
		norm := ClipGrads(r.params, cfg.GradClip)
		if !finite(loss) || !finite(norm) {
			return r.nonFinite(fmt.Sprintf("loss %g, gradient norm %g", loss, norm))
		}
		lr := cfg.LRAt(r.st.Step)
		if err := r.opt.Step(r.params, lr); err != nil {
			return r.result(StopError), fmt.Errorf("step %d: %w", r.st.Step+1, err)
		}
		r.st.Step++
		r.st.TokensSeen += int64(tokens)
		tps := float64(tokens) / max(time.Since(t0).Seconds(), 1e-9)
		r.st.History = append(r.st.History, StepMetrics{Step: r.st.Step, Loss: loss, LR: lr, GradNorm: norm, TokensPerSec: tps})

		evalLoss, improved, err := r.maybeEvaluate()
		if err != nil {
			if errors.Is(err, ErrNonFinite) {
				return r.result(StopNonFinite), err
			}
			return r.result(StopError), err
		}
		early := cfg.Patience > 0 && r.st.EvalsSinceBest >= cfg.Patience
		due := cfg.CheckpointEvery > 0 && r.st.Step%cfg.CheckpointEvery == 0
		if improved || due || early || r.st.Step == cfg.TotalSteps {
			if err := r.checkpoint(); err != nil {
				return r.result(StopError), err
			}
		}
		r.report(loss, lr, norm, tps, evalLoss)
		if early {
			return r.result(StopEarly), nil
		}
	}
	if r.latestStep != r.st.Step { // resumed from a checkpoint that had already finished
		if err := r.checkpoint(); err != nil {
			return r.result(StopError), err
		}
	}
	return r.result(StopDone), nil
}

// newRun checks the job and sets up the optimizer, the loaders and the resume state.
func newRun(cfg Config, job Job) (*run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkJob(cfg, job); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(job.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("train: output directory: %w", err)
	}
	r := &run{cfg: cfg, job: job, params: job.Model.Params(), latestStep: -1}
	if err := checkParams(job.ModelConfig, r.params); err != nil {
		return nil, err
	}
	r.opt = NewAdamW(cfg, r.params)
	r.loader = NewLoader(job.Train, cfg.BatchSize, cfg.SeqLen, cfg.Seed)
	r.st = State{FormatVersion: StateFormatVersion, Config: cfg}
	if job.Eval != nil && cfg.EvalEvery > 0 {
		r.evalBatches = EvalBatches(job.Eval, cfg.BatchSize, cfg.SeqLen, cfg.EvalBatches)
	}
	if job.Resume != "" {
		if err := r.resume(job.Resume); err != nil {
			return nil, err
		}
	}
	r.started, r.startStep = time.Now(), r.st.Step
	return r, nil
}

// checkJob reports inconsistencies between the job's parts before any work is done.
func checkJob(cfg Config, job Job) error {
	mc := job.ModelConfig
	switch {
	case job.Model == nil:
		return errors.New("train: job has no model")
	case job.Train == nil || len(job.Train.Examples) == 0:
		return errors.New("train: job has no training examples")
	case job.OutDir == "":
		return errors.New("train: job has no output directory")
	}
	if err := mc.Validate(); err != nil {
		return fmt.Errorf("train: model %w", err)
	}
	if job.Train.Arch != mc.Arch || job.Eval != nil && job.Eval.Arch != mc.Arch {
		return fmt.Errorf("train: data built for arch %q, model is %q", job.Train.Arch, mc.Arch)
	}
	if mc.Arch == model.ArchEncoder && len(job.Train.Labels) != mc.NumClasses {
		return fmt.Errorf("train: %d training labels, model num_classes is %d", len(job.Train.Labels), mc.NumClasses)
	}
	if job.Eval != nil && !slices.Equal(job.Eval.Labels, job.Train.Labels) {
		return fmt.Errorf("train: eval data was built with other labels (%d) than the training data (%d): pass Labels(train) to both",
			len(job.Eval.Labels), len(job.Train.Labels))
	}
	if cfg.SeqLen > mc.MaxSeq {
		return fmt.Errorf("train: seq_len %d exceeds the model's max_position_embeddings %d", cfg.SeqLen, mc.MaxSeq)
	}
	if job.Tokenizer != nil && job.Tokenizer.VocabSize() > mc.Vocab {
		return fmt.Errorf("train: tokenizer has %d ids, model vocab_size is %d", job.Tokenizer.VocabSize(), mc.Vocab)
	}
	return nil
}

// checkParams verifies that the model's tensors are exactly the config's, so that a
// checkpoint is never discovered unwritable hours into a run.
func checkParams(mc model.Config, params []model.Param) error {
	w := model.Weights{}
	for _, p := range params {
		if _, dup := w[p.Name]; dup {
			return fmt.Errorf("train: model lists param %s twice", p.Name)
		}
		if len(p.Grad) != len(p.Data) {
			return fmt.Errorf("train: param %s has %d values and %d gradients", p.Name, len(p.Data), len(p.Grad))
		}
		w[p.Name] = &model.Tensor{Shape: p.Shape, Data: p.Data}
	}
	if err := w.Check(mc); err != nil {
		return fmt.Errorf("train: model params do not match the config: %w", err)
	}
	return nil
}

// maybeEvaluate runs the held-out evaluation when one is due and updates the best
// loss. It returns NaN when none ran; a non-finite eval loss is an ErrNonFinite.
func (r *run) maybeEvaluate() (loss float64, improved bool, err error) {
	s := r.st.Step
	if len(r.evalBatches) == 0 || s%r.cfg.EvalEvery != 0 && s != r.cfg.TotalSteps {
		return math.NaN(), false, nil
	}
	for _, b := range r.evalBatches {
		l, err := r.job.Model.Loss(b)
		if err != nil {
			return 0, false, fmt.Errorf("eval at step %d: %w", s, err)
		}
		loss += l / float64(len(r.evalBatches))
	}
	if !finite(loss) {
		return 0, false, fmt.Errorf("eval after step %d: %w: eval loss %g; last checkpoint: %q", s, ErrNonFinite, loss, r.latest)
	}
	r.st.Evals = append(r.st.Evals, EvalMetrics{Step: s, Loss: loss})
	if r.st.BestEvalLoss == nil || loss < *r.st.BestEvalLoss {
		r.st.BestEvalLoss, r.st.BestStep, r.st.EvalsSinceBest = &loss, s, 0
		r.st.BestCheckpoint = checkpointName(s)
		return loss, true, nil
	}
	r.st.EvalsSinceBest++
	return loss, false, nil
}

// checkpoint saves the current step and rewrites metrics.json and loss.png.
func (r *run) checkpoint() error {
	if _, err := r.saveCheckpoint(); err != nil {
		return fmt.Errorf("step %d: %w", r.st.Step, err)
	}
	return writeMetrics(r.job.OutDir, &r.st)
}

// report calls the progress callback.
func (r *run) report(loss, lr, norm, tps, evalLoss float64) {
	if r.job.Progress == nil {
		return
	}
	done := r.st.Step - r.startStep
	eta := time.Duration(float64(time.Since(r.started)) / float64(done) * float64(r.cfg.TotalSteps-r.st.Step))
	r.job.Progress(Progress{Step: r.st.Step, TotalSteps: r.cfg.TotalSteps, Loss: loss, LR: lr, GradNorm: norm,
		TokensPerSec: tps, ETA: eta, EvalLoss: evalLoss, Checkpoint: r.latest})
}

// stop checkpoints the current step (unless it is already on disk) and returns err.
func (r *run) stop(why string, err error) (Result, error) {
	if r.latestStep != r.st.Step {
		if cerr := r.checkpoint(); cerr != nil {
			return r.result(why), errors.Join(err, cerr)
		}
	}
	return r.result(why), fmt.Errorf("%w (checkpoint %s)", err, r.latest)
}

// nonFinite ends the run at a NaN/Inf without saving the bad step: the newest
// checkpoint on disk is the last good one. metrics.json still gets the history.
func (r *run) nonFinite(detail string) (Result, error) {
	last := r.latest
	if last == "" {
		last = "none written yet"
	}
	err := fmt.Errorf("step %d: %w: %s; last good checkpoint: %s", r.st.Step+1, ErrNonFinite, detail, last)
	if merr := writeMetrics(r.job.OutDir, &r.st); merr != nil {
		err = errors.Join(err, merr)
	}
	return r.result(StopNonFinite), err
}

// result summarises the run so far.
func (r *run) result(why string) Result {
	res := Result{Step: r.st.Step, BestEvalLoss: r.st.BestEvalLoss, Checkpoint: r.latest, Stopped: why}
	if n := len(r.st.History); n > 0 {
		res.Loss = r.st.History[n-1].Loss
	}
	if r.st.BestCheckpoint != "" {
		res.BestCheckpoint = filepath.Join(r.job.OutDir, checkpointsDir, r.st.BestCheckpoint)
	}
	return res
}

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
