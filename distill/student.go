package distill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/lora"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/nn"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/schemas"
)

// Methods of TrainSpec.Method.
const (
	MethodCE    = "ce"    // encoder, one-hot labels
	MethodKD    = "kd"    // encoder, teacher soft labels (Record.SoftLabels)
	MethodSeqKD = "seqkd" // decoder, the teacher's outputs (dataset targets)
	MethodLoRA  = "lora"  // decoder, seqkd data on LoRA adapters of a frozen base (TrainSpec.Base)
	// MethodFull fine-tunes every weight of a pretrained decoder (TrainSpec.Base) on
	// seqkd data, keeping its tokenizer and shape: the SLM-Bench recipe of
	// SmolLM2-135M fine-tuned into MLM-135M-JSON.
	MethodFull = "full"
	// MethodMultitask is a decoder trained with seqkd on several tasks at once
	// (TrainSpec.Versions mixed by TrainSpec.Weights), e.g. mlm-120m-balanced.
	MethodMultitask = "multitask"
)

// TrainSpec is one student training run.
type TrainSpec struct {
	// Preset names the architecture (model.LookupPreset).
	Preset string
	// Method is ce, kd, seqkd, lora or multitask; empty picks ce for encoders, seqkd
	// for decoders (multitask when Versions is set).
	Method string
	// Base is the pretrained model of MethodLoRA (frozen) and MethodFull (trained):
	// an mlmforge checkpoint, a Hugging Face Llama directory (export.LoadHF) or a
	// GGUF file, whose architecture is the preset's (vocab aside). Its tokenizer is
	// used instead of training one.
	Base string
	// LoRA configures MethodLoRA's adapters; nil takes lora.DefaultConfig() with
	// Train.Seed as its seed.
	LoRA *lora.Config
	// Version is the dataset version to train on (its train split; 5% of it is
	// held out for the evaluation loss).
	Version *datasets.Version
	// Versions are MethodMultitask's dataset versions, one per task, in place of
	// Version: 5% of each train split is held out for that task's eval loss.
	Versions []*datasets.Version
	// Weights are MethodMultitask's sampling weights by task name ("edgejson"...);
	// empty weighs the tasks equally, otherwise every task needs a positive weight.
	Weights map[string]float64
	// Catalog renders decoder prompts.
	Catalog *schemas.Catalog
	// OutDir receives tokenizer.json, checkpoints/, metrics.json and loss.png. A
	// run whose OutDir already holds a checkpoint resumes from it. MethodLoRA's
	// checkpoints are adapter checkpoints (distill/lora), which lora.LoadModel merges
	// into their base for inference; it writes no loss.png.
	OutDir string
	// Train is the loop's configuration; zero fields take Defaults(preset), and
	// ValidateEvery or Patience -1 turn validation or early stopping off.
	Train train.Config
	// KDAlpha and KDTemperature configure MethodKD (defaults 0.5 and 2).
	KDAlpha, KDTemperature float64
	// Lineage is recorded in every checkpoint.
	Lineage map[string]string
	// Progress, when set, sees every step.
	Progress func(train.Progress)
}

// TrainResult describes a finished run.
type TrainResult struct {
	// Checkpoint is the final checkpoint (the best by eval loss when evaluated).
	Checkpoint string
	// Config is the trained architecture (vocab and classes fitted to the data).
	Config model.Config
	// Method is the method used.
	Method string
	// Result is the loop's result.
	Result train.Result
	// Resumed is set when the run continued from a checkpoint in OutDir.
	Resumed bool
	// TrainExamples and EvalExamples count the examples used.
	TrainExamples, EvalExamples int
	// Truncated counts the training examples longer than Train.SeqLen, whose
	// ends (for a decoder, the end of its answer) were cut.
	Truncated int
	// Tasks are a MethodMultitask run's tasks, sorted (nil for one dataset).
	Tasks []string
	// Train is the loop's configuration as resolved (defaults filled, sequence
	// length fitted to the data).
	Train train.Config
}

