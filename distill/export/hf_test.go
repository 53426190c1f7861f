package export

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

func TestHFRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *Model
	}{
		{"tied decoder", withLineage(tinyModel(t, true, 0, 1))},
		{"untied decoder with padding rows", tinyModel(t, false, 9, 2)},
		{"encoder", tinyEncoder(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "hf")
			if err := os.MkdirAll(filepath.Join(dir, "stale"), 0o755); err != nil { // replaced, not merged
				t.Fatal(err)
			}
			if err := WriteHF(dir, tc.m); err != nil {
				t.Fatal(err)
			}
			back, err := LoadHF(dir)
			if err != nil {
				t.Fatal(err)
			}
			if back.Config != tc.m.Config {
				t.Fatalf("config %+v, want %+v (diff %v)", back.Config, tc.m.Config, back.Config.Diff(tc.m.Config))
			}
			requireSameWeights(t, back.Weights, tc.m.Weights)
			requireSameTokenizer(t, back.Tokenizer, tc.m.Tokenizer)
			if !slices.Equal(back.Labels, tc.m.Labels) || back.Roles != tc.m.Tokenizer.Roles() {
				t.Fatalf("labels %v roles %+v, want %v %+v", back.Labels, back.Roles, tc.m.Labels, tc.m.Tokenizer.Roles())
			}
			// The export is also an mlmforge checkpoint.
			ck, err := model.LoadCheckpoint(dir, &tc.m.Config)
			if err != nil {
				t.Fatalf("model.LoadCheckpoint: %v", err)
			}
			requireSameWeights(t, ck.Weights, tc.m.Weights)
			// The lineage, with the prompt style a student must be prompted in,
			// comes back both ways.
			if !maps.Equal(back.Lineage, tc.m.Lineage) || !maps.Equal(ck.Lineage, tc.m.Lineage) {
				t.Fatalf("lineage %v (LoadHF), %v (LoadCheckpoint), want %v", back.Lineage, ck.Lineage, tc.m.Lineage)
			}
			checkHFFiles(t, dir, tc.m)
		})
	}
}

// checkHFFiles checks what transformers reads in the directory.
func checkHFFiles(t *testing.T, dir string, m *Model) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}
	if m.Config.Arch == model.ArchDecoder {
		want = append(want, "generation_config.json")
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	var cfg map[string]any
	readJSON(t, filepath.Join(dir, "config.json"), &cfg)
	arch := "LlamaForCausalLM"
	if m.Config.Arch == model.ArchEncoder {
		arch = EncoderArchitecture
		if cfg["id2label"].(map[string]any)["1"] != m.Labels[1] {
			t.Errorf("id2label %v", cfg["id2label"])
		}
	}
	if a, _ := cfg["architectures"].([]any); len(a) != 1 || a[0] != arch || cfg["model_type"] != "llama" || cfg["torch_dtype"] != "float32" {
		t.Errorf("config.json architectures %v model_type %v torch_dtype %v", cfg["architectures"], cfg["model_type"], cfg["torch_dtype"])
	}
	if cfg["eos_token_id"] != float64(m.Tokenizer.EOS()) || cfg["head_dim"] != float64(m.Config.HeadDim()) {
		t.Errorf("config.json eos_token_id %v head_dim %v", cfg["eos_token_id"], cfg["head_dim"])
	}
	var tc map[string]any
	readJSON(t, filepath.Join(dir, TokenizerConfigFile), &tc)
	if tc["eos_token"] != "<|im_end|>" || tc["chat_template"] != ChatTemplate {
		t.Errorf("tokenizer_config.json eos_token %v chat_template %v", tc["eos_token"], tc["chat_template"])
	}
	if m.Config.Arch == model.ArchDecoder {
		var gen map[string]any
		readJSON(t, filepath.Join(dir, GenerationConfigFile), &gen)
		if gen["do_sample"] != false || gen["eos_token_id"] != float64(m.Tokenizer.EOS()) {
			t.Errorf("generation_config.json %v", gen)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// smolConfig is a config.json as SmolLM2-135M ships it, resized to the tiny model.
func smolConfig(m *Model) map[string]any {
	c := m.Config
	return map[string]any{
		"architectures": []string{"LlamaForCausalLM"}, "attention_bias": false, "attention_dropout": 0.0,
		"bos_token_id": 0, "eos_token_id": 0, "hidden_act": "silu", "hidden_size": c.Hidden,
		"initializer_range": 0.041666666666666664, "intermediate_size": c.Intermediate, "is_llama_config": true,
		"max_position_embeddings": c.MaxSeq, "model_type": "llama", "num_attention_heads": c.Heads,
		"num_hidden_layers": c.Layers, "num_key_value_heads": c.KVHeads, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
		"rope_interleaved": false, "rope_scaling": nil, "rope_theta": c.RopeTheta, "tie_word_embeddings": c.TiedEmbeddings,
		"torch_dtype": "bfloat16", "transformers_version": "4.40.1", "use_cache": true, "vocab_size": c.Vocab,
	}
}

// writeHFDir writes a Hugging Face directory the way transformers' save_pretrained
// does: config.json, tokenizer.json and the weights in two shards with an index, plus
// the buffers transformers may leave in (a rotary inv_freq, the tied lm_head).
func writeHFDir(t *testing.T, m *Model, cfg map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Tokenizer.Save(filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Fatal(err)
	}
	shards := []model.Weights{{}, {}}
	index := map[string]string{}
	for i, p := range m.Config.Params() {
		shards[i%2][p.Name] = m.Weights[p.Name]
	}
	shards[0]["model.layers.0.self_attn.rotary_emb.inv_freq"] = &model.Tensor{Shape: []int{8}, Data: make([]float32, 8)}
	shards[1]["lm_head.weight"] = m.Weights["model.embed_tokens.weight"]
	for i, sw := range shards {
		name := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[i]
		if err := model.WriteSafetensors(filepath.Join(dir, name), sw, map[string]string{"format": "pt"}); err != nil {
			t.Fatal(err)
		}
		for n := range sw {
			index[n] = name
		}
	}
	idx, err := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 1}, "weight_map": index})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, IndexFile), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadHFShardedSmolLM2Style(t *testing.T) {
	m := tinyModel(t, true, 4, 5)
	back, err := LoadHF(writeHFDir(t, m, smolConfig(m)))
	if err != nil {
		t.Fatal(err)
	}
	if back.Config != m.Config {
		t.Fatalf("config diff %v", back.Config.Diff(m.Config))
	}
	requireSameWeights(t, back.Weights, m.Weights)
	requireSameTokenizer(t, back.Tokenizer, m.Tokenizer)
	if back.Roles.BOS != 0 || back.Roles.EOS != 0 { // config.json's ids win over the tokenizer's
		t.Errorf("roles %+v, want bos and eos 0 from config.json", back.Roles)
	}
}

