package model

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testCheckpoint builds a small encoder checkpoint with optimizer moments and state.
func testCheckpoint(t *testing.T) *Checkpoint {
	t.Helper()
	p, err := LookupPreset("tiny-intent")
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.Config
	cfg.NumClasses = 3
	w := Init(cfg, 7)
	m, v := NewWeights(cfg), NewWeights(cfg)
	for n := range w {
		for i := range m[n].Data {
			m[n].Data[i] = float32(i) * 1e-3
			v[n].Data[i] = float32(i) * 1e-6
		}
	}
	return &Checkpoint{Config: cfg, Preset: p.Name, Lineage: map[string]string{"dataset": "edgeintent/v1"},
		Labels: []string{"a", "b", "c"}, Weights: w, OptimM: m, OptimV: v,
		TrainerState: json.RawMessage(`{"step":10}`)}
}

// TestCheckpointRoundTrip saves and loads a checkpoint and compares every part exactly.
func TestCheckpointRoundTrip(t *testing.T) {
	ck := testCheckpoint(t)
	root := t.TempDir()
	dir := filepath.Join(root, "ckpt")
	saveTok := func(path string) error { return os.WriteFile(path, []byte(`{"model":{}}`), 0o644) }
	if err := SaveCheckpoint(dir, ck, saveTok); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(dir, &ck.Config)
	if err != nil {
		t.Fatal(err)
	}
	if d := got.Config.Diff(ck.Config); len(d) > 0 {
		t.Errorf("config differs: %v", d)
	}
	if got.Preset != ck.Preset || got.Lineage["dataset"] != "edgeintent/v1" || strings.Join(got.Labels, ",") != "a,b,c" {
		t.Errorf("preset %q lineage %v labels %v", got.Preset, got.Lineage, got.Labels)
	}
	for _, pair := range [][2]Weights{{got.Weights, ck.Weights}, {got.OptimM, ck.OptimM}, {got.OptimV, ck.OptimV}} {
		for n, want := range pair[1] {
			for i, x := range want.Data {
				if math.Float32bits(pair[0][n].Data[i]) != math.Float32bits(x) {
					t.Fatalf("tensor %s[%d] = %g, want %g", n, i, pair[0][n].Data[i], x)
				}
			}
		}
	}
	if string(got.TrainerState) != `{"step":10}` {
		t.Errorf("trainer state %s", got.TrainerState)
	}
	if got.TokenizerPath() != filepath.Join(dir, TokenizerFile) {
		t.Errorf("tokenizer path %q", got.TokenizerPath())
	}
	var cfgJSON map[string]any
	data, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err := json.Unmarshal(data, &cfgJSON); err != nil {
		t.Fatal(err)
	}
	if cfgJSON["hidden_size"] != float64(64) || cfgJSON["format_version"] != float64(CheckpointFormatVersion) {
		t.Errorf("config.json is not flat HF-style: %s", data)
	}
	// Overwrite in place: the new content wins and nothing temporary is left behind.
	ck.TrainerState = json.RawMessage(`{"step":20}`)
	if err := SaveCheckpoint(dir, ck, nil); err != nil {
		t.Fatal(err)
	}
	got, err = LoadCheckpoint(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.TrainerState) != `{"step":20}` || got.TokenizerPath() != "" {
		t.Errorf("after overwrite: state %s tokenizer %q", got.TrainerState, got.TokenizerPath())
	}
	assertOnly(t, root, "ckpt")
}

// assertOnly fails if dir holds anything but the named entries (temp leftovers).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(names) {
		var have []string
		for _, e := range ents {
			have = append(have, e.Name())
		}
		t.Errorf("%s holds %v, want only %v", dir, have, names)
	}
}

