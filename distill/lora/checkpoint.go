package lora

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// FormatVersion is the version of the adapter checkpoint layout this build writes and
// reads (adapter_config.json's format_version).
const FormatVersion = 1

// Files of an adapter checkpoint directory. tokenizer.json, optimizer.safetensors and
// trainer_state.json keep model's names (model.TokenizerFile ...).
const (
	// ConfigFile is PEFT's adapter_config.json with mlmforge's keys added.
	ConfigFile = "adapter_config.json"
	// WeightsFile holds the adapter tensors (F32, PEFT names).
	WeightsFile = "adapter_model.safetensors"
)

// BaseRef names the base model of an adapter.
type BaseRef struct {
	// Path is the base directory (absolute), PEFT's base_model_name_or_path.
	Path string
	// Kind is KindCheckpoint or KindHF.
	Kind string
	// Digest is the hex sha256 of the base weights (WeightsDigest); loading refuses a
	// base whose weights changed since the adapter was trained.
	Digest string
	// Config is the base architecture.
	Config model.Config
}

// Ref is the reference an adapter checkpoint records for b.
func (b *Base) Ref() BaseRef {
	return BaseRef{Path: b.Dir, Kind: b.Kind, Digest: b.Digest, Config: b.Config}
}

// Checkpoint is an adapter checkpoint directory:
//
//	adapter_config.json        PEFT keys (peft_type, r, lora_alpha, lora_dropout, target_modules,
//	                           base_model_name_or_path ...) + format_version, seed, base_kind,
//	                           base_sha256, base_config, preset, lineage
//	adapter_model.safetensors  the A and B tensors, F32, PEFT names; 4 bytes per
//	                           Config.NumParams value plus the header
//	tokenizer.json             the base's tokenizer (so a checkpoint is self-contained for eval)
//	optimizer.safetensors      AdamW moments of the adapters, "m.<name>"/"v.<name>" (optional)
//	trainer_state.json         the trainer's resume state (optional)
type Checkpoint struct {
	// LoRA is the adapter setup.
	LoRA Config
	// Base is the frozen model the adapters apply to.
	Base BaseRef
	// Preset is the student preset the run was started with.
	Preset string
	// Lineage records where the adapter came from (dataset, method, base, base digest).
	Lineage map[string]string
	// Adapters are the A and B tensors by PEFT name.
	Adapters model.Weights
	// OptimM and OptimV are AdamW's moments by adapter name; nil when absent.
	OptimM, OptimV model.Weights
	// TrainerState is the trainer's JSON state; nil when absent.
	TrainerState json.RawMessage
	// Dir is the directory the checkpoint was loaded from (set by Load).
	Dir string
}

// configFile is adapter_config.json.
type configFile struct {
	Config
	PEFTType        string            `json:"peft_type"`
	TaskType        string            `json:"task_type"`
	Bias            string            `json:"bias"`
	FanInFanOut     bool              `json:"fan_in_fan_out"`
	InferenceMode   bool              `json:"inference_mode"`
	InitLoRAWeights bool              `json:"init_lora_weights"`
	BasePath        string            `json:"base_model_name_or_path"`
	FormatVersion   int               `json:"format_version"`
	BaseKind        string            `json:"base_kind"`
	BaseDigest      string            `json:"base_sha256"`
	BaseConfig      model.Config      `json:"base_config"`
	Preset          string            `json:"preset,omitempty"`
	Lineage         map[string]string `json:"lineage,omitempty"`
}

// IsCheckpoint reports whether dir holds an adapter checkpoint.
func IsCheckpoint(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ConfigFile))
	return err == nil
}

// Save writes ck to dir atomically (atomicfile.ReplaceDir): a crash leaves either the
// old or the new adapter under dir, never a mix. saveTokenizer, if not nil, writes
// tokenizer.json to the path it is given.
func Save(dir string, ck *Checkpoint, saveTokenizer func(path string) error) error {
	if err := ck.LoRA.Validate(); err != nil {
		return fmt.Errorf("save adapter %s: %w", dir, err)
	}
	if err := ck.LoRA.Check(ck.Base.Config, ck.Adapters); err != nil {
		return fmt.Errorf("save adapter %s: %w", dir, err)
	}
	if err := atomicfile.ReplaceDir(dir, func(tmp string) error { return writeFiles(tmp, ck, saveTokenizer) }); err != nil {
		return fmt.Errorf("save adapter %s: %w", dir, err)
	}
	return nil
}

