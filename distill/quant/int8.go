// Package quant stores students with INT8 weight-only quantization on disk: the
// checkpoint a device runs when float32 weights are too big for it.
//
// An INT8 checkpoint directory is an mlmforge checkpoint (model.LoadModel's layout)
// whose model.safetensors is replaced by model.int8.safetensors:
//
//	config.json              the checkpoint's config.json plus "quantization": "int8"
//	model.int8.safetensors   per linear/embedding matrix W [rows, cols]: "W" I8 [rows, cols]
//	                         and "W.scale" F32 [rows]; norms and biases F32 under their names
//	tokenizer.json           copied from the float32 checkpoint
//
// The quantization is infer.QuantizeTensor's: symmetric, one scale per output row,
// value ~ int8 * scale with int8 in [-127, 127], so the loaded weights compute exactly
// what infer.Quantize of the float32 weights computes.
package quant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cyclecore/mlmforge/distill/infer"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
)

// Int8WeightsFile is the weights file of an INT8 checkpoint.
const Int8WeightsFile = "model.int8.safetensors"

// Int8 is the config.json "quantization" value of an INT8 checkpoint.
const Int8 = "int8"

// configFile is config.json: model.LoadModel's fields (Hugging Face keys plus
// format_version, preset, lineage, labels) and the quantization key.
type configFile struct {
	model.Config
	FormatVersion int               `json:"format_version"`
	Preset        string            `json:"preset,omitempty"`
	Lineage       map[string]string `json:"lineage,omitempty"`
	Labels        []string          `json:"labels,omitempty"`
	Quantization  string            `json:"quantization,omitempty"`
}

// SaveInt8 quantizes ck's weights (infer.Quantize) and writes an INT8 checkpoint to
// dir: config.json, model.int8.safetensors and tokenizer.json copied from
// tokenizerSrc ("" means ck's own tokenizer.json). The tokenizer is required, since
// the checkpoint is useless without it. Like model.SaveCheckpoint, the files go to a
// temp directory next to dir that is renamed into place, replacing an existing dir.
func SaveInt8(dir string, ck *model.Checkpoint, tokenizerSrc string) (err error) {
	if err := ck.Config.Validate(); err != nil {
		return fmt.Errorf("save int8 %s: %w", dir, err)
	}
	if err := ck.Weights.Check(ck.Config); err != nil {
		return fmt.Errorf("save int8 %s: weights: %w", dir, err)
	}
	if ck.Config.Arch == model.ArchEncoder && ck.Labels != nil && len(ck.Labels) != ck.Config.NumClasses {
		return fmt.Errorf("save int8 %s: %d labels for num_classes %d", dir, len(ck.Labels), ck.Config.NumClasses)
	}
	tokData, err := readTokenizer(ck, tokenizerSrc)
	if err != nil {
		return fmt.Errorf("save int8 %s: %w", dir, err)
	}
	cfg := configFile{Config: ck.Config, FormatVersion: model.CheckpointFormatVersion, Preset: ck.Preset,
		Lineage: ck.Lineage, Labels: ck.Labels, Quantization: Int8}
	cfgData, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("save int8 %s: encode %s: %w", dir, model.ConfigFile, err)
	}
	var weights bytes.Buffer
	meta := map[string]string{"format": "mlmforge", "quantization": Int8, "scheme": "symmetric per-row absmax/127"}
	if err := encode(&weights, infer.Quantize(ck.Weights), meta); err != nil {
		return fmt.Errorf("save int8 %s: %s: %w", dir, Int8WeightsFile, err)
	}
	files := []dirFile{
		{model.ConfigFile, append(cfgData, '\n')},
		{Int8WeightsFile, weights.Bytes()},
		{model.TokenizerFile, tokData},
	}
	if err := writeDir(dir, files); err != nil {
		return fmt.Errorf("save int8 %s: %w", dir, err)
	}
	return nil
}

