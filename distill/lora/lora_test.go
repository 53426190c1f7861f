package lora

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/distill/export"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
)

func tinyConfig() model.Config {
	return model.Config{Arch: model.ArchDecoder, Vocab: 300, Hidden: 32, Layers: 2, Heads: 4, KVHeads: 2,
		Intermediate: 48, MaxSeq: 32, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: true}
}

// randomAdapters are adapters with non-zero B, as after training.
func randomAdapters(mc model.Config, c Config, seed uint64) model.Weights {
	rng := rand.New(rand.NewPCG(seed, 3))
	w := c.Init(mc)
	for _, p := range c.Params(mc) {
		for i := range w[p.Name].Data {
			w[p.Name].Data[i] = float32(rng.NormFloat64() * 0.1)
		}
	}
	return w
}

func TestValidate(t *testing.T) {
	cases := map[string]Config{
		"r: 0":               {Alpha: 1, Targets: []string{ModuleQ}},
		"lora_alpha":         {R: 2, Targets: []string{ModuleQ}},
		"lora_dropout: 1":    {R: 2, Alpha: 1, Dropout: 1, Targets: []string{ModuleQ}},
		"target_modules: em": {R: 2, Alpha: 1},
		`"lm_head"`:          {R: 2, Alpha: 1, Targets: []string{"lm_head"}},
		"listed twice":       {R: 2, Alpha: 1, Targets: []string{ModuleV, ModuleV}},
	}
	for want, c := range cases {
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%+v) = %v, want an error containing %q", c, err, want)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
}

