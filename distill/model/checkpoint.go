package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// CheckpointFormatVersion is the version of the checkpoint directory layout this build
// writes and reads. Bump it when a file's meaning changes; Load refuses other versions
// rather than guessing.
const CheckpointFormatVersion = 1

// Files of a checkpoint directory.
const (
	ConfigFile       = "config.json"
	WeightsFile      = "model.safetensors"
	TokenizerFile    = "tokenizer.json"
	OptimizerFile    = "optimizer.safetensors"
	TrainerStateFile = "trainer_state.json"
)

// Optimizer tensor name prefixes in optimizer.safetensors: "m.<param>" holds AdamW's
// first moment of <param>, "v.<param>" the second.
const (
	OptimMPrefix = "m."
	OptimVPrefix = "v."
)

// Checkpoint is everything a self-describing checkpoint directory holds:
//
//	config.json            Config (Hugging Face keys) + format_version, preset, lineage, labels
//	model.safetensors      Weights, F32
//	tokenizer.json         written by the caller's tokenizer (SaveCheckpoint's callback)
//	optimizer.safetensors  AdamW moments, "m.<name>" and "v.<name>" (optional)
//	trainer_state.json     the trainer's resume state, opaque here (optional)
type Checkpoint struct {
	// Config is the architecture.
	Config Config
	// Preset is the preset name the model was built from ("" for a custom config).
	Preset string
	// Lineage records where the model came from: dataset version, teacher, parent
	// checkpoint, git commit... free-form keys.
	Lineage map[string]string
	// Labels are the encoder's class names, index = class id (nil for decoders).
	Labels []string
	// Weights are the model tensors.
	Weights Weights
	// OptimM and OptimV are AdamW's moments by parameter name; nil when absent.
	OptimM, OptimV Weights
	// TrainerState is the trainer's JSON state; nil when absent.
	TrainerState json.RawMessage
	// Dir is the directory the checkpoint was loaded from (set by LoadCheckpoint).
	Dir string
}

// configFile is config.json: the model config flattened with the checkpoint's own keys,
// so the file reads like a Hugging Face config.json.
type configFile struct {
	Config
	FormatVersion int               `json:"format_version"`
	Preset        string            `json:"preset,omitempty"`
	Lineage       map[string]string `json:"lineage,omitempty"`
	Labels        []string          `json:"labels,omitempty"`
}

// TokenizerPath is the checkpoint's tokenizer.json, or "" when it has none.
func (c *Checkpoint) TokenizerPath() string {
	p := filepath.Join(c.Dir, TokenizerFile)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// SaveCheckpoint writes ck to dir atomically (atomicfile.ReplaceDir): a crash leaves
// either the old or the new checkpoint under dir, never a mix. saveTokenizer, if not
// nil, writes tokenizer.json to the path it is given.
func SaveCheckpoint(dir string, ck *Checkpoint, saveTokenizer func(path string) error) error {
	if err := ck.Config.Validate(); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", dir, err)
	}
	if err := ck.Weights.Check(ck.Config); err != nil {
		return fmt.Errorf("save checkpoint %s: weights: %w", dir, err)
	}
	err := atomicfile.ReplaceDir(dir, func(tmp string) error { return writeCheckpointFiles(tmp, ck, saveTokenizer) })
	if err != nil {
		return fmt.Errorf("save checkpoint %s: %w", dir, err)
	}
	return nil
}

