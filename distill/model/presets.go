package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Tiny reports whether p is one of the tiny test presets (no nominal size):
// they train in minutes and take their own training defaults.
func (p Preset) Tiny() bool { return p.Nominal == 0 }

// Preset is a named config with the size it is meant to have.
type Preset struct {
	// Name is what --preset takes, e.g. "mlm-135m-json".
	Name string
	// Nominal is the advertised parameter count (135M for mlm-135m-json); 0 for the tiny
	// test presets, which have no nominal size.
	Nominal int
	// Task is the SLM-Bench task the preset is meant for ("edgejson", "edgeintent",
	// "edgefunccall", or "multi").
	Task string
	// Config is the architecture. NumClasses of encoders is a default: training sets it
	// from the dataset's label set.
	Config Config
}

// presets are the named students. The 135M one is SmolLM2-135M's shape; the others are
// chosen so that their parameter counts land on their names.
var presets = []Preset{
	{Name: "mlm-135m-json", Nominal: 135_000_000, Task: "edgejson", Config: Config{
		Arch: ArchDecoder, Vocab: 49152, Hidden: 576, Layers: 30, Heads: 9, KVHeads: 3, Intermediate: 1536,
		MaxSeq: 2048, RopeTheta: 100000, NormEps: 1e-5, TiedEmbeddings: true}},
	{Name: "mlm-120m-balanced", Nominal: 120_000_000, Task: "multi", Config: Config{
		Arch: ArchDecoder, Vocab: 49152, Hidden: 640, Layers: 20, Heads: 10, KVHeads: 5, Intermediate: 1728,
		MaxSeq: 2048, RopeTheta: 100000, NormEps: 1e-5, TiedEmbeddings: true}},
	{Name: "mlm-60m-intent", Nominal: 60_000_000, Task: "edgeintent", Config: Config{
		Arch: ArchEncoder, Vocab: 49152, Hidden: 512, Layers: 11, Heads: 8, KVHeads: 8, Intermediate: 1376,
		MaxSeq: 512, RopeTheta: 10000, NormEps: 1e-5, NumClasses: 200, Pooling: PoolMean}},
	{Name: "nlm-5m-intent", Nominal: 5_000_000, Task: "edgeintent", Config: Config{
		Arch: ArchEncoder, Vocab: 8192, Hidden: 256, Layers: 4, Heads: 4, KVHeads: 4, Intermediate: 704,
		MaxSeq: 128, RopeTheta: 10000, NormEps: 1e-5, NumClasses: 150, Pooling: PoolMean}},
	// Decoders that train from scratch on this project's 2-core reference machine in
	// about two hours (see examples/): full multi-head attention, which the copy
	// supervision's pointer head needs, and room for complex EdgeJSON answers.
	{Name: "nlm-5m-json", Nominal: 5_000_000, Task: "edgejson", Config: Config{
		Arch: ArchDecoder, Vocab: 4096, Hidden: 256, Layers: 4, Heads: 8, KVHeads: 8, Intermediate: 896,
		MaxSeq: 2048, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: true, Pointer: true}},
	{Name: "nlm-5m-funccall", Nominal: 5_000_000, Task: "edgefunccall", Config: Config{
		Arch: ArchDecoder, Vocab: 4096, Hidden: 256, Layers: 4, Heads: 8, KVHeads: 8, Intermediate: 896,
		MaxSeq: 1024, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: true, Pointer: true}},
	{Name: "tiny-intent", Task: "edgeintent", Config: Config{
		Arch: ArchEncoder, Vocab: 2048, Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2, Intermediate: 192,
		MaxSeq: 64, RopeTheta: 10000, NormEps: 1e-5, NumClasses: 50, Pooling: PoolMean}},
	{Name: "tiny-json", Task: "edgejson", Config: Config{
		Arch: ArchDecoder, Vocab: 2048, Hidden: 128, Layers: 2, Heads: 4, KVHeads: 2, Intermediate: 384,
		MaxSeq: 512, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: true, Pointer: true, InductionNgram: 3}},
	// Function-calling prompts list the candidate functions with their
	// parameters: up to ~700 tokens with a 2k vocabulary.
	{Name: "tiny-funccall", Task: "edgefunccall", Config: Config{
		Arch: ArchDecoder, Vocab: 2048, Hidden: 128, Layers: 2, Heads: 4, KVHeads: 2, Intermediate: 384,
		MaxSeq: 768, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: true, Pointer: true, InductionNgram: 3}},
	{Name: "tiny-balanced", Task: "multi", Config: Config{
		Arch: ArchDecoder, Vocab: 2048, Hidden: 128, Layers: 2, Heads: 4, KVHeads: 2, Intermediate: 384,
		MaxSeq: 512, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: true, Pointer: true}},
}

// Presets returns every preset, in a fixed order.
func Presets() []Preset { return slices.Clone(presets) }

// LookupPreset finds a preset by name; the error lists the valid names.
func LookupPreset(name string) (Preset, error) {
	for _, p := range presets {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.Name
	}
	return Preset{}, fmt.Errorf("unknown preset %q (have %s)", name, strings.Join(names, ", "))
}

// Init returns weights for c drawn from a seeded RNG, as llm.c and Hugging Face do:
// linear and embedding weights N(0, 0.02), the output projections of each block (o_proj,
// down_proj) scaled by 1/sqrt(2L) as in GPT-2, norms 1, biases 0, the pointer's
// induction bonus 1. The same seed always gives the same weights.
func Init(c Config, seed uint64) Weights {
	rng := rand.New(rand.NewPCG(seed, 0x6d6c6d666f726765))
	w := NewWeights(c)
	resid := 0.02 / math.Sqrt(2*float64(max(c.Layers, 1)))
	for _, p := range c.Params() {
		t := w[p.Name]
		switch {
		case strings.HasSuffix(p.Name, "norm.weight"):
			for i := range t.Data {
				t.Data[i] = 1
			}
		case strings.HasSuffix(p.Name, ".bias"):
		case p.Name == PointerInduction:
			t.Data[0] = 1
		default:
			std := 0.02
			if strings.HasSuffix(p.Name, "o_proj.weight") || strings.HasSuffix(p.Name, "down_proj.weight") {
				std = resid
			}
			for i := range t.Data {
				t.Data[i] = float32(rng.NormFloat64() * std)
			}
		}
	}
	return w
}
