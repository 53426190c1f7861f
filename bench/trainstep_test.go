package bench

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/nn"
	"github.com/cyclecore/mlmforge/internal/kernels"
)

// adamW is a plain AdamW (decoupled weight decay) over the Net's parameters, enough to
// time a realistic step; the trainer's optimizer lives in distill.
type adamW struct {
	lr, b1, b2, eps, wd float64
	t                   int
	m, v                [][]float32
}

func newAdamW(ps []model.Param) *adamW {
	o := &adamW{lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01}
	for _, p := range ps {
		o.m = append(o.m, make([]float32, len(p.Data)))
		o.v = append(o.v, make([]float32, len(p.Data)))
	}
	return o
}

// step updates every parameter with the trainer's vectorized AdamW kernel, one
// goroutine per CPU over the parameter list.
func (o *adamW) step(ps []model.Param) {
	o.t++
	c1, c2 := 1-math.Pow(o.b1, float64(o.t)), 1-math.Pow(o.b2, float64(o.t))
	h := kernels.AdamWParams{Beta1: o.b1, C1: 1 - o.b1, Beta2: o.b2, C2: 1 - o.b2, Decay: 1 - o.lr*o.wd,
		StepSize: o.lr / c1, InvBC2: 1 / math.Sqrt(c2), Eps: o.eps}
	var wg sync.WaitGroup
	next := make(chan int, len(ps))
	for i := range ps {
		next <- i
	}
	close(next)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				kernels.AdamW(ps[i].Data, ps[i].Grad, o.m[i], o.v[i], h)
			}
		}()
	}
	wg.Wait()
}

// timeSteps runs one warm-up step and then steps timed steps of zero-grad, forward,
// backward and AdamW on one random batch; it returns the median seconds per step.
func timeSteps(t *testing.T, cfg model.Config, B, T, steps int) float64 {
	t.Helper()
	net, err := nn.New(cfg, model.Init(cfg, 1), nn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	b := model.Batch{B: B, T: T, Tokens: make([]int32, B*T), Targets: make([]int32, B*T)}
	for i := range b.Tokens {
		b.Tokens[i], b.Targets[i] = int32(rng.IntN(cfg.Vocab)), int32(rng.IntN(cfg.Vocab))
	}
	ps := net.Params()
	opt := newAdamW(ps)
	var times []float64
	for s := 0; s <= steps; s++ {
		start := time.Now()
		for _, p := range ps {
			clear(p.Grad)
		}
		if _, err := net.ForwardBackward(b); err != nil {
			t.Fatal(err)
		}
		opt.step(ps)
		if s > 0 {
			times = append(times, time.Since(start).Seconds())
		}
	}
	slices.Sort(times)
	return times[len(times)/2]
}

// torchStep times the identical step in PyTorch (testdata/trainstep.py) on threads
// threads (torch.set_num_threads and OpenBLAS's thread count).
func torchStep(t *testing.T, cfg model.Config, B, T, steps, threads int) float64 {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Logf("no PyTorch (/usr/bin/python3 cannot import torch: %v): torch comparison skipped", err)
		return 0
	}
	arg, err := json.Marshal(map[string]any{"config": cfg, "B": B, "T": T, "steps": steps, "threads": threads})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", filepath.Join("testdata", "trainstep.py"), string(arg))
	n := strconv.Itoa(threads)
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS="+n, "OMP_NUM_THREADS="+n)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("trainstep.py: %v", err)
	}
	var res struct {
		MsPerStep float64 `json:"ms_per_step"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("trainstep.py output %q: %v", out, err)
	}
	return res.MsPerStep / 1000
}

// peakRSS is the process's peak resident set (VmHWM) in MiB, 0 where unknown.
func peakRSS() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func requireBench(t *testing.T) {
	if os.Getenv("MLMFORGE_BENCH") != "1" {
		t.Skip("set MLMFORGE_BENCH=1 to run the training-step measurements")
	}
}

// TestTrainStepVsTorch times one training step of a Llama-style decoder (d=256, 4
// layers, ff 1024, vocab 8192, B=8, T=128) in distill/nn and in PyTorch at the same
// thread count, 1 and then 2 (Go's GOMAXPROCS, torch's set_num_threads), and prints
// the ratios. Before this comparison ran both sides at 1 thread and at 2, it set
// Go's side at GOMAXPROCS (2 here) against torch on 1. Add -tags openblas to measure
// the OpenBLAS build.
func TestTrainStepVsTorch(t *testing.T) {
	requireBench(t)
	cfg := model.Config{Arch: model.ArchDecoder, Vocab: 8192, Hidden: 256, Layers: 4, Heads: 4, KVHeads: 4,
		Intermediate: 1024, MaxSeq: 128, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: true}
	const B, T, steps = 8, 128, 5
	for _, threads := range []int{1, 2} {
		old := runtime.GOMAXPROCS(threads)
		goSec := timeSteps(t, cfg, B, T, steps)
		runtime.GOMAXPROCS(old)
		t.Logf("%d thread(s): distill/nn (sgemm %s): %.1f ms/step, %.0f tokens/s", threads, nn.GEMMImplementation(),
			1000*goSec, B*T/goSec)
		if torchSec := torchStep(t, cfg, B, T, steps, threads); torchSec > 0 {
			t.Logf("%d thread(s): pytorch: %.1f ms/step, %.0f tokens/s; distill/nn / torch = %.2fx",
				threads, 1000*torchSec, B*T/torchSec, goSec/torchSec)
		}
	}
}

// TestTrainStep135M times the 135M preset (SmolLM2-135M's shape) at 512 tokens per
// step (B=1, T=512) and reports tokens/s and the peak resident memory.
func TestTrainStep135M(t *testing.T) {
	requireBench(t)
	p, err := model.LookupPreset("mlm-135m-json")
	if err != nil {
		t.Fatal(err)
	}
	sec := timeSteps(t, p.Config, 1, 512, 3)
	t.Logf("%s: %.2f s/step, %.0f tokens/s, peak RSS %.0f MiB", p.Name, sec, 512/sec, peakRSS())
}