// TestAdapterSize135M counts the adapters of the 135M preset at r 8 on q and v and
// checks that their safetensors file is 8 + header + 4 bytes per value: a few MB, no
// training needed.
func TestAdapterSize135M(t *testing.T) {
	p, err := model.LookupPreset("mlm-135m-json")
	if err != nil {
		t.Fatal(err)
	}
	mc, c := p.Config, Config{R: 8, Alpha: 16, Targets: []string{ModuleV, ModuleQ}}
	d, kv := mc.Hidden, mc.KVHeads*mc.HeadDim()
	want := mc.Layers * (c.R*d + d*c.R + c.R*d + kv*c.R) // q: A [8,576] B [576,8]; v: A [8,576] B [192,8]
	if got := c.NumParams(mc); got != want || got != 460_800 {
		t.Fatalf("NumParams = %d, want %d (= 460800)", got, want)
	}
	as := c.Adapters(mc)
	if len(as) != 60 || as[1].B != "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight" || as[1].Out != 192 {
		t.Fatalf("adapters: %d, second %+v", len(as), as[1])
	}
	dir := filepath.Join(t.TempDir(), "adapter")
	ck := &Checkpoint{LoRA: c, Base: BaseRef{Path: "/base", Kind: KindHF, Digest: "00", Config: mc}, Adapters: c.Init(mc)}
	if err := Save(dir, ck, nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	header := int(binary.LittleEndian.Uint64(data))
	if len(data) != 8+header+4*want {
		t.Fatalf("adapter file is %d bytes, want 8 + %d header + 4*%d", len(data), header, want)
	}
	if len(data) > 2<<20 {
		t.Fatalf("adapter file is %d bytes, want under 2 MiB", len(data))
	}
	t.Logf("mlm-135m-json r=8 q,v: %d adapter values, %d bytes (%.2f MB), header %d bytes", want, len(data), float64(len(data))/1e6, header)
}

func TestInit(t *testing.T) {
	mc, c := tinyConfig(), DefaultConfig()
	a, b := c.Init(mc), c.Init(mc)
	for _, ad := range c.Adapters(mc) {
		if !slices.Equal(a[ad.A].Data, b[ad.A].Data) {
			t.Fatalf("%s: the same seed gave different A", ad.A)
		}
		bound := float32(1 / math.Sqrt(float64(ad.In)))
		if slices.ContainsFunc(a[ad.A].Data, func(v float32) bool { return v < -bound || v > bound }) || a[ad.A].Data[0] == 0 {
			t.Fatalf("%s: values outside U(-%g, %g)", ad.A, bound, bound)
		}
		if slices.ContainsFunc(a[ad.B].Data, func(v float32) bool { return v != 0 }) {
			t.Fatalf("%s: B must start at zero", ad.B)
		}
	}
}

func TestMergeMatchesDefinition(t *testing.T) {
	mc := tinyConfig()
	c := Config{R: 3, Alpha: 6, Targets: []string{ModuleK, ModuleDown}}
	base, ad := model.Init(mc, 1), randomAdapters(mc, c, 2)
	merged, err := Merge(mc, base, c, ad)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range c.Adapters(mc) {
		A, B, W, M := ad[a.A].Data, ad[a.B].Data, base[a.Base].Data, merged[a.Base].Data
		for o := 0; o < a.Out; o++ {
			for i := 0; i < a.In; i++ {
				var s float64
				for k := 0; k < c.R; k++ {
					s += float64(B[o*c.R+k]) * float64(A[k*a.In+i])
				}
				want := float32(float64(W[o*a.In+i]) + 2*s)
				if M[o*a.In+i] != want {
					t.Fatalf("%s[%d,%d] = %g, want %g", a.Base, o, i, M[o*a.In+i], want)
				}
			}
		}
	}
	if &merged[model.LayerName(0, "self_attn.q_proj.weight")].Data[0] != &base[model.LayerName(0, "self_attn.q_proj.weight")].Data[0] {
		t.Error("an untargeted tensor was copied, want it shared")
	}
	if &merged[model.LayerName(0, "self_attn.k_proj.weight")].Data[0] == &base[model.LayerName(0, "self_attn.k_proj.weight")].Data[0] {
		t.Error("Merge modified the base in place")
	}
	delete(ad, c.Params(mc)[0].Name)
	if _, err := Merge(mc, base, c, ad); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Merge with a missing adapter: %v", err)
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	mc := tinyConfig()
	c := Config{R: 2, Alpha: 4, Dropout: 0.1, Targets: []string{ModuleQ, ModuleO}, Seed: 9}
	ad, m, v := randomAdapters(mc, c, 1), randomAdapters(mc, c, 2), randomAdapters(mc, c, 3)
	ck := &Checkpoint{LoRA: c, Base: BaseRef{Path: "/models/base", Kind: KindCheckpoint, Digest: "abc", Config: mc},
		Preset: "tiny-json", Lineage: map[string]string{"method": "lora"}, Adapters: ad, OptimM: m, OptimV: v,
		TrainerState: json.RawMessage(`{"step":3}`)}
	dir := filepath.Join(t.TempDir(), "step-3")
	saveTok := func(p string) error { return os.WriteFile(p, []byte("{}"), 0o644) }
	for range 2 { // the second Save replaces the first
		if err := Save(dir, ck, saveTok); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.LoRA.Targets, c.Targets) || got.LoRA.R != 2 || got.LoRA.Alpha != 4 || got.LoRA.Dropout != 0.1 || got.LoRA.Seed != 9 {
		t.Fatalf("config %+v, want %+v", got.LoRA, c)
	}
	if got.Base.Path != ck.Base.Path || got.Base.Digest != "abc" || got.Base.Kind != KindCheckpoint || len(got.Base.Config.Diff(mc)) > 0 {
		t.Fatalf("base %+v", got.Base)
	}
	if got.Preset != "tiny-json" || got.Lineage["method"] != "lora" || string(got.TrainerState) != `{"step":3}` {
		t.Fatalf("preset %q, lineage %v, state %s", got.Preset, got.Lineage, got.TrainerState)
	}
	for _, pair := range [][2]model.Weights{{got.Adapters, ad}, {got.OptimM, m}, {got.OptimV, v}} {
		for name, w := range pair[1] {
			if !slices.Equal(pair[0][name].Data, w.Data) {
				t.Fatalf("%s differs after the round trip", name)
			}
		}
	}
	var peft map[string]any
	data, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err := json.Unmarshal(data, &peft); err != nil || peft["peft_type"] != "LORA" || peft["lora_alpha"] != 4.0 ||
		peft["base_model_name_or_path"] != "/models/base" || peft["base_sha256"] != "abc" {
		t.Fatalf("adapter_config.json lacks PEFT's keys: %v %s", err, data)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Fatalf("Save left %d entries next to the checkpoint, want 1", len(entries))
	}
	os.WriteFile(filepath.Join(dir, ConfigFile), []byte(strings.Replace(string(data), `"format_version": 1`, `"format_version": 7`, 1)), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "format_version 7") {
		t.Fatalf("Load of format 7: %v", err)
	}
}

// TestLoadModel merges adapters into both kinds of base, and refuses a base whose
// weights changed after training.
func TestLoadModel(t *testing.T) {
	tok, err := tokenizer.Train(slices.Values([]string{"hello world", "set an alarm for seven", "play some jazz music"}),
		tokenizer.TrainConfig{VocabSize: 280, SpecialTokens: tokenizer.DefaultSpecialTokens(true)})
	if err != nil {
		t.Fatal(err)
	}
	mc := tinyConfig()
	weights := model.Init(mc, 4)
	root := t.TempDir()
	ckDir, hfDir := filepath.Join(root, "ck"), filepath.Join(root, "hf")
	if err := model.SaveCheckpoint(ckDir, &model.Checkpoint{Config: mc, Preset: "tiny-json", Weights: weights}, tok.Save); err != nil {
		t.Fatal(err)
	}
	if err := export.WriteHF(hfDir, &export.Model{Config: mc, Weights: weights, Tokenizer: tok}); err != nil {
		t.Fatal(err)
	}
	stripFormatVersion(t, filepath.Join(hfDir, model.ConfigFile)) // a plain transformers directory
	c := Config{R: 2, Alpha: 2, Targets: []string{ModuleV, ModuleUp}}
	ad := randomAdapters(mc, c, 5)
	want, err := Merge(mc, weights, c, ad)
	if err != nil {
		t.Fatal(err)
	}
	for i, dir := range []string{ckDir, hfDir} {
		base, err := LoadBase(dir)
		if err != nil {
			t.Fatal(err)
		}
		if kind := []string{KindCheckpoint, KindHF}[i]; base.Kind != kind {
			t.Fatalf("%s: kind %q, want %q", dir, base.Kind, kind)
		}
		adDir := filepath.Join(root, "adapter-"+base.Kind)
		if err := Save(adDir, &Checkpoint{LoRA: c, Base: base.Ref(), Adapters: ad, Lineage: map[string]string{"base": dir}}, tok.Save); err != nil {
			t.Fatal(err)
		}
		got, err := LoadModel(adDir)
		if err != nil {
			t.Fatalf("%s base: %v", base.Kind, err)
		}
		if got.Dir != adDir || got.TokenizerPath() == "" || got.Lineage["base"] != dir {
			t.Fatalf("%s base: checkpoint dir %q, tokenizer %q, lineage %v", base.Kind, got.Dir, got.TokenizerPath(), got.Lineage)
		}
		for name, w := range want {
			if !slices.Equal(got.Weights[name].Data, w.Data) {
				t.Fatalf("%s base: tensor %s differs from Merge", base.Kind, name)
			}
		}
	}
	plain, err := LoadModel(ckDir)
	if err != nil || plain.Preset != "tiny-json" {
		t.Fatalf("LoadModel of a plain checkpoint: %v", err)
	}
	weights[model.LayerName(1, "mlp.up_proj.weight")].Data[0] += 1
	if err := model.WriteSafetensors(filepath.Join(ckDir, model.WeightsFile), weights, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadModel(filepath.Join(root, "adapter-"+KindCheckpoint)); err == nil || !strings.Contains(err.Error(), "trained on") {
		t.Fatalf("LoadModel over a changed base: %v, want a digest error", err)
	}
}

// stripFormatVersion removes mlmforge's format_version from a config.json.
func stripFormatVersion(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "format_version")
	if data, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
