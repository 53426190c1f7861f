package train

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
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

// run is the state of one Run call.
type run struct {
	cfg          Config
	job          Job
	checkpointer Checkpointer
	params       []model.Param
	opt          *AdamW
	loader       batcher
	st           State
	evals        []evalSet
	latest       string // newest checkpoint directory
	latestStep   int    // its step, -1 when none
	started      time.Time
	startStep    int
	startToks    int64
}

// evalSet is a held-out set cut into the batches that every evaluation reuses.
type evalSet struct {
	name    string // "" for Job.Eval
	batches []model.Batch
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
		t0 := time.Now()
		var mark State
		r.loader.save(&mark)
		zeroGrads(r.params)
		var loss float64
		tokens := 0
		for micro := 0; micro < cfg.GradAccum; micro++ {
			if ctx.Err() != nil {
				if err := r.loader.restore(&mark); err != nil { // the interrupted step is redone after resuming
					return r.result(StopError), fmt.Errorf("step %d: rewind data: %w", r.st.Step+1, err)
				}
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
		secs := time.Since(t0).Seconds()
		tps := float64(tokens) / max(secs, 1e-9)
		r.st.History = append(r.st.History, StepMetrics{Step: r.st.Step, Loss: loss, LR: lr, GradNorm: norm, TokensPerSec: tps, Seconds: secs})

		evalLoss, perSet, improved, err := r.maybeEvaluate()
		if err != nil {
			if errors.Is(err, ErrNonFinite) {
				return r.result(StopNonFinite), err
			}
			return r.result(StopError), err
		}
		metric, better, err := r.maybeValidate(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return r.stop(StopCanceled, fmt.Errorf("training canceled at step %d: %w", r.st.Step, ctx.Err()))
			}
			return r.result(StopError), err
		}
		if r.selectsByMetric() {
			improved = better
		}
		early := cfg.Patience > 0 && r.st.EvalsSinceBest >= cfg.Patience
		due := cfg.CheckpointEvery > 0 && r.st.Step%cfg.CheckpointEvery == 0
		if improved || due || early || r.st.Step == cfg.TotalSteps {
			if err := r.checkpoint(); err != nil {
				return r.result(StopError), err
			}
		}
		r.report(loss, lr, norm, tps, evalLoss, perSet, metric)
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
	r := &run{cfg: cfg, job: job, params: job.Model.Params(), latestStep: -1, checkpointer: job.Checkpointer}
	if r.checkpointer == nil {
		r.checkpointer = ModelCheckpointer{Config: job.ModelConfig, Preset: job.Preset, Lineage: job.Lineage}
	}
	if err := r.checkpointer.Check(r.params); err != nil {
		return nil, err
	}
	r.opt = NewAdamW(cfg, r.params)
	if len(job.Mixture) > 0 {
		mix, err := NewMixLoader(job.Mixture, cfg.BatchSize, cfg.SeqLen, cfg.Seed)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		r.loader = mix
	} else {
		l := NewLoader(job.Train, cfg.BatchSize, cfg.SeqLen, cfg.Seed)
		l.GroupSteps(cfg.GradAccum)
		l.tokenDropout = cfg.TokenDropout
		r.loader = l
	}
	r.st = State{FormatVersion: StateFormatVersion, Config: cfg}
	if cfg.EvalEvery > 0 {
		if job.Eval != nil {
			r.evals = []evalSet{{batches: EvalBatches(job.Eval, cfg.BatchSize, cfg.SeqLen, cfg.EvalBatches)}}
		}
		for _, e := range job.Evals {
			r.evals = append(r.evals, evalSet{name: e.Name, batches: EvalBatches(e.Data, cfg.BatchSize, cfg.SeqLen, cfg.EvalBatches)})
		}
	}
	if job.Resume != "" {
		if err := r.resume(job.Resume); err != nil {
			return nil, err
		}
	}
	r.started, r.startStep, r.startToks = time.Now(), r.st.Step, r.st.TokensSeen
	return r, nil
}

// maybeEvaluate runs the held-out evaluation when one is due and updates the best
// loss: the mean over the eval sets, whose losses it returns by name for Job.Evals. It
// returns NaN when none ran; a non-finite eval loss is an ErrNonFinite.
func (r *run) maybeEvaluate() (loss float64, perSet map[string]float64, improved bool, err error) {
	s := r.st.Step
	if len(r.evals) == 0 || s%r.cfg.EvalEvery != 0 && s != r.cfg.TotalSteps {
		return math.NaN(), nil, false, nil
	}
	for _, set := range r.evals {
		var setLoss float64
		for _, b := range set.batches {
			l, err := r.job.Model.Loss(b)
			if err != nil {
				return 0, nil, false, fmt.Errorf("eval %sat step %d: %w", setLabel(set.name), s, err)
			}
			setLoss += l / float64(len(set.batches))
		}
		if !finite(setLoss) {
			return 0, nil, false, fmt.Errorf("eval %safter step %d: %w: eval loss %g; last checkpoint: %q",
				setLabel(set.name), s, ErrNonFinite, setLoss, r.latest)
		}
		if set.name != "" {
			if perSet == nil {
				perSet = map[string]float64{}
			}
			perSet[set.name] = setLoss
		}
		loss += setLoss / float64(len(r.evals))
	}
	r.st.Evals = append(r.st.Evals, EvalMetrics{Step: s, Loss: loss, Tasks: perSet})
	best := r.st.BestEvalLoss == nil || loss < *r.st.BestEvalLoss
	if best {
		r.st.BestEvalLoss = &loss
	}
	if r.selectsByMetric() { // the validation decides
		return loss, perSet, false, nil
	}
	if best {
		r.markBest(s)
		return loss, perSet, true, nil
	}
	r.st.EvalsSinceBest++
	return loss, perSet, false, nil
}

// setLabel names an eval set in an error message ("" for Job.Eval).
func setLabel(name string) string {
	if name == "" {
		return ""
	}
	return "set " + name + " "
}

// checkpoint saves the current step and rewrites metrics.json and loss.png.
func (r *run) checkpoint() error {
	if _, err := r.saveCheckpoint(); err != nil {
		return fmt.Errorf("step %d: %w", r.st.Step, err)
	}
	return writeMetrics(r.job.OutDir, &r.st)
}

// report calls the progress callback.
func (r *run) report(loss, lr, norm, tps, evalLoss float64, perSet map[string]float64, metric float64) {
	if r.job.Progress == nil {
		return
	}
	done := r.st.Step - r.startStep
	eta := time.Duration(float64(time.Since(r.started)) / float64(done) * float64(r.cfg.TotalSteps-r.st.Step))
	p := Progress{Step: r.st.Step, TotalSteps: r.cfg.TotalSteps, Loss: loss, LR: lr, GradNorm: norm,
		TokensPerSec: tps, ETA: eta, EvalLoss: evalLoss, EvalLosses: maps.Clone(perSet), Checkpoint: r.latest,
		MetricValue: metric, BestMetric: math.NaN()}
	if r.st.BestMetric != nil {
		p.BestMetric = *r.st.BestMetric
	}
	if n := len(r.st.Validations); n > 0 {
		p.Metric = r.st.Validations[n-1].Metric
	}
	r.job.Progress(p)
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
	res := Result{Step: r.st.Step, BestEvalLoss: r.st.BestEvalLoss, BestMetric: r.st.BestMetric, BestStep: r.st.BestStep,
		Checkpoint: r.latest, Stopped: why, Tokens: r.st.TokensSeen - r.startToks, Elapsed: time.Since(r.started)}
	if n := len(r.st.History); n > 0 {
		res.Loss = r.st.History[n-1].Loss
	}
	if n := len(r.st.Validations); n > 0 {
		res.Metric = r.st.Validations[n-1].Metric
	}
	for _, e := range r.st.Evals {
		if e.Step == r.st.BestStep && e.Tasks != nil {
			res.BestEvalLosses = maps.Clone(e.Tasks)
		}
	}
	if r.st.BestCheckpoint != "" {
		res.BestCheckpoint = filepath.Join(r.job.OutDir, checkpointsDir, r.st.BestCheckpoint)
	}
	return res
}

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
