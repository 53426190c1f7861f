package lora

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/cyclecore/mlmforge/distill/export"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
)

// Kinds of base model directories.
const (
	// KindCheckpoint is an mlmforge checkpoint (config.json with format_version).
	KindCheckpoint = "mlmforge"
	// KindHF is a Hugging Face Llama directory (export.LoadHF).
	KindHF = "hf"
	// KindGGUF is a llama GGUF file (export.ReadGGUF), e.g. an Ollama model blob.
	KindGGUF = "gguf"
)

// Base is the frozen model an adapter is trained on and merged into.
type Base struct {
	// Dir is the base directory, absolute.
	Dir string
	// Kind is KindCheckpoint or KindHF.
	Kind string
	// Digest is the hex sha256 of the base's weight file(s) (see WeightsDigest).
	Digest string
	// Config is the base architecture; Weights its tensors.
	Config  model.Config
	Weights model.Weights
	// Preset is the base checkpoint's preset ("" for Hugging Face directories).
	Preset string
	// TokenizerPath is the base's tokenizer.json ("" for a GGUF file, whose
	// tokenizer is in its metadata).
	TokenizerPath string
	// Tokenizer is the base's tokenizer, loaded.
	Tokenizer *tokenizer.Tokenizer
}

// LoadBase reads a pretrained base: an mlmforge checkpoint or a Hugging Face
// directory (told apart by config.json's format_version key), or a GGUF file, with
// its tokenizer, and digests its weights. Only decoders can be bases (of LoRA
// adapters or of full fine-tuning).
func LoadBase(dir string) (*Base, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("lora base %s: %w", dir, err)
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		return loadGGUFBase(abs)
	}
	data, err := os.ReadFile(filepath.Join(abs, model.ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("lora base: %w", err)
	}
	var probe struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("lora base %s: %s: %w", abs, model.ConfigFile, err)
	}
	b := &Base{Dir: abs, TokenizerPath: filepath.Join(abs, model.TokenizerFile)}
	if probe.FormatVersion != nil {
		ck, err := model.LoadModel(abs)
		if err != nil {
			return nil, fmt.Errorf("lora base: %w", err)
		}
		b.Kind = KindCheckpoint
		b.Config = ck.Config
		b.Weights = ck.Weights
		b.Preset = ck.Preset
	} else {
		m, err := export.LoadHF(abs)
		if err != nil {
			return nil, fmt.Errorf("lora base: %w", err)
		}
		b.Kind, b.Config, b.Weights = KindHF, m.Config, m.Weights
	}
	if b.Config.Arch != model.ArchDecoder {
		return nil, fmt.Errorf("lora base %s: arch %q: LoRA adapts decoders only", abs, b.Config.Arch)
	}
	if b.Tokenizer, err = tokenizer.Load(b.TokenizerPath); err != nil {
		return nil, fmt.Errorf("lora base %s: %w", abs, err)
	}
	if b.Digest, err = WeightsDigest(abs); err != nil {
		return nil, err
	}
	return b, nil
}

// loadGGUFBase reads a GGUF file as a base; its digest is the file's sha256.
func loadGGUFBase(path string) (*Base, error) {
	m, err := export.ReadGGUF(path)
	if err != nil {
		return nil, fmt.Errorf("lora base: %w", err)
	}
	if m.Config.Arch != model.ArchDecoder {
		return nil, fmt.Errorf("lora base %s: arch %q: only decoders can be bases", path, m.Config.Arch)
	}
	b := &Base{Dir: path, Kind: KindGGUF, Config: m.Config, Weights: m.Weights, Tokenizer: m.Tokenizer}
	if b.Digest, err = fileDigest(path); err != nil {
		return nil, err
	}
	return b, nil
}

// fileDigest is the hex sha256 of one file.
func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("digest weights: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("digest weights %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WeightsDigest is the hex sha256 of a model directory's weights: of model.safetensors
// (what `sha256sum model.safetensors` prints), or, for a sharded Hugging Face
// directory, of the shards named by model.safetensors.index.json concatenated in name
// order.
func WeightsDigest(dir string) (string, error) {
	files := []string{filepath.Join(dir, model.WeightsFile)}
	if _, err := os.Stat(files[0]); errors.Is(err, os.ErrNotExist) {
		if files, err = shardFiles(dir); err != nil {
			return "", err
		}
	}
	if len(files) == 1 {
		return fileDigest(files[0])
	}
	h := sha256.New()
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return "", fmt.Errorf("digest weights: %w", err)
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("digest weights %s: %w", p, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// shardFiles lists the shard paths of a sharded directory in name order.
func shardFiles(dir string) ([]string, error) {
	idxPath := filepath.Join(dir, export.IndexFile)
	data, err := os.ReadFile(idxPath)
	if err != nil {
		return nil, fmt.Errorf("digest weights %s: no %s and %w", dir, model.WeightsFile, err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("digest weights %s: %w", idxPath, err)
	}
	shards := map[string]bool{}
	for _, s := range idx.WeightMap {
		if s != filepath.Base(s) {
			return nil, fmt.Errorf("digest weights %s: weight_map: shard %q is not a file name", idxPath, s)
		}
		shards[s] = true
	}
	if len(shards) == 0 {
		return nil, fmt.Errorf("digest weights %s: weight_map: empty", idxPath)
	}
	var files []string
	for _, s := range slices.Sorted(maps.Keys(shards)) {
		files = append(files, filepath.Join(dir, s))
	}
	return files, nil
}