// TrainStudent trains (or resumes training) one student on one dataset version.
func TrainStudent(ctx context.Context, spec TrainSpec) (TrainResult, error) {
	p, err := model.LookupPreset(spec.Preset)
	if err != nil {
		return TrainResult{}, err
	}
	cfg := p.Config
	if spec.Method == "" && len(spec.Versions) > 0 {
		spec.Method = MethodMultitask
	}
	method, err := PickMethod(cfg.Arch, spec.Method)
	if err != nil {
		return TrainResult{}, err
	}
	if method != MethodMultitask && (len(spec.Versions) > 0 || spec.Version == nil) {
		return TrainResult{}, fmt.Errorf("method %s trains on one dataset version (TrainSpec.Version); Versions is for method multitask", method)
	}
	autoSeq := spec.Train.SeqLen == 0
	tc := fill(spec.Train, Defaults(p))
	tc.SeqLen = fitMaxSeq(&cfg, method, tc.SeqLen)
	if err := tc.Validate(); err != nil {
		return TrainResult{}, fmt.Errorf("train config: %w", err)
	}
	if method == MethodMultitask {
		return trainMultitask(ctx, spec, p, tc, autoSeq)
	}
	recs, err := spec.Version.Read("train")
	if err != nil {
		return TrainResult{}, err
	}
	if len(recs) == 0 {
		return TrainResult{}, fmt.Errorf("dataset %s has no train split to learn from", spec.Version.Dir())
	}
	if err := os.MkdirAll(spec.OutDir, 0o755); err != nil {
		return TrainResult{}, err
	}
	resume, err := train.LatestCheckpoint(spec.OutDir)
	if err != nil {
		return TrainResult{}, err
	}
	style, err := promptStyleFor(&cfg, method, resume)
	if err != nil {
		return TrainResult{}, err
	}
	cfg, base, tok, err := studentBase(spec, method, cfg, recs, style)
	if err != nil {
		return TrainResult{}, err
	}
	tc.SeqLen = fitMaxSeq(&cfg, method, tc.SeqLen)
	trainRecs, heldRecs := train.SplitHoldout(recs, 0.05)
	ds := train.DataSpec{Arch: cfg.Arch, SeqLen: tc.SeqLen, Tokenizer: trainTokenizer{tok}, Catalog: spec.Catalog, PromptStyle: style}
	if cfg.Arch == model.ArchEncoder {
		if ds.Labels, err = train.Labels(recs); err != nil {
			return TrainResult{}, err
		}
		cfg.NumClasses = len(ds.Labels)
	}
	if autoSeq {
		// Fit T to the data: the 98th percentile of example lengths, within
		// MaxSeq, so short intents do not pay for padding and long
		// function-calling prompts are not cut away.
		if tc.SeqLen, err = fitSeqLen(ds, trainRecs, &cfg, method); err != nil {
			return TrainResult{}, &DataError{err}
		}
		ds.SeqLen = tc.SeqLen
	}
	if cfg.Arch == model.ArchDecoder {
		trainRecs = train.Augment(spec.Catalog, trainRecs, tc.ScrambleCopies, tc.Seed)
	}
	trainData, err := train.BuildData(ds, trainRecs)
	if err != nil {
		return TrainResult{}, &DataError{fmt.Errorf("train split: %w", err)}
	}
	if method != MethodKD {
		for i := range trainData.Examples {
			trainData.Examples[i].Soft = nil // ce learns the one-hot labels even where soft ones exist
		}
	} else if !slices.ContainsFunc(trainData.Examples, func(e train.Example) bool { return e.Soft != nil }) {
		return TrainResult{}, errors.New("method kd: the dataset has no soft_labels column values; generate it with an Ollama teacher and --soft-labels, or use ce")
	}
	var evalData *train.Data
	if len(heldRecs) > 0 {
		if evalData, err = train.BuildData(ds, heldRecs); err != nil {
			return TrainResult{}, fmt.Errorf("held-out slice: %w", err)
		}
	}
	validator, err := validatorFor(tc, spec.Catalog, tok, ds.Labels, heldRecs, style)
	if err != nil {
		return TrainResult{}, err
	}
	lineage := map[string]string{"dataset": spec.Version.Manifest().Task + "@" + spec.Version.Manifest().Version, "method": method}
	if style != train.PromptFull {
		lineage[train.LineagePromptStyle] = string(style)
	}
	for k, v := range spec.Lineage {
		lineage[k] = v
	}
	var res train.Result
	if method == MethodLoRA {
		job := lora.Job{Preset: p.Name, Lineage: lineage, Tokenizer: trainTokenizer{tok}, Train: trainData, Eval: evalData,
			OutDir: spec.OutDir, Resume: resume, Progress: spec.Progress, Validator: validator}
		res, err = trainLoRA(ctx, tc, job, base, spec.LoRA)
	} else {
		init := model.Init(cfg, tc.Seed)
		if method == MethodFull {
			init = base.Weights
			lineage["base"], lineage["base_sha256"] = base.Dir, base.Digest
		}
		opts := nn.Options{KDAlpha: cmp.Or(spec.KDAlpha, 0.5), KDTemperature: cmp.Or(spec.KDTemperature, 2),
			LabelSmoothing: tc.LabelSmoothing}
		if method == MethodSeqKD {
			// A pretrained base (method full) already has its copying heads;
			// supervising one would fight what it learned.
			opts.CopyLoss = tc.CopyLoss
		}
		net, nerr := nn.New(cfg, init, opts)
		if nerr != nil {
			return TrainResult{}, nerr
		}
		job := train.Job{Model: net, ModelConfig: cfg, Preset: p.Name, Lineage: lineage, Tokenizer: trainTokenizer{tok},
			Train: trainData, Eval: evalData, OutDir: spec.OutDir, Resume: resume, Progress: spec.Progress, Validator: validator}
		res, err = train.Run(ctx, tc, job)
	}
	out := TrainResult{Checkpoint: cmp.Or(res.BestCheckpoint, res.Checkpoint), Config: cfg, Method: method, Result: res,
		Resumed: resume != "", TrainExamples: len(trainData.Examples), Truncated: trainData.Truncated, Train: tc}
	if evalData != nil {
		out.EvalExamples = len(evalData.Examples)
	}
	return out, err
}

