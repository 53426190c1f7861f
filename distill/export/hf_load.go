package export

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
	"github.com/cyclecore/mlmforge/distill/tokenizer"
)

// Files of a Hugging Face model directory beyond those of model's checkpoints.
const (
	// IndexFile maps tensor names to shard files in a sharded checkpoint.
	IndexFile = "model.safetensors.index.json"
	// GenerationConfigFile holds the generation defaults (bos/eos ids, greedy decoding).
	GenerationConfigFile = "generation_config.json"
	// TokenizerConfigFile holds transformers' tokenizer settings and the chat template.
	TokenizerConfigFile = "tokenizer_config.json"
)

// hfConfig is the part of a Hugging Face LlamaConfig (config.json) that LoadHF reads.
// Pointers tell a missing key from a zero; keys not listed are ignored.
type hfConfig struct {
	HiddenSize        *int     `json:"hidden_size"`
	NumHiddenLayers   *int     `json:"num_hidden_layers"`
	NumAttentionHeads *int     `json:"num_attention_heads"`
	NumKeyValueHeads  *int     `json:"num_key_value_heads"`
	IntermediateSize  *int     `json:"intermediate_size"`
	VocabSize         *int     `json:"vocab_size"`
	MaxPosition       *int     `json:"max_position_embeddings"`
	RopeTheta         *float64 `json:"rope_theta"`
	RMSNormEps        *float64 `json:"rms_norm_eps"`
	TieWordEmbeddings *bool    `json:"tie_word_embeddings"`
	// Checked only to refuse what our model does not compute.
	RopeScaling     json.RawMessage `json:"rope_scaling"`
	RopeInterleaved bool            `json:"rope_interleaved"`
	HeadDim         *int            `json:"head_dim"`
	HiddenAct       string          `json:"hidden_act"`
	AttentionBias   bool            `json:"attention_bias"`
	MLPBias         bool            `json:"mlp_bias"`
	ModelType       string          `json:"model_type"`
	// Roles and mlmforge's own keys (present in checkpoints and WriteHF output).
	BOS        json.RawMessage   `json:"bos_token_id"`
	EOS        json.RawMessage   `json:"eos_token_id"`
	PAD        json.RawMessage   `json:"pad_token_id"`
	Arch       string            `json:"arch"`
	NumClasses int               `json:"num_classes"`
	Pooling    string            `json:"pooling"`
	Labels     []string          `json:"labels"`
	Lineage    map[string]string `json:"lineage"`
}

// LoadHF reads a Hugging Face Llama / SmolLM2 directory: config.json, model.safetensors
// (or the shards listed in model.safetensors.index.json; F32, F16 or BF16) and
// tokenizer.json. Buffers such as rotary_emb.inv_freq and a redundant lm_head of a tied
// model are dropped; any other tensor the config does not explain is an error. Errors
// name the file and the field or tensor.
func LoadHF(dir string) (*Model, error) {
	cfgPath := filepath.Join(dir, model.ConfigFile)
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("load hf: %w", err)
	}
	var hc hfConfig
	if err := json.Unmarshal(data, &hc); err != nil {
		return nil, fmt.Errorf("load hf %s: %w", cfgPath, err)
	}
	cfg, err := hc.toConfig()
	if err != nil {
		return nil, fmt.Errorf("load hf %s: %w", cfgPath, err)
	}
	w, err := readHFWeights(dir)
	if err != nil {
		return nil, fmt.Errorf("load hf: %w", err)
	}
	dropBuffers(w, cfg)
	if err := w.Check(cfg); err != nil {
		return nil, fmt.Errorf("load hf %s: %w", dir, err)
	}
	tok, err := tokenizer.Load(filepath.Join(dir, model.TokenizerFile))
	if err != nil {
		return nil, fmt.Errorf("load hf: %w", err)
	}
	m := &Model{Config: cfg, Weights: w, Tokenizer: tok, Labels: hc.Labels, Lineage: hc.Lineage}
	if m.Roles, err = hc.roles(tok); err != nil {
		return nil, fmt.Errorf("load hf %s: %w", cfgPath, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("load hf %s: %w", dir, err)
	}
	return m, nil
}

// toConfig maps the Hugging Face keys to a Config, with LlamaConfig's defaults for the
// optional ones, and refuses the options our model does not implement.
func (hc hfConfig) toConfig() (model.Config, error) {
	var errs []error
	need := func(field string, p *int) int {
		if p == nil {
			errs = append(errs, fmt.Errorf("%s: missing", field))
			return 0
		}
		return *p
	}
	c := model.Config{Arch: model.ArchDecoder, RopeTheta: 10000, NormEps: 1e-6}
	c.Hidden = need("hidden_size", hc.HiddenSize)
	c.Layers = need("num_hidden_layers", hc.NumHiddenLayers)
	c.Heads = need("num_attention_heads", hc.NumAttentionHeads)
	c.Intermediate = need("intermediate_size", hc.IntermediateSize)
	c.Vocab = need("vocab_size", hc.VocabSize)
	c.MaxSeq = need("max_position_embeddings", hc.MaxPosition)
	c.KVHeads = c.Heads
	if hc.NumKeyValueHeads != nil {
		c.KVHeads = *hc.NumKeyValueHeads
	}
	if hc.RopeTheta != nil {
		c.RopeTheta = *hc.RopeTheta
	}
	if hc.RMSNormEps != nil {
		c.NormEps = *hc.RMSNormEps
	}
	if hc.TieWordEmbeddings != nil {
		c.TiedEmbeddings = *hc.TieWordEmbeddings
	}
	if hc.Arch != "" {
		c.Arch, c.NumClasses, c.Pooling = hc.Arch, hc.NumClasses, hc.Pooling
		if c.Arch == model.ArchEncoder {
			c.TiedEmbeddings = false
		}
	}
	errs = append(errs, hc.unsupported(c)...)
	if len(errs) == 0 {
		errs = append(errs, c.Validate())
	}
	return c, errors.Join(errs...)
}

