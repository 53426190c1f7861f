package lora

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/train"
)

// Job is one adapter training run: train.Job's fields, with the frozen base in place
// of a model config. It runs train.Run's loop with adapter checkpoints
// (Checkpointer) under OutDir/checkpoints/step-NNNNNNNN and the same "latest"
// pointer, metrics.json and loss.png.
type Job struct {
	// Model is the LoRA net; its Params must be exactly LoRA.Params(Base.Config).
	Model train.Model
	// LoRA is the adapter setup; Base the frozen model it adapts.
	LoRA Config
	Base BaseRef
	// BaseWeights are the frozen base tensors, merged with the adapters for
	// Validator (nil without one).
	BaseWeights model.Weights
	// Preset and Lineage are recorded in every checkpoint.
	Preset  string
	Lineage map[string]string
	// Tokenizer, if set, is saved as every checkpoint's tokenizer.json.
	Tokenizer train.Tokenizer
	// Train is the training data; Eval the held-out data (nil: no evaluation).
	Train, Eval *train.Data
	// OutDir receives checkpoints/, metrics.json and loss.png.
	OutDir string
	// Resume is an adapter checkpoint to continue from ("" starts fresh).
	Resume string
	// Progress, if set, is called after every step.
	Progress func(train.Progress)
	// Validator, with train.Config.ValidateEvery, selects checkpoints by the task
	// metric (train.Job.Validator); it sees the adapters merged into the base.
	Validator train.Validator
}

// Run trains the adapters of job.Model with train.Run: the same step, schedule,
// evaluation, non-finite stop, cancellation and resume as a whole model, only the
// checkpoints hold adapters (Checkpointer).
func Run(ctx context.Context, cfg train.Config, job Job) (train.Result, error) {
	switch {
	case job.Model == nil:
		return train.Result{Stopped: train.StopError}, errors.New("lora run: job has no model")
	case job.Train != nil && job.Train.Arch != model.ArchDecoder:
		return train.Result{Stopped: train.StopError}, fmt.Errorf("lora run: data built for arch %q, adapters train decoders", job.Train.Arch)
	}
	ck := &Checkpointer{LoRA: job.LoRA, Base: job.Base, BaseWeights: job.BaseWeights, Preset: job.Preset, Lineage: job.Lineage}
	return train.Run(ctx, cfg, train.Job{Model: job.Model, ModelConfig: job.Base.Config, Preset: job.Preset,
		Lineage: job.Lineage, Tokenizer: job.Tokenizer, Train: job.Train, Eval: job.Eval, OutDir: job.OutDir,
		Resume: job.Resume, Progress: job.Progress, Checkpointer: ck, Validator: job.Validator})
}

// Checkpointer is train.Checkpointer for LoRA: the trainable tensors are the
// adapters, saved as PEFT adapter checkpoints that name their base and its digest.
type Checkpointer struct {
	// LoRA is the adapter setup; Base the frozen model.
	LoRA Config
	Base BaseRef
	// BaseWeights are the base tensors (needed by Inference only).
	BaseWeights model.Weights
	// Preset and Lineage are recorded in every checkpoint.
	Preset  string
	Lineage map[string]string
}

var _ train.Checkpointer = (*Checkpointer)(nil)

// Check verifies that params are exactly the adapters of the base's architecture.
func (c *Checkpointer) Check(params []model.Param) error {
	w := model.Weights{}
	for _, p := range params {
		if len(p.Grad) != len(p.Data) {
			return fmt.Errorf("lora run: param %s has %d values and %d gradients", p.Name, len(p.Data), len(p.Grad))
		}
		w[p.Name] = &model.Tensor{Shape: p.Shape, Data: p.Data}
	}
	if err := c.LoRA.Check(c.Base.Config, w); err != nil {
		return fmt.Errorf("lora run: model params are not the adapters of the config: %w", err)
	}
	return nil
}

// Save writes an adapter checkpoint.
func (c *Checkpointer) Save(dir string, s train.Snapshot, saveTok func(string) error) error {
	return Save(dir, &Checkpoint{LoRA: c.LoRA, Base: c.Base, Preset: c.Preset, Lineage: c.Lineage,
		Adapters: s.Params, OptimM: s.OptimM, OptimV: s.OptimV, TrainerState: s.TrainerState}, saveTok)
}

// Load reads an adapter checkpoint and checks it adapts the same base weights with
// the same setup.
func (c *Checkpointer) Load(dir string) (train.Snapshot, error) {
	ck, err := Load(dir)
	if err != nil {
		return train.Snapshot{}, err
	}
	if ck.Base.Digest != c.Base.Digest {
		return train.Snapshot{}, fmt.Errorf("adapter %s was trained on base weights %s, this run's base is %s", dir, ck.Base.Digest, c.Base.Digest)
	}
	if a, b := ck.LoRA, c.LoRA; a.R != b.R || a.Alpha != b.Alpha || !slices.Equal(a.Targets, b.Targets) {
		return train.Snapshot{}, fmt.Errorf("adapter %s: lora config changed (checkpoint r=%d alpha=%g targets=%v, now r=%d alpha=%g targets=%v)",
			dir, a.R, a.Alpha, a.Targets, b.R, b.Alpha, b.Targets)
	}
	return train.Snapshot{Params: ck.Adapters, OptimM: ck.OptimM, OptimV: ck.OptimV, TrainerState: ck.TrainerState}, nil
}

// Inference merges the adapters' current values into the base.
func (c *Checkpointer) Inference(params []model.Param) (model.Config, model.Weights, error) {
	if c.BaseWeights == nil {
		return c.Base.Config, nil, errors.New("lora run: no base weights to merge the adapters into")
	}
	ad := model.Weights{}
	for _, p := range params {
		ad[p.Name] = &model.Tensor{Shape: slices.Clone(p.Shape), Data: p.Data}
	}
	w, err := Merge(c.Base.Config, c.BaseWeights, c.LoRA, ad)
	return c.Base.Config, w, err
}