// TestCheckpointMismatch checks the error texts of loading into the wrong model or an
// unknown format.
func TestCheckpointMismatch(t *testing.T) {
	ck := testCheckpoint(t)
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := SaveCheckpoint(dir, ck, nil); err != nil {
		t.Fatal(err)
	}
	want := ck.Config
	want.Hidden, want.Layers = 128, 3
	_, err := LoadCheckpoint(dir, &want)
	if err == nil {
		t.Fatal("loaded into a different config")
	}
	for _, s := range []string{"hidden_size: 64 != 128", "num_hidden_layers: 2 != 3", dir} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}

	cfgPath := filepath.Join(dir, ConfigFile)
	data, _ := os.ReadFile(cfgPath)
	bumped := strings.Replace(string(data), `"format_version": 1`, `"format_version": 99`, 1)
	if err := os.WriteFile(cfgPath, []byte(bumped), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(dir, nil); err == nil || !strings.Contains(err.Error(), "format_version 99, this build reads 1") {
		t.Errorf("error %v, want a format version error", err)
	}
	if err := os.WriteFile(cfgPath, data, 0o644); err != nil {
		t.Fatal(err)
	}

	// A weight file of another shape is caught even when config.json is right.
	other := ck.Config
	other.NumClasses = 4
	w := Init(other, 1)
	if err := WriteSafetensors(filepath.Join(dir, WeightsFile), w, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(dir, nil); err == nil || !strings.Contains(err.Error(), "tensor classifier.bias: shape [4], config wants [3]") {
		t.Errorf("error %v, want a shape error naming the tensor", err)
	}
}

// TestCheckpointOptimizerMismatch checks that a moment file missing a tensor is refused.
func TestCheckpointOptimizerMismatch(t *testing.T) {
	ck := testCheckpoint(t)
	delete(ck.OptimV, "classifier.bias")
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := SaveCheckpoint(dir, ck, nil); err != nil {
		t.Fatal(err)
	}
	_, err := LoadCheckpoint(dir, nil)
	if err == nil || !strings.Contains(err.Error(), "tensor v.classifier.bias") {
		t.Errorf("error %v, want one naming v.classifier.bias", err)
	}
}

// TestCheckpointFailedSave checks that a failing tokenizer callback leaves neither the
// checkpoint nor a temp directory, and keeps an existing checkpoint intact.
func TestCheckpointFailedSave(t *testing.T) {
	ck := testCheckpoint(t)
	root := t.TempDir()
	dir := filepath.Join(root, "ckpt")
	boom := errors.New("disk full")
	err := SaveCheckpoint(dir, ck, func(string) error { return boom })
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Errorf("error %v, want the callback's error naming tokenizer.json", err)
	}
	assertOnly(t, root)
	if err := SaveCheckpoint(dir, ck, nil); err != nil {
		t.Fatal(err)
	}
	if err := SaveCheckpoint(dir, ck, func(string) error { return boom }); err == nil {
		t.Fatal("no error")
	}
	if _, err := LoadCheckpoint(dir, &ck.Config); err != nil {
		t.Errorf("old checkpoint damaged by a failed save: %v", err)
	}
	assertOnly(t, root, "ckpt")
}

// BenchmarkSaveLoadCheckpoint times an atomic save and a load of the nlm-5m-intent
// preset with optimizer moments (three F32 copies of the weights).
func BenchmarkSaveLoadCheckpoint(b *testing.B) {
	p, err := LookupPreset("nlm-5m-intent")
	if err != nil {
		b.Fatal(err)
	}
	w := Init(p.Config, 1)
	ck := &Checkpoint{Config: p.Config, Weights: w, OptimM: w, OptimV: w, TrainerState: json.RawMessage(`{}`)}
	dir := filepath.Join(b.TempDir(), "ckpt")
	b.SetBytes(int64(3 * 4 * p.Config.NumParams()))
	for range b.N {
		if err := SaveCheckpoint(dir, ck, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := LoadCheckpoint(dir, &p.Config); err != nil {
			b.Fatal(err)
		}
	}
}