// unsupported lists the config options that would make our forward pass differ from
// the model's.
func (hc hfConfig) unsupported(c model.Config) []error {
	var errs []error
	if err := checkRopeScaling(hc.RopeScaling); err != nil {
		errs = append(errs, err)
	}
	if hc.RopeInterleaved {
		errs = append(errs, errors.New("rope_interleaved: true is not supported (our RoPE is rotate_half)"))
	}
	if hc.HeadDim != nil && c.Heads > 0 && *hc.HeadDim != c.Hidden/c.Heads {
		errs = append(errs, fmt.Errorf("head_dim: %d, but our model needs hidden_size/num_attention_heads = %d", *hc.HeadDim, c.Hidden/c.Heads))
	}
	if hc.HiddenAct != "" && hc.HiddenAct != "silu" {
		errs = append(errs, fmt.Errorf("hidden_act: %q not supported (want silu)", hc.HiddenAct))
	}
	if hc.AttentionBias || hc.MLPBias {
		errs = append(errs, errors.New("attention_bias/mlp_bias: biases are not supported"))
	}
	if hc.ModelType != "" && hc.ModelType != "llama" {
		errs = append(errs, fmt.Errorf("model_type: %q not supported (want llama)", hc.ModelType))
	}
	return errs
}

// checkRopeScaling accepts a missing or null rope_scaling, or one whose type is
// "default" (no scaling); our RoPE implements no scaling scheme.
func checkRopeScaling(raw json.RawMessage) error {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return nil
	}
	var rs struct {
		Type     string `json:"type"`
		RopeType string `json:"rope_type"`
	}
	if err := json.Unmarshal(raw, &rs); err != nil {
		return fmt.Errorf("rope_scaling: %w", err)
	}
	kind := rs.RopeType
	if kind == "" {
		kind = rs.Type
	}
	if kind == "default" {
		return nil
	}
	return fmt.Errorf("rope_scaling: %q scaling is not supported (our RoPE has no scaling; want null)", kind)
}

// roles reads bos/eos/pad_token_id (an int, a list whose first id counts, or null),
// falling back to the tokenizer's roles where the config has none.
func (hc hfConfig) roles(tok *tokenizer.Tokenizer) (tokenizer.Roles, error) {
	r := tok.Roles()
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *int
	}{{"bos_token_id", hc.BOS, &r.BOS}, {"eos_token_id", hc.EOS, &r.EOS}, {"pad_token_id", hc.PAD, &r.PAD}} {
		s := strings.TrimSpace(string(f.raw))
		if s == "" || s == "null" {
			continue
		}
		var id int
		var ids []int
		switch {
		case json.Unmarshal(f.raw, &id) == nil:
		case json.Unmarshal(f.raw, &ids) == nil && len(ids) > 0:
			id = ids[0]
		default:
			return r, fmt.Errorf("%s: want an id or a list of ids, got %s", f.name, s)
		}
		*f.dst = id
	}
	return r, nil
}

// readHFWeights reads model.safetensors, or every shard named by the index file.
func readHFWeights(dir string) (model.Weights, error) {
	single := filepath.Join(dir, model.WeightsFile)
	if _, err := os.Stat(single); err == nil {
		w, _, err := model.ReadSafetensors(single)
		return w, err
	}
	idxPath := filepath.Join(dir, IndexFile)
	data, err := os.ReadFile(idxPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: neither %s nor %s found", dir, model.WeightsFile, IndexFile)
	}
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", idxPath, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("%s: weight_map: missing or empty", idxPath)
	}
	shards := map[string]bool{}
	for _, shard := range idx.WeightMap {
		shards[shard] = true
	}
	w := model.Weights{}
	for _, shard := range slices.Sorted(maps.Keys(shards)) {
		if shard != filepath.Base(shard) {
			return nil, fmt.Errorf("%s: weight_map: shard %q is not a file name in %s", idxPath, shard, dir)
		}
		sw, _, err := model.ReadSafetensors(filepath.Join(dir, shard))
		if err != nil {
			return nil, err
		}
		for name, t := range sw {
			if want := idx.WeightMap[name]; want != shard {
				return nil, fmt.Errorf("%s: tensor %s found in %s but weight_map says %q", idxPath, name, shard, want)
			}
			w[name] = t
		}
	}
	for name, shard := range idx.WeightMap {
		if _, ok := w[name]; !ok {
			return nil, fmt.Errorf("%s: weight_map: tensor %s not found in %s", idxPath, name, shard)
		}
	}
	return w, nil
}

// dropBuffers removes tensors that transformers stores but that carry no parameters:
// rotary inverse frequencies (recomputed from rope_theta) and the lm_head of a model
// with tied embeddings (transformers ignores it in favour of embed_tokens).
func dropBuffers(w model.Weights, c model.Config) {
	for name := range w {
		if strings.HasSuffix(name, ".rotary_emb.inv_freq") {
			delete(w, name)
		}
	}
	if c.Arch == model.ArchDecoder && c.TiedEmbeddings {
		delete(w, "lm_head.weight")
	}
}
