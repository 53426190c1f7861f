package quant

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cyclecore/mlmforge/distill/infer"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
)

var (
	tokOnce sync.Once
	tokPath string
	tokErr  error
)

// testTokenizer trains a ~300-id tokenizer once per test binary and returns the path
// of its tokenizer.json.
func testTokenizer(t testing.TB) string {
	t.Helper()
	tokOnce.Do(func() {
		corpus := []string{"set an alarm for seven am", "what is the weather in paris tomorrow",
			"transfer 250 dollars to savings", "book a table for two tonight", "play some jazz music please"}
		var tok *tokenizer.Tokenizer
		if tok, tokErr = tokenizer.Train(slices.Values(corpus), tokenizer.TrainConfig{
			VocabSize: 300, SpecialTokens: tokenizer.DefaultSpecialTokens(true)}); tokErr != nil {
			return
		}
		dir, err := os.MkdirTemp("", "quant-tok-*")
		if err != nil {
			tokErr = err
			return
		}
		tokPath = filepath.Join(dir, model.TokenizerFile)
		tokErr = tok.Save(tokPath)
	})
	if tokErr != nil {
		t.Fatalf("tokenizer: %v", tokErr)
	}
	return tokPath
}

// tinyCheckpoint is a random checkpoint whose weights are spread (scaled, random
// norms, one all-zero row) so that every row gets a different scale.
func tinyCheckpoint(arch string, seed uint64) *model.Checkpoint {
	c := model.Config{Arch: arch, Vocab: 320, Hidden: 32, Layers: 2, Heads: 4, KVHeads: 2, Intermediate: 48,
		MaxSeq: 24, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: arch == model.ArchDecoder}
	var labels []string
	if arch == model.ArchEncoder {
		c.NumClasses, c.Pooling = 5, model.PoolMean
		labels = []string{"alarm", "weather", "transfer", "book_table", "play_music"}
	}
	w := model.Init(c, seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	for name, tn := range w {
		for i := range tn.Data {
			if strings.HasSuffix(name, "norm.weight") || strings.HasSuffix(name, ".bias") {
				tn.Data[i] = float32(0.5 + rng.Float64())
			} else {
				tn.Data[i] *= float32(1 + 20*rng.Float64())
			}
		}
	}
	clear(w["model.layers.0.mlp.up_proj.weight"].Data[:c.Hidden]) // row 0: scale 0
	return &model.Checkpoint{Config: c, Preset: "custom", Labels: labels, Weights: w,
		Lineage: map[string]string{"dataset": "edgeintent@v3"}}
}

func TestRoundTripExact(t *testing.T) {
	tp := testTokenizer(t)
	for _, arch := range []string{model.ArchEncoder, model.ArchDecoder} {
		t.Run(arch, func(t *testing.T) {
			ck := tinyCheckpoint(arch, 11)
			dir := filepath.Join(t.TempDir(), "int8")
			if err := SaveInt8(dir, ck, tp); err != nil {
				t.Fatal(err)
			}
			c, labels, q, err := LoadInt8(dir)
			if err != nil {
				t.Fatal(err)
			}
			if d := c.Diff(ck.Config); len(d) > 0 || !slices.Equal(labels, ck.Labels) {
				t.Fatalf("config diff %v, labels %v want %v", d, labels, ck.Labels)
			}
			assertSameQuantized(t, q, infer.Quantize(ck.Weights))
			if !IsInt8(dir) {
				t.Error("IsInt8 = false for an INT8 checkpoint")
			}
			want, _ := os.ReadFile(tp)
			if got, err := os.ReadFile(filepath.Join(dir, model.TokenizerFile)); err != nil || !bytes.Equal(got, want) {
				t.Errorf("tokenizer.json not copied byte for byte (err %v)", err)
			}
			if _, err := os.Stat(filepath.Join(dir, model.WeightsFile)); err == nil {
				t.Errorf("%s written next to %s", model.WeightsFile, Int8WeightsFile)
			}
			checkFileLayout(t, filepath.Join(dir, Int8WeightsFile))
		})
	}
}

// assertSameQuantized fails unless got equals want bit for bit: int8 values, scales
// and float32 tensors.
func assertSameQuantized(t *testing.T, got, want infer.QuantizedWeights) {
	t.Helper()
	if len(got.Int8) != len(want.Int8) || len(got.Float) != len(want.Float) {
		t.Fatalf("%d int8 + %d float tensors, want %d + %d", len(got.Int8), len(got.Float), len(want.Int8), len(want.Float))
	}
	for name, w := range want.Int8 {
		g := got.Int8[name]
		if g == nil || !slices.Equal(g.Shape, w.Shape) || !slices.Equal(g.Data, w.Data) || !sameBits(g.Scales, w.Scales) {
			t.Errorf("int8 tensor %s differs after the round trip", name)
		}
	}
	for name, w := range want.Float {
		g := got.Float[name]
		if g == nil || !slices.Equal(g.Shape, w.Shape) || !sameBits(g.Data, w.Data) {
			t.Errorf("float tensor %s differs after the round trip", name)
		}
	}
}

func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// checkFileLayout reads the raw header: matrices are stored as the standard "I8"
// dtype with an F32 ".scale" of one value per row, and every F32 tensor starts
// 4-byte aligned in the file.
func checkFileLayout(t *testing.T, path string) {
	t.Helper()
	header, _ := splitFile(t, path)
	e := header["model.layers.1.self_attn.q_proj.weight"]
	s := header["model.layers.1.self_attn.q_proj.weight"+ScaleSuffix]
	if e.DType != "I8" || s.DType != "F32" || !slices.Equal(s.Shape, e.Shape[:1]) {
		t.Errorf("q_proj stored as %s %v with scales %s %v", e.DType, e.Shape, s.DType, s.Shape)
	}
	if n := header["model.norm.weight"]; n.DType != "F32" {
		t.Errorf("model.norm.weight stored as %s, want F32", n.DType)
	}
	raw, _ := os.ReadFile(path)
	start := 8 + int64(binary.LittleEndian.Uint64(raw))
	for name, e := range header {
		if e.DType == DTypeF32 && (start+e.Offsets[0])%4 != 0 {
			t.Errorf("tensor %s: F32 data at file offset %d is not 4-byte aligned", name, start+e.Offsets[0])
		}
	}
}

func TestLoadClassifier(t *testing.T) {
	ck := tinyCheckpoint(model.ArchEncoder, 5)
	dir := filepath.Join(t.TempDir(), "int8")
	if err := SaveInt8(dir, ck, testTokenizer(t)); err != nil {
		t.Fatal(err)
	}
	cls, labels, err := LoadClassifier(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := infer.NewClassifierQuantized(ck.Config, infer.Quantize(ck.Weights))
	if err != nil {
		t.Fatal(err)
	}
	batch := [][]int{{1, 5, 9, 200}, {7}, {3, 3, 3, 3, 3, 3, 319}}
	got, err := cls.Classify(batch)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ref.Classify(batch)
	for i := range want {
		if !sameBits(got[i], want[i]) {
			t.Errorf("row %d: %v, want %v (the in-memory INT8 classifier)", i, got[i], want[i])
		}
	}
	if !slices.Equal(labels, ck.Labels) {
		t.Errorf("labels %v, want %v", labels, ck.Labels)
	}
	decDir := filepath.Join(t.TempDir(), "dec")
	if err := SaveInt8(decDir, tinyCheckpoint(model.ArchDecoder, 5), testTokenizer(t)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadClassifier(decDir); err == nil || !strings.Contains(err.Error(), "not an encoder") {
		t.Errorf("LoadClassifier(decoder) = %v, want a not-an-encoder error", err)
	}
}

func TestSaveReplacesAndRefuses(t *testing.T) {
	tp := testTokenizer(t)
	dir := filepath.Join(t.TempDir(), "int8")
	if err := SaveInt8(dir, tinyCheckpoint(model.ArchEncoder, 1), tp); err != nil {
		t.Fatal(err)
	}
	second := tinyCheckpoint(model.ArchEncoder, 2)
	if err := SaveInt8(dir, second, tp); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	_, _, q, err := LoadInt8(dir)
	if err != nil {
		t.Fatal(err)
	}
	assertSameQuantized(t, q, infer.Quantize(second.Weights))
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("left-overs next to the checkpoint: %v", entries)
	}

	bad := tinyCheckpoint(model.ArchEncoder, 3)
	delete(bad.Weights, "model.norm.weight")
	if err := SaveInt8(filepath.Join(t.TempDir(), "x"), bad, tp); err == nil || !strings.Contains(err.Error(), "model.norm.weight") {
		t.Errorf("missing tensor: err %v, want it named", err)
	}
	noTok := tinyCheckpoint(model.ArchEncoder, 3)
	if err := SaveInt8(filepath.Join(t.TempDir(), "x"), noTok, ""); err == nil || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Errorf("no tokenizer: err %v, want it named", err)
	}
	if IsInt8(t.TempDir()) {
		t.Error("IsInt8 of an empty directory")
	}
	float := filepath.Join(t.TempDir(), "f32")
	if err := model.SaveCheckpoint(float, tinyCheckpoint(model.ArchEncoder, 4), nil); err != nil {
		t.Fatal(err)
	}
	if IsInt8(float) {
		t.Error("IsInt8 of a float32 checkpoint")
	}
	if _, _, _, err := LoadInt8(float); err == nil || !strings.Contains(err.Error(), "quantization") {
		t.Errorf("LoadInt8 of a float32 checkpoint: %v", err)
	}
}

// TestNLM5MSize measures the INT8 file of the nlm-5m-intent preset.
func TestNLM5MSize(t *testing.T) {
	p, err := model.LookupPreset("nlm-5m-intent")
	if err != nil {
		t.Fatal(err)
	}
	c := p.Config
	labels := make([]string, c.NumClasses)
	for i := range labels {
		labels[i] = fmt.Sprintf("intent_%03d", i)
	}
	w := model.Init(c, 1)
	dir := filepath.Join(t.TempDir(), "nlm")
	if err := SaveInt8(dir, &model.Checkpoint{Config: c, Preset: p.Name, Labels: labels, Weights: w}, testTokenizer(t)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, Int8WeightsFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	q := infer.Quantize(w)
	raw, _ := os.ReadFile(path)
	headerLen := int64(binary.LittleEndian.Uint64(raw))
	if want := 8 + headerLen + q.SizeBytes(); fi.Size() != want {
		t.Errorf("file is %d bytes, want 8 + %d header + %d payload = %d", fi.Size(), headerLen, q.SizeBytes(), want)
	}
	if fi.Size() >= 10_000_000 {
		t.Errorf("%s of nlm-5m-intent is %d bytes, want < 10 MB", Int8WeightsFile, fi.Size())
	}
	t.Logf("nlm-5m-intent (%d params): %s %d bytes (header %d); float32 payload %d bytes (%.2fx)",
		c.NumParams(), Int8WeightsFile, fi.Size(), headerLen, infer.SizeBytes(w), float64(infer.SizeBytes(w))/float64(fi.Size()))
}
