package train

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/cyclecore/mlmforge/distill/model"
)

// Snapshot is the trained part of a checkpoint: the tensors the optimizer updates,
// their AdamW moments and the trainer state. A Checkpointer turns it into a
// checkpoint directory and back.
type Snapshot struct {
	// Params are the trainable tensors by name (Save receives aliases of the live
	// weights; Load returns copies).
	Params model.Weights
	// OptimM and OptimV are AdamW's moments by param name; nil in an export.
	OptimM, OptimV model.Weights
	// TrainerState is trainer_state.json (State); nil in an export.
	TrainerState json.RawMessage
	// Labels are the encoder's classes (nil for decoders).
	Labels []string
}

// Checkpointer is what differs between training methods, llm.c style: the loop is
// one (Run), and a method plugs in which tensors it trains and how a checkpoint
// stores them. Full training (the default, nil Job.Checkpointer) saves the whole
// model as a distill/model checkpoint; distill/lora saves adapters that name
// their frozen base.
type Checkpointer interface {
	// Check verifies that params are exactly the tensors this method trains, so a
	// checkpoint is never found unwritable hours into a run.
	Check(params []model.Param) error
	// Save writes the checkpoint directory dir; saveTok, when set, writes its
	// tokenizer.json.
	Save(dir string, s Snapshot, saveTok func(string) error) error
	// Load reads a checkpoint written by Save and checks it belongs to this run
	// (same architecture, same base).
	Load(dir string) (Snapshot, error)
	// Inference returns the architecture and the complete weights with params'
	// current values, as a decoder or classifier runs them (Job.Validator).
	Inference(params []model.Param) (model.Config, model.Weights, error)
}

// ModelCheckpointer checkpoints a whole model of one architecture (full training,
// from scratch or from a pretrained base).
type ModelCheckpointer struct {
	// Config is the model's architecture.
	Config model.Config
	// Preset and Lineage are recorded in every checkpoint.
	Preset  string
	Lineage map[string]string
}

var _ Checkpointer = ModelCheckpointer{}

// Check verifies that params are exactly Config's tensors.
func (c ModelCheckpointer) Check(params []model.Param) error {
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
	if err := w.Check(c.Config); err != nil {
		return fmt.Errorf("train: model params do not match the config: %w", err)
	}
	return nil
}

// Save writes a distill/model checkpoint.
func (c ModelCheckpointer) Save(dir string, s Snapshot, saveTok func(string) error) error {
	ck := &model.Checkpoint{Config: c.Config, Preset: c.Preset, Lineage: c.Lineage, Labels: s.Labels,
		Weights: s.Params, OptimM: s.OptimM, OptimV: s.OptimV, TrainerState: s.TrainerState}
	return model.SaveCheckpoint(dir, ck, saveTok)
}

// Load reads a distill/model checkpoint of Config's architecture.
func (c ModelCheckpointer) Load(dir string) (Snapshot, error) {
	ck, err := model.LoadCheckpoint(dir, &c.Config)
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{Params: ck.Weights, OptimM: ck.OptimM, OptimV: ck.OptimV, TrainerState: ck.TrainerState, Labels: ck.Labels}, nil
}

// Inference returns Config and the params themselves: they are the whole model.
func (c ModelCheckpointer) Inference(params []model.Param) (model.Config, model.Weights, error) {
	return c.Config, paramWeights(params), nil
}

// paramWeights views params as weights (sharing their data).
func paramWeights(params []model.Param) model.Weights {
	w := make(model.Weights, len(params))
	for _, p := range params {
		w[p.Name] = &model.Tensor{Shape: slices.Clone(p.Shape), Data: p.Data}
	}
	return w
}
