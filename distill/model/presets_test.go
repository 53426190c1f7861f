package model

import (
	"math"
	"strings"
	"testing"
)

// TestPresetSizes checks each preset against its nominal size without allocating it.
func TestPresetSizes(t *testing.T) {
	for _, p := range Presets() {
		t.Run(p.Name, func(t *testing.T) {
			if err := p.Config.Validate(); err != nil {
				t.Fatal(err)
			}
			n := p.Config.NumParams()
			t.Logf("%s: %d parameters (%.1fM)", p.Name, n, float64(n)/1e6)
			if p.Nominal == 0 {
				if n > 2_000_000 {
					t.Errorf("tiny preset has %d parameters, want < 2M", n)
				}
				return
			}
			if rel := math.Abs(float64(n-p.Nominal)) / float64(p.Nominal); rel > 0.10 {
				t.Errorf("%d parameters, %.1f%% off the nominal %d", n, rel*100, p.Nominal)
			}
		})
	}
	// SmolLM2-135M has exactly 134,515,008 parameters (tied embeddings).
	p, _ := LookupPreset("mlm-135m-json")
	if got := p.Config.NumParams(); got != 134_515_008 {
		t.Errorf("mlm-135m-json: %d parameters, SmolLM2-135M has 134515008", got)
	}
}

func TestValidateNamesFields(t *testing.T) {
	p, _ := LookupPreset("tiny-intent")
	c := p.Config
	c.Heads, c.Pooling, c.NormEps = 3, "max", 0
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"hidden_size", "num_key_value_heads", "pooling", "rms_norm_eps"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, err := LookupPreset("huge"); err == nil || !strings.Contains(err.Error(), "tiny-intent") {
		t.Errorf("LookupPreset error %v does not list the presets", err)
	}
}

func TestInitDeterministicAndChecked(t *testing.T) {
	p, _ := LookupPreset("tiny-json")
	a, b := Init(p.Config, 7), Init(p.Config, 7)
	c := Init(p.Config, 8)
	name := LayerName(1, "mlp.up_proj.weight")
	if a[name].Data[5] != b[name].Data[5] || a[name].Data[5] == c[name].Data[5] {
		t.Error("Init is not a function of the seed")
	}
	if a["model.norm.weight"].Data[0] != 1 {
		t.Error("norm weights not 1")
	}
	if err := a.Check(p.Config); err != nil {
		t.Fatal(err)
	}
	delete(a, name)
	a["extra"] = &Tensor{Shape: []int{1}, Data: []float32{0}}
	a["model.norm.weight"].Shape = []int{3}
	err := a.Check(p.Config)
	for _, want := range []string{name + ": missing", "extra: not part", "model.norm.weight: shape"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check error %v lacks %q", err, want)
		}
	}
	q := p.Config
	q.Hidden = 64
	if d := p.Config.Diff(q); len(d) != 1 || d[0] != "hidden_size: 128 != 64" {
		t.Errorf("Diff = %v", d)
	}
}
