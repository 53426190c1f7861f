package lora

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/train"
)

// Layout of a run's output directory, the same as distill/train's.
const (
	checkpointsDir = "checkpoints"
	latestFile     = "latest"
	metricsFile    = "metrics.json"
)

// checkpointName is the directory name of the checkpoint after step steps.
func checkpointName(step int) string { return fmt.Sprintf("step-%08d", step) }

func (r *run) checkpointDir(name string) string {
	return filepath.Join(r.job.OutDir, checkpointsDir, name)
}

// checkpoint saves the adapters, their AdamW moments and the trainer state of the
// current step, points "latest" at it, prunes older ones (keeping the best) and
// rewrites metrics.json.
func (r *run) checkpoint() error {
	name := checkpointName(r.st.Step)
	dir := r.checkpointDir(name)
	r.st.Data = r.loader.Cursor()
	state, err := json.MarshalIndent(r.st, "", " ")
	if err != nil {
		return fmt.Errorf("step %d: encode trainer state: %w", r.st.Step, err)
	}
	ck := &Checkpoint{LoRA: r.job.LoRA, Base: r.job.Base, Preset: r.job.Preset, Lineage: r.job.Lineage,
		Adapters: model.Weights{}, OptimM: model.Weights{}, OptimV: model.Weights{}, TrainerState: state}
	for _, p := range r.params {
		ck.Adapters[p.Name] = &model.Tensor{Shape: slices.Clone(p.Shape), Data: p.Data}
		ck.OptimM[p.Name] = &model.Tensor{Shape: slices.Clone(p.Shape), Data: r.opt.M[p.Name]}
		ck.OptimV[p.Name] = &model.Tensor{Shape: slices.Clone(p.Shape), Data: r.opt.V[p.Name]}
	}
	var saveTok func(string) error
	if r.job.Tokenizer != nil {
		saveTok = r.job.Tokenizer.Save
	}
	if err := Save(dir, ck, saveTok); err != nil {
		return fmt.Errorf("step %d: %w", r.st.Step, err)
	}
	latest := filepath.Join(r.job.OutDir, checkpointsDir, latestFile)
	err = datasets.WriteFileAtomic(latest, func(f *os.File) error {
		_, err := f.WriteString(name + "\n")
		return err
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", latest, err)
	}
	r.latest, r.latestStep = dir, r.st.Step
	if err := r.prune(name); err != nil {
		return err
	}
	return r.writeMetrics()
}

// prune removes step checkpoints other than keep and the best one.
func (r *run) prune(keep string) error {
	root := filepath.Join(r.job.OutDir, checkpointsDir)
	ents, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("prune checkpoints: %w", err)
	}
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() || !strings.HasPrefix(n, "step-") || n == keep || n == r.st.BestCheckpoint {
			continue
		}
		if err := os.RemoveAll(filepath.Join(root, n)); err != nil {
			return fmt.Errorf("prune checkpoints: %w", err)
		}
	}
	return nil
}

// writeMetrics writes metrics.json (train.Metrics) atomically.
func (r *run) writeMetrics() error {
	m := train.Metrics{Config: r.st.Config, Steps: r.st.History, Evals: r.st.Evals, BestEvalLoss: r.st.BestEvalLoss, BestStep: r.st.BestStep}
	if m.Steps == nil {
		m.Steps = []train.StepMetrics{}
	}
	if m.Evals == nil {
		m.Evals = []train.EvalMetrics{}
	}
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", metricsFile, err)
	}
	path := filepath.Join(r.job.OutDir, metricsFile)
	err = datasets.WriteFileAtomic(path, func(f *os.File) error {
		_, err := f.Write(append(data, '\n'))
		return err
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// resume loads the adapter checkpoint in dir into the model, the optimizer and the
// loader, after checking that it adapts the same base with the same setup.
func (r *run) resume(dir string) error {
	ck, err := Load(dir)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if ck.TrainerState == nil || ck.OptimM == nil {
		return fmt.Errorf("resume %s: no trainer state or optimizer state (an export, not a training checkpoint?)", dir)
	}
	if ck.Base.Digest != r.job.Base.Digest {
		return fmt.Errorf("resume %s: adapter was trained on base weights %s, this run's base is %s", dir, ck.Base.Digest, r.job.Base.Digest)
	}
	if a, b := ck.LoRA, r.job.LoRA; a.R != b.R || a.Alpha != b.Alpha || !slices.Equal(a.Targets, b.Targets) {
		return fmt.Errorf("resume %s: lora config changed (checkpoint r=%d alpha=%g targets=%v, now r=%d alpha=%g targets=%v)",
			dir, a.R, a.Alpha, a.Targets, b.R, b.Alpha, b.Targets)
	}
	var st train.State
	if err := json.Unmarshal(ck.TrainerState, &st); err != nil {
		return fmt.Errorf("resume %s: %s: %w", dir, model.TrainerStateFile, err)
	}
	if st.FormatVersion != train.StateFormatVersion {
		return fmt.Errorf("resume %s: %s format_version %d, this build reads %d", dir, model.TrainerStateFile, st.FormatVersion, train.StateFormatVersion)
	}
	c, o := st.Config, r.cfg
	if c.Seed != o.Seed || c.BatchSize != o.BatchSize || c.SeqLen != o.SeqLen || c.GradAccum != o.GradAccum {
		return fmt.Errorf("resume %s: training config changed: seed, batch_size, seq_len and grad_accum_steps must stay %d, %d, %d, %d",
			dir, c.Seed, c.BatchSize, c.SeqLen, c.GradAccum)
	}
	for _, p := range r.params {
		copy(p.Data, ck.Adapters[p.Name].Data) // Load checked every shape
		copy(r.opt.M[p.Name], ck.OptimM[p.Name].Data)
		copy(r.opt.V[p.Name], ck.OptimV[p.Name].Data)
	}
	r.opt.T = st.Step
	st.Config = r.cfg
	r.st = st
	r.loader.Seek(st.Data)
	r.latest, r.latestStep = dir, st.Step
	return nil
}
