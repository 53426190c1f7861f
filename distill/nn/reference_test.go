package nn

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

// python is the interpreter that sees Debian's python3-torch.
const python = "/usr/bin/python3"

// refCase is one reference comparison: a config, a batch and the loss options.
type refCase struct {
	name  string
	cfg   model.Config
	batch model.Batch
	opts  Options
}

// writeCase writes case.json and the raw float32 weights for testdata/reference.py.
func writeCase(t *testing.T, dir string, c refCase, n *Net) {
	t.Helper()
	type param struct {
		Name  string `json:"name"`
		Shape []int  `json:"shape"`
		File  string `json:"file"`
	}
	var ps []param
	for i, p := range n.Params() {
		file := fmt.Sprintf("param_%d.bin", i)
		buf := make([]byte, 4*len(p.Data))
		for j, v := range p.Data {
			binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
		}
		if err := os.WriteFile(filepath.Join(dir, file), buf, 0o644); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, param{p.Name, p.Shape, file})
	}
	b := c.batch
	doc := map[string]any{
		"config": c.cfg,
		"batch": map[string]any{"B": b.B, "T": b.T, "tokens": b.Tokens, "targets": b.Targets, "valid": b.Valid,
			"labels": b.Labels, "soft": b.Soft, "weights": b.Weights},
		"options": map[string]float64{"alpha": c.opts.KDAlpha, "temperature": max(c.opts.KDTemperature, 1)},
		"params":  ps,
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "case.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readF64(t *testing.T, path string) []float64 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float64, len(raw)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return v
}

// TestMatchesPyTorch compares logits, loss and every parameter gradient with the same
// models written in PyTorch (testdata/reference.py, float64) on tiny configs.
func TestMatchesPyTorch(t *testing.T) {
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		t.Skipf("%s cannot import torch (%v): install python3-torch (apt-get install python3-torch) to run the PyTorch reference", python, err)
	}
	untied := tinyDecoder()
	untied.TiedEmbeddings, untied.KVHeads = false, 4
	first := tinyEncoder()
	first.Pooling, first.KVHeads = model.PoolFirst, 2
	enc := model.Batch{B: 2, T: 5, Tokens: []int32{3, 7, 9, 0, 0, 4, 4, 8, 1, 2},
		Valid: []float32{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, Labels: []int32{2, 4}, Weights: []float32{1, 0.5},
		Soft: []float32{0, 0.1, 0.8, 0.1, 0, 0.2, 0.2, 0.2, 0.2, 0.2}}
	weighted := lmBatch(tinyDecoder(), 3, 8, 9)
	weighted.Weights = []float32{1, 0.25, 2}
	cases := []refCase{
		{"decoder tied gqa", tinyDecoder(), weighted, Options{}},
		{"decoder untied", untied, lmBatch(untied, 2, 6, 10), Options{}},
		{"encoder mean kd", tinyEncoder(), enc, Options{KDAlpha: 0.6, KDTemperature: 2}},
		{"encoder first ce", first, model.Batch{B: enc.B, T: enc.T, Tokens: enc.Tokens, Valid: enc.Valid, Labels: enc.Labels}, Options{}},
	}
	root := t.TempDir()
	nets := make([]*Net, len(cases))
	var dirs []string
	for i, c := range cases {
		nets[i] = newNet(t, c.cfg, c.opts)
		dir := filepath.Join(root, fmt.Sprint(i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeCase(t, dir, c, nets[i])
		dirs = append(dirs, dir)
	}
	cmd := exec.Command(python, append([]string{filepath.Join("testdata", "reference.py")}, dirs...)...)
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("reference.py: %v\n%s", err, out)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) { compareReference(t, nets[i], c, dirs[i]) })
	}
}

func compareReference(t *testing.T, n *Net, c refCase, dir string) {
	logits, err := n.Logits(c.batch)
	if err != nil {
		t.Fatal(err)
	}
	want := readF64(t, filepath.Join(dir, "logits.bin"))
	if len(want) != len(logits) {
		t.Fatalf("%d logits, reference has %d", len(logits), len(want))
	}
	var top float64
	for _, w := range want {
		top = math.Max(top, math.Abs(w))
	}
	// 1e-4 absolute, and 1e-5 of the largest logit since the tiny models' logits are small.
	for i, w := range want {
		if d := math.Abs(float64(logits[i]) - w); d > 1e-4 || d > 1e-5*top {
			t.Fatalf("logit %d = %.7f, PyTorch %.7f (max |logit| %.3g)", i, logits[i], w, top)
		}
	}
	loss, err := n.ForwardBackward(c.batch)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Loss float64 }
	raw, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	if math.Abs(loss-out.Loss) > 1e-5 {
		t.Fatalf("loss %.7f, PyTorch %.7f", loss, out.Loss)
	}
	var rel float64
	defer func() { t.Logf("worst gradient error relative to the tensor's max |grad|: %.3g", rel) }()
	for i, p := range n.Params() {
		ref := readF64(t, filepath.Join(dir, fmt.Sprintf("grad_%d.bin", i)))
		var scale, worst float64
		for _, r := range ref {
			scale = math.Max(scale, math.Abs(r))
		}
		for j, r := range ref {
			worst = math.Max(worst, math.Abs(float64(p.Grad[j])-r))
		}
		// float32 arithmetic against a float64 reference: errors relative to the
		// tensor's largest gradient.
		rel = math.Max(rel, worst/scale)
		if scale == 0 || worst > 2e-5*scale {
			t.Errorf("%s: gradient max error %.3g vs max |grad| %.3g (relative %.3g)", p.Name, worst, scale, worst/scale)
		}
	}
}