// DataError is a problem with the dataset itself (no usable example, a label
// set that does not fit): retrying cannot fix it.
type DataError struct{ Err error }

func (e *DataError) Error() string { return e.Err.Error() }
func (e *DataError) Unwrap() error { return e.Err }

// scratchMaxSeq bounds the max_seq a decoder trained from scratch grows to
// (fitMaxSeq, fitSeqLen). Its positions are rotary, so max_seq is no weight
// shape: only the longest sequence it reads and writes, and the most a run
// pays for one.
const scratchMaxSeq = 8192

// growsMaxSeq reports whether a run may raise its preset's max_seq to fit its
// data: decoders trained from scratch. A pretrained base (lora, full) keeps
// the positions it was trained on, and an encoder's inputs are short.
func growsMaxSeq(cfg *model.Config, method string) bool {
	return cfg.Arch == model.ArchDecoder && method != MethodLoRA && method != MethodFull
}

// fitMaxSeq reconciles a requested sequence length with cfg.MaxSeq: a
// decoder trained from scratch raises MaxSeq to it (up to scratchMaxSeq),
// any other model cuts it to MaxSeq.
func fitMaxSeq(cfg *model.Config, method string, seq int) int {
	if growsMaxSeq(cfg, method) && seq > cfg.MaxSeq {
		cfg.MaxSeq = min(seq, scratchMaxSeq)
	}
	return min(seq, cfg.MaxSeq)
}

// fitSeqLen tokenizes recs and returns the 98th percentile of the example
// lengths, rounded up to a multiple of 16, at least 16 and at most
// cfg.MaxSeq. A decoder trained from scratch first grows cfg.MaxSeq to hold
// the longest example and a quarter more (test answers can be longer; at
// most scratchMaxSeq): a preset's max_seq is sized for typical data, and one
// too short for a dataset (tiny-json's 512 against EdgeJSON-complex examples
// of 900-2,400 tokens) would cut every long answer in training and stop every
// long one at inference, a ceiling on the score that no training lifts.
func fitSeqLen(ds train.DataSpec, recs []datasets.Record, cfg *model.Config, method string) (int, error) {
	ds.SeqLen = cfg.MaxSeq
	if growsMaxSeq(cfg, method) {
		ds.SeqLen = scratchMaxSeq
	}
	d, err := train.BuildData(ds, recs)
	if err != nil {
		return 0, fmt.Errorf("train split: %w", err)
	}
	lens := make([]int, len(d.Examples))
	for i, e := range d.Examples {
		lens[i] = len(e.Tokens)
	}
	slices.Sort(lens)
	if longest := lens[len(lens)-1]; growsMaxSeq(cfg, method) && longest > cfg.MaxSeq {
		cfg.MaxSeq = min(scratchMaxSeq, (longest+longest/4+63)/64*64)
	}
	n := lens[min(len(lens)-1, len(lens)*98/100)]
	return min(cfg.MaxSeq, max(16, (n+15)/16*16)), nil
}