// writeCheckpointFiles writes every file of ck into dir.
func writeCheckpointFiles(dir string, ck *Checkpoint, saveTokenizer func(path string) error) error {
	cfg := configFile{Config: ck.Config, FormatVersion: CheckpointFormatVersion,
		Preset: ck.Preset, Lineage: ck.Lineage, Labels: ck.Labels}
	if err := writeJSON(filepath.Join(dir, ConfigFile), cfg); err != nil {
		return err
	}
	meta := map[string]string{"format": "pt"} // what transformers expects to see
	if err := WriteSafetensors(filepath.Join(dir, WeightsFile), ck.Weights, meta); err != nil {
		return err
	}
	if saveTokenizer != nil {
		p := filepath.Join(dir, TokenizerFile)
		if err := saveTokenizer(p); err != nil {
			return fmt.Errorf("save %s: %w", TokenizerFile, err)
		}
	}
	if ck.OptimM != nil || ck.OptimV != nil {
		opt := Weights{}
		for n, t := range ck.OptimM {
			opt[OptimMPrefix+n] = t
		}
		for n, t := range ck.OptimV {
			opt[OptimVPrefix+n] = t
		}
		if err := WriteSafetensors(filepath.Join(dir, OptimizerFile), opt, nil); err != nil {
			return err
		}
	}
	if ck.TrainerState != nil {
		p := filepath.Join(dir, TrainerStateFile)
		if err := atomicfile.WriteFile(p, ck.TrainerState, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

// LoadCheckpoint reads the checkpoint in dir. It checks the format version, the config
// and that the weights (and optimizer moments, when present) match it. If want is not
// nil, the checkpoint's config must equal *want; the error names every field that
// differs ("hidden_size: 64 != 128", checkpoint value first).
func LoadCheckpoint(dir string, want *Config) (*Checkpoint, error) {
	return loadCheckpoint(dir, want, true)
}

// LoadModel loads a checkpoint's config, labels, lineage and weights only: what
// inference and export need, without the optimizer's moments (twice the weights'
// size) or the trainer state.
func LoadModel(dir string) (*Checkpoint, error) {
	return loadCheckpoint(dir, nil, false)
}

func loadCheckpoint(dir string, want *Config, full bool) (*Checkpoint, error) {
	cfgPath := filepath.Join(dir, ConfigFile)
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	var version struct {
		V *int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &version); err != nil {
		return nil, fmt.Errorf("load checkpoint %s: %w", cfgPath, err)
	}
	switch {
	case version.V == nil:
		return nil, fmt.Errorf("load checkpoint %s: no format_version (not an mlmforge checkpoint?)", cfgPath)
	case *version.V != CheckpointFormatVersion:
		return nil, fmt.Errorf("load checkpoint %s: format_version %d, this build reads %d", cfgPath, *version.V, CheckpointFormatVersion)
	}
	var cf configFile
	if err := json.Unmarshal(data, &cf); err != nil {
		return nil, fmt.Errorf("load checkpoint %s: %w", cfgPath, err)
	}
	if err := cf.Config.Validate(); err != nil {
		return nil, fmt.Errorf("load checkpoint %s: %w", cfgPath, err)
	}
	if want != nil {
		if d := cf.Config.Diff(*want); len(d) > 0 {
			return nil, fmt.Errorf("load checkpoint %s: config does not match the expected model (checkpoint != expected): %s",
				dir, strings.Join(d, "; "))
		}
	}
	ck := &Checkpoint{Config: cf.Config, Preset: cf.Preset, Lineage: cf.Lineage, Labels: cf.Labels, Dir: dir}
	if ck.Config.Arch == ArchEncoder && ck.Labels != nil && len(ck.Labels) != ck.Config.NumClasses {
		return nil, fmt.Errorf("load checkpoint %s: %d labels for num_classes %d", cfgPath, len(ck.Labels), ck.Config.NumClasses)
	}
	wPath := filepath.Join(dir, WeightsFile)
	if ck.Weights, _, err = ReadSafetensors(wPath); err != nil {
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	if err := ck.Weights.Check(ck.Config); err != nil {
		return nil, fmt.Errorf("load checkpoint %s: %w", wPath, err)
	}
	if !full {
		return ck, nil
	}
	if err := loadOptimizer(ck); err != nil {
		return nil, err
	}
	statePath := filepath.Join(dir, TrainerStateFile)
	switch st, err := os.ReadFile(statePath); {
	case err == nil:
		if !json.Valid(st) {
			return nil, fmt.Errorf("load checkpoint %s: not valid JSON", statePath)
		}
		ck.TrainerState = st
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	return ck, nil
}

// loadOptimizer reads optimizer.safetensors when present and checks that it holds both
// moments of exactly the model's tensors.
func loadOptimizer(ck *Checkpoint) error {
	p := filepath.Join(ck.Dir, OptimizerFile)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	opt, _, err := ReadSafetensors(p)
	if err != nil {
		return fmt.Errorf("load checkpoint: %w", err)
	}
	ck.OptimM, ck.OptimV = Weights{}, Weights{}
	for _, name := range slices.Sorted(maps.Keys(opt)) {
		switch {
		case strings.HasPrefix(name, OptimMPrefix):
			ck.OptimM[strings.TrimPrefix(name, OptimMPrefix)] = opt[name]
		case strings.HasPrefix(name, OptimVPrefix):
			ck.OptimV[strings.TrimPrefix(name, OptimVPrefix)] = opt[name]
		default:
			return fmt.Errorf("load checkpoint %s: tensor %s: want an %q or %q prefix", p, name, OptimMPrefix, OptimVPrefix)
		}
	}
	for _, m := range []struct {
		prefix string
		w      Weights
	}{{OptimMPrefix, ck.OptimM}, {OptimVPrefix, ck.OptimV}} {
		for n, t := range ck.Weights {
			o, ok := m.w[n]
			if !ok || !slices.Equal(o.Shape, t.Shape) {
				return fmt.Errorf("load checkpoint %s: tensor %s%s: missing or not shaped %v", p, m.prefix, n, t.Shape)
			}
		}
		if len(m.w) != len(ck.Weights) {
			return fmt.Errorf("load checkpoint %s: %d %q tensors for %d weights", p, len(m.w), m.prefix, len(ck.Weights))
		}
	}
	return nil
}

// writeJSON writes v as indented JSON to path atomically.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	data = append(data, '\n')
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