// writeFiles writes every file of ck into dir.
func writeFiles(dir string, ck *Checkpoint, saveTokenizer func(path string) error) error {
	cf := configFile{Config: ck.LoRA, PEFTType: "LORA", TaskType: "CAUSAL_LM", Bias: "none",
		InferenceMode: true, InitLoRAWeights: true, BasePath: ck.Base.Path, FormatVersion: FormatVersion,
		BaseKind: ck.Base.Kind, BaseDigest: ck.Base.Digest, BaseConfig: ck.Base.Config, Preset: ck.Preset, Lineage: ck.Lineage}
	data, err := json.MarshalIndent(cf, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", ConfigFile, err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ConfigFile), append(data, '\n'), 0o644); err != nil {
		return err
	}
	if err := model.WriteSafetensors(filepath.Join(dir, WeightsFile), ck.Adapters, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	if saveTokenizer != nil {
		p := filepath.Join(dir, model.TokenizerFile)
		if err := saveTokenizer(p); err != nil {
			return fmt.Errorf("save %s: %w", model.TokenizerFile, err)
		}
	}
	if ck.OptimM != nil || ck.OptimV != nil {
		opt := model.Weights{}
		for n, t := range ck.OptimM {
			opt[model.OptimMPrefix+n] = t
		}
		for n, t := range ck.OptimV {
			opt[model.OptimVPrefix+n] = t
		}
		if err := model.WriteSafetensors(filepath.Join(dir, model.OptimizerFile), opt, nil); err != nil {
			return err
		}
	}
	if ck.TrainerState != nil {
		if err := atomicfile.WriteFile(filepath.Join(dir, model.TrainerStateFile), ck.TrainerState, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Load reads the adapter checkpoint in dir, with its optimizer and trainer state when
// present, and checks the adapters against the recorded base config.
func Load(dir string) (*Checkpoint, error) {
	cfgPath := filepath.Join(dir, ConfigFile)
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("load adapter: %w", err)
	}
	var cf configFile
	if err := json.Unmarshal(data, &cf); err != nil {
		return nil, fmt.Errorf("load adapter %s: %w", cfgPath, err)
	}
	if cf.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("load adapter %s: format_version %d, this build reads %d", cfgPath, cf.FormatVersion, FormatVersion)
	}
	if err := cf.Config.Validate(); err != nil {
		return nil, fmt.Errorf("load adapter %s: %w", cfgPath, err)
	}
	if err := cf.BaseConfig.Validate(); err != nil {
		return nil, fmt.Errorf("load adapter %s: base_config: %w", cfgPath, err)
	}
	ck := &Checkpoint{LoRA: cf.Config, Preset: cf.Preset, Lineage: cf.Lineage, Dir: dir,
		Base: BaseRef{Path: cf.BasePath, Kind: cf.BaseKind, Digest: cf.BaseDigest, Config: cf.BaseConfig}}
	wPath := filepath.Join(dir, WeightsFile)
	if ck.Adapters, _, err = model.ReadSafetensors(wPath); err != nil {
		return nil, fmt.Errorf("load adapter: %w", err)
	}
	if err := ck.LoRA.Check(ck.Base.Config, ck.Adapters); err != nil {
		return nil, fmt.Errorf("load adapter %s: %w", wPath, err)
	}
	if err := loadTrainingState(ck); err != nil {
		return nil, err
	}
	return ck, nil
}

// loadTrainingState reads optimizer.safetensors and trainer_state.json when present.
func loadTrainingState(ck *Checkpoint) error {
	optPath := filepath.Join(ck.Dir, model.OptimizerFile)
	switch opt, _, err := model.ReadSafetensors(optPath); {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("load adapter: %w", err)
	default:
		ck.OptimM, ck.OptimV = model.Weights{}, model.Weights{}
		for _, name := range slices.Sorted(maps.Keys(opt)) {
			switch {
			case strings.HasPrefix(name, model.OptimMPrefix):
				ck.OptimM[strings.TrimPrefix(name, model.OptimMPrefix)] = opt[name]
			case strings.HasPrefix(name, model.OptimVPrefix):
				ck.OptimV[strings.TrimPrefix(name, model.OptimVPrefix)] = opt[name]
			default:
				return fmt.Errorf("load adapter %s: tensor %s: want an %q or %q prefix", optPath, name, model.OptimMPrefix, model.OptimVPrefix)
			}
		}
		for _, w := range []model.Weights{ck.OptimM, ck.OptimV} {
			if err := ck.LoRA.Check(ck.Base.Config, w); err != nil {
				return fmt.Errorf("load adapter %s: %w", optPath, err)
			}
		}
	}
	statePath := filepath.Join(ck.Dir, model.TrainerStateFile)
	switch st, err := os.ReadFile(statePath); {
	case err == nil:
		if !json.Valid(st) {
			return fmt.Errorf("load adapter %s: not valid JSON", statePath)
		}
		ck.TrainerState = st
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("load adapter: %w", err)
	}
	return nil
}

// LoadModel loads what inference and evaluation need from dir: for an adapter
// checkpoint, its base (whose weights must still have the recorded digest) with the
// adapters merged in (Merge), as a model.Checkpoint whose Dir is dir (which holds the
// tokenizer.json); for anything else, model.LoadModel(dir).
func LoadModel(dir string) (*model.Checkpoint, error) {
	if !IsCheckpoint(dir) {
		return model.LoadModel(dir)
	}
	ck, err := Load(dir)
	if err != nil {
		return nil, err
	}
	base, err := LoadBase(ck.Base.Path)
	if err != nil {
		return nil, fmt.Errorf("adapter %s: %w", dir, err)
	}
	if base.Digest != ck.Base.Digest {
		return nil, fmt.Errorf("adapter %s: base %s weights have sha256 %s, the adapter was trained on %s",
			dir, base.Dir, base.Digest, ck.Base.Digest)
	}
	if d := base.Config.Diff(ck.Base.Config); len(d) > 0 {
		return nil, fmt.Errorf("adapter %s: base %s config differs from base_config (base != recorded): %s",
			dir, base.Dir, strings.Join(d, "; "))
	}
	merged, err := Merge(base.Config, base.Weights, ck.LoRA, ck.Adapters)
	if err != nil {
		return nil, fmt.Errorf("adapter %s: %w", dir, err)
	}
	return &model.Checkpoint{Config: base.Config, Preset: ck.Preset, Lineage: ck.Lineage, Weights: merged, Dir: dir}, nil
}