// PickMethod resolves a method for an architecture; empty picks the default.
func PickMethod(arch, method string) (string, error) {
	switch {
	case method == "" && arch == model.ArchEncoder:
		return MethodCE, nil
	case method == "":
		return MethodSeqKD, nil
	case arch == model.ArchEncoder && (method == MethodCE || method == MethodKD):
		return method, nil
	case arch == model.ArchDecoder && (method == MethodSeqKD || method == MethodLoRA || method == MethodMultitask || method == MethodFull):
		return method, nil
	}
	return "", fmt.Errorf("method %q does not apply to a %s (encoders: ce, kd; decoders: seqkd, lora, full, multitask)", method, arch)
}

// studentBase fits the preset's config to the run: a fresh student gets the tokenizer
// trained (or resumed) in OutDir and its vocabulary size; MethodLoRA and MethodFull
// get their pretrained base, whose config and tokenizer they keep.
func studentBase(spec TrainSpec, method string, cfg model.Config, recs []datasets.Record, style train.PromptStyle) (model.Config, *lora.Base, *tokenizer.Tokenizer, error) {
	if method == MethodLoRA || method == MethodFull {
		base, tok, err := pretrainedBase(method, spec.Base, cfg)
		if err != nil {
			return cfg, nil, nil, err
		}
		return base.Config, base, tok, nil
	}
	tok, err := studentTokenizer(spec.OutDir, recs, cfg, spec.Catalog, style)
	if err != nil {
		return cfg, nil, nil, err
	}
	cfg.Vocab = tok.VocabSize()
	return cfg, nil, tok, nil
}

// pretrainedBase loads the base of MethodLoRA or MethodFull with its tokenizer,
// and checks that the base has the preset's architecture (its vocabulary is the
// base tokenizer's, not the preset's, and a pretrained Llama has no pointer-generator
// output whatever the preset's from-scratch default) and the chat tokens students use.
func pretrainedBase(method, dir string, preset model.Config) (*lora.Base, *tokenizer.Tokenizer, error) {
	if dir == "" {
		return nil, nil, fmt.Errorf("method %s: no base model (TrainSpec.Base)", method)
	}
	base, err := lora.LoadBase(dir)
	if err != nil {
		return nil, nil, err
	}
	preset.Vocab, preset.Pointer, preset.InductionNgram = base.Config.Vocab, base.Config.Pointer, base.Config.InductionNgram
	if d := base.Config.Diff(preset); len(d) > 0 {
		return nil, nil, fmt.Errorf("method %s: base %s is not the preset's architecture (base != preset): %s", method, dir, strings.Join(d, "; "))
	}
	if err := checkChatTokens(base.Tokenizer); err != nil {
		return nil, nil, fmt.Errorf("method %s: base %s: %w", method, dir, err)
	}
	return base, base.Tokenizer, nil
}

// trainLoRA trains adapters on the frozen base with distill/lora's loop and records
// the base and its weights' sha256 in the lineage of every adapter checkpoint.
func trainLoRA(ctx context.Context, tc train.Config, job lora.Job, base *lora.Base, lc *lora.Config) (train.Result, error) {
	job.LoRA = lora.DefaultConfig()
	job.LoRA.Seed = tc.Seed
	if lc != nil {
		job.LoRA = *lc
	}
	job.Base, job.BaseWeights = base.Ref(), base.Weights
	job.Lineage["base"], job.Lineage["base_sha256"] = base.Dir, base.Digest
	net, err := nn.New(base.Config, base.Weights, nn.Options{LoRA: &job.LoRA}) // lora.Run copies a resumed checkpoint's adapters in
	if err != nil {
		return train.Result{}, err
	}
	job.Model = net
	return lora.Run(ctx, tc, job)
}