// readTokenizer reads the tokenizer.json to copy and checks that it loads and fits
// the embedding.
func readTokenizer(ck *model.Checkpoint, src string) ([]byte, error) {
	if src == "" {
		src = ck.TokenizerPath()
	}
	if src == "" {
		return nil, fmt.Errorf("no %s: pass its path, or save a checkpoint that has one", model.TokenizerFile)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("read tokenizer: %w", err)
	}
	tok, err := tokenizer.Load(src)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", src, err)
	}
	if n := tok.VocabSize(); n > ck.Config.Vocab {
		return nil, fmt.Errorf("tokenizer %s: %d ids but vocab_size is %d", src, n, ck.Config.Vocab)
	}
	return data, nil
}

// readConfig reads dir/config.json.
func readConfig(dir string) (configFile, string, error) {
	p := filepath.Join(dir, model.ConfigFile)
	var cf configFile
	data, err := os.ReadFile(p)
	if err != nil {
		return cf, p, err
	}
	if err := json.Unmarshal(data, &cf); err != nil {
		return cf, p, fmt.Errorf("%s: %w", p, err)
	}
	return cf, p, nil
}

// IsInt8 reports whether dir holds an INT8 checkpoint, by its config.json's
// "quantization" key; a missing or unreadable config.json is not one.
func IsInt8(dir string) bool {
	cf, _, err := readConfig(dir)
	return err == nil && cf.Quantization == Int8
}

// LoadInt8 reads the INT8 checkpoint in dir: its config (format version, validity,
// quantization key), its labels (encoders) and its weights, checked against the
// config. Errors name the file and, for the weights, the tensor.
func LoadInt8(dir string) (model.Config, []string, infer.QuantizedWeights, error) {
	var q infer.QuantizedWeights
	cf, cfgPath, err := readConfig(dir)
	if err != nil {
		return model.Config{}, nil, q, fmt.Errorf("load int8: %w", err)
	}
	c := cf.Config
	switch {
	case cf.FormatVersion != model.CheckpointFormatVersion:
		return c, nil, q, fmt.Errorf("load int8 %s: format_version %d, this build reads %d", cfgPath, cf.FormatVersion, model.CheckpointFormatVersion)
	case cf.Quantization != Int8:
		return c, nil, q, fmt.Errorf("load int8 %s: quantization %q, want %q (a float32 checkpoint loads with model.LoadModel)", cfgPath, cf.Quantization, Int8)
	}
	if err := c.Validate(); err != nil {
		return c, nil, q, fmt.Errorf("load int8 %s: %w", cfgPath, err)
	}
	if c.Arch == model.ArchEncoder && cf.Labels != nil && len(cf.Labels) != c.NumClasses {
		return c, nil, q, fmt.Errorf("load int8 %s: %d labels for num_classes %d", cfgPath, len(cf.Labels), c.NumClasses)
	}
	wPath := filepath.Join(dir, Int8WeightsFile)
	data, err := os.ReadFile(wPath)
	if err != nil {
		return c, nil, q, fmt.Errorf("load int8: %w", err)
	}
	if q, _, err = decode(data); err != nil {
		return c, nil, q, fmt.Errorf("load int8 %s: %w", wPath, err)
	}
	if err := q.Check(c); err != nil {
		return c, nil, q, fmt.Errorf("load int8 %s: %w", wPath, err)
	}
	return c, cf.Labels, q, nil
}

// LoadClassifier loads the INT8 encoder checkpoint in dir as a classifier that
// computes from the INT8 weights, with its class names (index = class id): the
// student runner's path for a directory where IsInt8 holds.
func LoadClassifier(dir string) (*infer.Classifier, []string, error) {
	c, labels, q, err := LoadInt8(dir)
	if err != nil {
		return nil, nil, err
	}
	if c.Arch != model.ArchEncoder {
		return nil, nil, fmt.Errorf("load int8 classifier %s: arch %q is not an encoder", dir, c.Arch)
	}
	if len(labels) != c.NumClasses {
		return nil, nil, fmt.Errorf("load int8 classifier %s: %d labels for %d classes", dir, len(labels), c.NumClasses)
	}
	cls, err := infer.NewClassifierQuantized(c, q)
	if err != nil {
		return nil, nil, fmt.Errorf("load int8 classifier %s: %w", dir, err)
	}
	return cls, labels, nil
}
