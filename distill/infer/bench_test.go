package infer

import (
	"context"
	"flag"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/internal/kernels"
)

// avx2Only runs the benchmarks on the AVX2 kernels (SGEMM and INT8), as on a CPU without
// AVX-512, to measure those CPUs on an AVX-512 machine:
//
//	go test -run '^$' -bench 'Classify60M|Decode135M' ./distill/infer/ -avx2only
var avx2Only = flag.Bool("avx2only", false, "benchmarks: run the AVX2 kernels as on a CPU without AVX-512")

// Preset weights are built once per benchmark binary, and only when a benchmark asks:
// model.Init of the 135M decoder takes seconds and ~540 MB.
var (
	presetMu      sync.Mutex
	presetWeights = map[string]model.Weights{}
)

func presetFor(b *testing.B, name string) (model.Config, model.Weights) {
	b.Helper()
	p, err := model.LookupPreset(name)
	if err != nil {
		b.Fatal(err)
	}
	presetMu.Lock()
	defer presetMu.Unlock()
	w, ok := presetWeights[name]
	if !ok {
		w = model.Init(p.Config, 1)
		presetWeights[name] = w
	}
	return p.Config, w
}

// BenchmarkDecode135M generates 64 tokens after a 32-token prompt with the mlm-135m-json
// preset (SmolLM2-135M's shape) and reports decode and prefill throughput.
func BenchmarkDecode135M(b *testing.B) {
	for _, name := range int8Modes {
		quant := name != "float32"
		b.Run(name, func(b *testing.B) {
			defer setInt8Mode(b, name)()
			c, w := presetFor(b, "mlm-135m-json")
			d, err := NewDecoder(c, w)
			if quant {
				d, err = NewDecoderQuantized(c, Quantize(w))
			}
			if err != nil {
				b.Fatal(err)
			}
			prompt := randTokens(rand.New(rand.NewPCG(1, 1)), 32, c.Vocab)
			var logitErr float64
			if quant {
				logitErr = maxLogitError(b, c, w, d, prompt)
			}
			opts := GenerateOptions{MaxNewTokens: 64}
			var steps, prompts int
			var decode, prefill time.Duration
			for b.Loop() {
				_, st, err := d.Generate(context.Background(), prompt, opts)
				if err != nil {
					b.Fatal(err)
				}
				steps, decode = steps+st.DecodeSteps, decode+st.Decode
				prompts, prefill = prompts+st.PromptTokens, prefill+st.Prefill
			}
			b.ReportMetric(float64(steps)/decode.Seconds(), "decode-tok/s")
			b.ReportMetric(float64(prompts)/prefill.Seconds(), "prefill-tok/s")
			if quant {
				// Reported after the loop: b.Loop's first call drops earlier metrics.
				b.ReportMetric(logitErr, "max-logit-err")
			}
		})
	}
}

// BenchmarkClassify60M classifies batches of 16 inputs of 32 tokens with the
// mlm-60m-intent preset and reports classifications per second.
func BenchmarkClassify60M(b *testing.B) {
	for _, name := range int8Modes {
		quant := name != "float32"
		b.Run(name, func(b *testing.B) {
			defer setInt8Mode(b, name)()
			c, w := presetFor(b, "mlm-60m-intent")
			cl, err := NewClassifier(c, w)
			if quant {
				cl, err = NewClassifierQuantized(c, Quantize(w))
			}
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(2, 2))
			batch := make([][]int, 16)
			for i := range batch {
				batch[i] = randTokens(rng, 32, c.Vocab)
			}
			for b.Loop() {
				if _, err := cl.Classify(batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "classifications/s")
		})
	}
}

// int8Modes are the benchmarks' variants: float32 weights; INT8 weights on this CPU's
// default path (integer kernels with two activation passes where kernels.Int8Fast says
// so for the row count, else weight-only); the integer kernels for every row count with
// two and with one 8-bit activation pass; weight-only INT8 (float32 activations).
var int8Modes = []string{"float32", "int8", "int8-a16", "int8-a8", "int8-weightonly"}

// setInt8Mode chooses the kernels (-avx2only) and sets intActs and actPasses for a
// mode; it returns what restores them.
func setInt8Mode(b *testing.B, mode string) func() {
	oldAVX2 := kernels.SetAVX2Only(*avx2Only)
	oldActs, oldPasses := intActs, actPasses
	switch mode {
	case "int8-a16", "int8-a8":
		if kernels.Int8Implementation() == "go" {
			b.Skip("no SIMD integer kernels on this CPU")
		}
		intActs = alwaysInt
		if mode == "int8-a8" {
			actPasses = 1
		}
	case "int8-weightonly":
		intActs = neverInt
	}
	b.Logf("kernels: SGEMM %s, INT8 %s", kernels.Implementation(), kernels.Int8Implementation())
	return func() {
		intActs, actPasses = oldActs, oldPasses
		kernels.SetAVX2Only(oldAVX2)
	}
}

// maxLogitError is the largest |quantized - float| logit over every position of prompt.
func maxLogitError(b *testing.B, c model.Config, w model.Weights, qd *Decoder, prompt []int) float64 {
	b.Helper()
	fd, err := NewDecoder(c, w)
	if err != nil {
		b.Fatal(err)
	}
	want, got := fd.Forward(prompt), qd.Forward(prompt)
	var worst float64
	for t := range want {
		for i := range want[t] {
			worst = max(worst, math.Abs(float64(got[t][i]-want[t][i])))
		}
	}
	return worst
}