func TestLoadHFErrors(t *testing.T) {
	m := tinyModel(t, true, 0, 6)
	for _, tc := range []struct {
		name string
		edit func(cfg map[string]any)
		dir  func(dir string) // damages the directory
		want []string
	}{
		{name: "llama3 rope scaling", edit: func(c map[string]any) {
			c["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 8.0}
		}, want: []string{"config.json", "rope_scaling", "llama3"}},
		{name: "linear rope scaling", edit: func(c map[string]any) {
			c["rope_scaling"] = map[string]any{"type": "linear", "factor": 2.0}
		}, want: []string{"rope_scaling", "linear"}},
		{name: "missing hidden_size", edit: func(c map[string]any) { delete(c, "hidden_size") },
			want: []string{"hidden_size: missing"}},
		{name: "biases", edit: func(c map[string]any) { c["attention_bias"] = true }, want: []string{"attention_bias"}},
		{name: "head_dim", edit: func(c map[string]any) { c["head_dim"] = 32 }, want: []string{"head_dim: 32"}},
		{name: "gelu", edit: func(c map[string]any) { c["hidden_act"] = "gelu" }, want: []string{"hidden_act"}},
		{name: "qwen2", edit: func(c map[string]any) { c["model_type"] = "qwen2" }, want: []string{`model_type: "qwen2"`}},
		{name: "wrong vocab", edit: func(c map[string]any) { c["vocab_size"] = 400 },
			want: []string{"model.embed_tokens.weight", "[400 64]"}},
		{name: "missing shard", dir: func(d string) {
			os.Remove(filepath.Join(d, "model-00002-of-00002.safetensors"))
		}, want: []string{"model-00002-of-00002.safetensors"}},
		{name: "index disagrees", dir: func(d string) {
			p := filepath.Join(d, IndexFile)
			var idx struct {
				WeightMap map[string]string `json:"weight_map"`
			}
			data, _ := os.ReadFile(p)
			json.Unmarshal(data, &idx)
			other := map[string]string{"model-00001-of-00002.safetensors": "model-00002-of-00002.safetensors",
				"model-00002-of-00002.safetensors": "model-00001-of-00002.safetensors"}
			idx.WeightMap["model.norm.weight"] = other[idx.WeightMap["model.norm.weight"]]
			data, _ = json.Marshal(idx)
			os.WriteFile(p, data, 0o644)
		}, want: []string{"model.norm.weight", "weight_map"}},
		{name: "no weights", dir: func(d string) { os.Remove(filepath.Join(d, IndexFile)) },
			want: []string{"model.safetensors", IndexFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smolConfig(m)
			if tc.edit != nil {
				tc.edit(cfg)
			}
			dir := writeHFDir(t, m, cfg)
			if tc.dir != nil {
				tc.dir(dir)
			}
			_, err := LoadHF(dir)
			if err == nil {
				t.Fatal("LoadHF: no error")
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestFromCheckpoint(t *testing.T) {
	m := tinyModel(t, true, 0, 8)
	dir := filepath.Join(t.TempDir(), "ck")
	ck := &model.Checkpoint{Config: m.Config, Weights: m.Weights, Preset: "tiny"}
	if err := model.SaveCheckpoint(dir, ck, m.Tokenizer.Save); err != nil {
		t.Fatal(err)
	}
	loaded, err := model.LoadCheckpoint(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FromCheckpoint(loaded)
	if err != nil {
		t.Fatal(err)
	}
	requireSameWeights(t, got.Weights, m.Weights)
	requireSameTokenizer(t, got.Tokenizer, m.Tokenizer)
	if err := os.Remove(filepath.Join(dir, model.TokenizerFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := FromCheckpoint(loaded); err == nil || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Fatalf("without tokenizer.json: error %v", err)
	}
}
