package train

import (
	"math"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

// TestLRSchedule checks warmup and cosine against hand-computed values.
func TestLRSchedule(t *testing.T) {
	c := Config{LR: 1, WarmupSteps: 10, TotalSteps: 110, MinLRRatio: 0.1}
	noWarm := Config{LR: 2, WarmupSteps: 0, TotalSteps: 4, MinLRRatio: 0}
	cases := []struct {
		name string
		c    Config
		step int
		want float64
	}{
		{"first warmup step", c, 0, 0.1},
		{"mid warmup", c, 4, 0.5},
		{"last warmup step", c, 9, 1},
		{"cosine start", c, 10, 1},
		{"cosine quarter", c, 35, 0.1 + 0.9*0.5*(1+math.Sqrt2/2)},
		{"cosine half", c, 60, 0.55},
		{"cosine end", c, 110, 0.1},
		{"past the end", c, 500, 0.1},
		{"no warmup start", noWarm, 0, 2},
		{"no warmup half", noWarm, 2, 1},
		{"no warmup end to zero", noWarm, 4, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.LRAt(tc.step); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("LRAt(%d) = %.15g, want %.15g", tc.step, got, tc.want)
			}
		})
	}
}

// TestDecayParam checks which tensors get weight decay.
func TestDecayParam(t *testing.T) {
	cases := []struct {
		name  string
		shape []int
		want  bool
	}{
		{"model.embed_tokens.weight", []int{10, 4}, true},
		{"model.layers.0.self_attn.q_proj.weight", []int{4, 4}, true},
		{"model.layers.0.input_layernorm.weight", []int{4}, false},
		{"model.norm.weight", []int{4}, false},
		{"classifier.bias", []int{3}, false},
		{"classifier.weight", []int{3, 4}, true},
	}
	for _, c := range cases {
		if got := DecayParam(c.name, c.shape); got != c.want {
			t.Errorf("DecayParam(%s) = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestAdamWHand checks one step of AdamW computed by hand: with bias correction the
// first update is lr * sign(g) (up to eps), after the decoupled decay p*(1-lr*wd).
func TestAdamWHand(t *testing.T) {
	c := Config{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1}
	params := []model.Param{
		{Name: "w.weight", Shape: []int{1, 1}, Data: []float32{1}, Grad: []float32{0.5}},
		{Name: "w.bias", Shape: []int{1}, Data: []float32{1}, Grad: []float32{-0.5}},
	}
	o := NewAdamW(c, params)
	if err := o.Step(params, 0.1); err != nil {
		t.Fatal(err)
	}
	// decay: 1*(1-0.1*0.1) = 0.99; m̂ = 0.5, v̂ = 0.25: update 0.1*0.5/(0.5+1e-8).
	wantW := 0.99 - 0.1*0.5/(0.5+1e-8)
	wantB := 1 + 0.1*0.5/(0.5+1e-8)
	if got := float64(params[0].Data[0]); math.Abs(got-wantW) > 1e-7 {
		t.Errorf("weight %.9g, want %.9g", got, wantW)
	}
	if got := float64(params[1].Data[0]); math.Abs(got-wantB) > 1e-7 {
		t.Errorf("bias %.9g, want %.9g (no decay on biases)", got, wantB)
	}
	if math.Abs(float64(o.M["w.weight"][0])-0.05) > 1e-9 || math.Abs(float64(o.V["w.weight"][0])-0.00025) > 1e-10 {
		t.Errorf("moments m=%g v=%g, want 0.05, 0.00025", o.M["w.weight"][0], o.V["w.weight"][0])
	}
}

// TestAdamWTorch replays three steps against torch.optim.AdamW. The constants come from
// /usr/bin/python3 (Debian python3-torch 1.13) running:
//
//	w = Parameter(tensor([[0.5,-1,2],[0,0.25,-0.75]])); b = Parameter(tensor([0.1,-0.2,0.3]))
//	opt = AdamW([{"params":[w],"weight_decay":0.1},{"params":[b],"weight_decay":0.0}],
//	            betas=(0.9,0.95), eps=1e-8)
//	for gw, gb, lr in zip(grads_w, grads_b, [1e-2, 5e-3, 2e-3]):
//	    set each group's lr; w.grad, b.grad = gw, gb; opt.step(); print("%.9g" % values)
func TestAdamWTorch(t *testing.T) {
	gradsW := [][]float32{{0.1, -0.2, 0.3, -0.4, 0.5, -0.6}, {1, 0, -1, 2, -3, 0.5}, {-0.05, 0.02, 0, 0.3, 0.3, -0.1}}
	gradsB := [][]float32{{0.01, -0.02, 0.5}, {-1, 0, 0.25}, {0.2, 0.2, -0.3}}
	lrs := []float64{1e-2, 5e-3, 2e-3}
	wantW := [][]float64{
		{0.489500016, -0.989000022, 1.98800004, 0.0100000007, 0.239749998, -0.739250004},
		{0.485268623, -0.98511225, 1.98958075, 0.00703733601, 0.242713287, -0.738689303},
		{0.483988166, -0.983988822, 1.98998928, 0.00593381375, 0.243499905, -0.738317549},
	}
	wantB := [][]float64{
		{0.090000011, -0.190000013, 0.290000021},
		{0.0936415642, -0.18660678, 0.285303563},
		{0.0945082828, -0.187747136, 0.284631878},
	}
	wantM := []float64{0.0930999964, -0.0142000001, -0.0656999946, 0.177599996, -0.199499995, -0.0136000011}
	wantV := []float64{0.0480762497, 0.00182500004, 0.0515612513, 0.201719999, 0.443281263, 0.0286200009}
	params := []model.Param{
		{Name: "w.weight", Shape: []int{2, 3}, Data: []float32{0.5, -1, 2, 0, 0.25, -0.75}, Grad: make([]float32, 6)},
		{Name: "w.bias", Shape: []int{3}, Data: []float32{0.1, -0.2, 0.3}, Grad: make([]float32, 3)},
	}
	o := NewAdamW(Config{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1}, params)
	near := func(what string, got []float32, want []float64) {
		t.Helper()
		for i := range want {
			if math.Abs(float64(got[i])-want[i]) > 1e-6*max(1, math.Abs(want[i])) {
				t.Errorf("%s[%d] = %.9g, torch %.9g", what, i, got[i], want[i])
			}
		}
	}
	for s := range lrs {
		copy(params[0].Grad, gradsW[s])
		copy(params[1].Grad, gradsB[s])
		if err := o.Step(params, lrs[s]); err != nil {
			t.Fatal(err)
		}
		near("weight", params[0].Data, wantW[s])
		near("bias", params[1].Data, wantB[s])
	}
	near("exp_avg", o.M["w.weight"], wantM)
	near("exp_avg_sq", o.V["w.weight"], wantV)
}

// TestClipGrads checks global-norm clipping against torch.nn.utils.clip_grad_norm_
// (grads [3,4] and [12], max norm 1: norm 13, torch's clipped grads below).
func TestClipGrads(t *testing.T) {
	params := []model.Param{
		{Name: "a", Data: make([]float32, 2), Grad: []float32{3, 4}},
		{Name: "b", Data: make([]float32, 1), Grad: []float32{12}},
	}
	if n := ClipGrads(params, 1); n != 13 {
		t.Errorf("norm %g, want 13", n)
	}
	want := []float64{0.230769217, 0.307692289, 0.923076868}
	got := append(append([]float32{}, params[0].Grad...), params[1].Grad...)
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-7 {
			t.Errorf("grad[%d] = %.9g, torch %.9g", i, got[i], want[i])
		}
	}
	// Below the threshold, and with clipping disabled, gradients are untouched.
	small := []model.Param{{Name: "a", Data: make([]float32, 2), Grad: []float32{0.3, 0.4}}}
	if n := ClipGrads(small, 1); math.Abs(n-0.5) > 1e-7 || small[0].Grad[0] != 0.3 {
		t.Errorf("norm %g grads %v: clipped below the threshold", n, small[0].Grad)
	}
	if n := ClipGrads(params[:1], 0); small[0].Grad[1] != 0.4 || n == 0 {
		t.Errorf("norm %g with clipping off", n)
	}
}

// TestFakeGradients checks the test models' analytic gradients by central finite
// differences, so the training tests below rest on exact gradients.
func TestFakeGradients(t *testing.T) {
	for _, arch := range []string{model.ArchEncoder, model.ArchDecoder} {
		t.Run(arch, func(t *testing.T) {
			m := newFakeModel(fakeConfig(arch, 3), 3)
			d := buildTestData(t, arch, intentRecords(6, "train"), 200)
			b := makeBatch(d, []*Example{&d.Examples[0], &d.Examples[1], &d.Examples[2]}, 200)
			if arch == model.ArchEncoder {
				b.Soft = []float32{0.7, 0.2, 0.1, 0, 1, 0, 0.3, 0.3, 0.4}
			}
			if _, err := m.ForwardBackward(b); err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, p := range m.Params() {
				for i := 0; i < len(p.Data); i += 1 + len(p.Data)/7 {
					if p.Grad[i] == 0 {
						continue
					}
					old := p.Data[i]
					const h = 1e-3
					p.Data[i] = old + h
					lp, _ := m.Loss(b)
					p.Data[i] = old - h
					lm, _ := m.Loss(b)
					p.Data[i] = old
					num := (lp - lm) / (2 * h)
					if math.Abs(num-float64(p.Grad[i])) > 1e-3*max(1e-3, math.Abs(num)) {
						t.Errorf("%s[%d]: analytic %.6g, numeric %.6g", p.Name, i, p.Grad[i], num)
					}
					checked++
				}
			}
			if checked < 5 {
				t.Errorf("only %d gradients checked", checked)
			}
		})
	}
}

// BenchmarkAdamWStep times one AdamW update of the nlm-5m-intent preset's parameters.
func BenchmarkAdamWStep(b *testing.B) {
	p, err := model.LookupPreset("nlm-5m-intent")
	if err != nil {
		b.Fatal(err)
	}
	w := model.Init(p.Config, 1)
	var params []model.Param
	for _, ps := range p.Config.Params() {
		g := make([]float32, ps.Size())
		for i := range g {
			g[i] = float32(i%7) * 1e-3
		}
		params = append(params, model.Param{Name: ps.Name, Shape: ps.Shape, Data: w[ps.Name].Data, Grad: g})
	}
	o := NewAdamW(DefaultConfig(), params)
	b.ResetTimer()
	for range b.N {
		if err := o.Step(params, 1e-3); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(p.Config.NumParams()), "params")
}
