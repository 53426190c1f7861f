package train

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/internal/kernels"
)

// LRAt is the learning rate of optimizer step step (0-based), llm.c's schedule: a linear
// warmup from LR/WarmupSteps to LR over the first WarmupSteps steps, then a cosine from
// LR down to LR*MinLRRatio at TotalSteps; steps past TotalSteps stay at the floor.
func (c Config) LRAt(step int) float64 {
	if step < c.WarmupSteps {
		return c.LR * float64(step+1) / float64(c.WarmupSteps)
	}
	minLR := c.LR * c.MinLRRatio
	if c.TotalSteps <= c.WarmupSteps {
		return c.LR
	}
	ratio := float64(step-c.WarmupSteps) / float64(c.TotalSteps-c.WarmupSteps)
	ratio = min(max(ratio, 0), 1)
	coeff := 0.5 * (1 + math.Cos(math.Pi*ratio))
	return minLR + coeff*(c.LR-minLR)
}

// DecayParam says whether AdamW's weight decay applies to a parameter. As in llm.c,
// nanoGPT and Hugging Face's Trainer, only matrices (embeddings and linear weights)
// decay: RMSNorm gains and biases (any 1-D tensor, or a name ending in "norm.weight" or
// ".bias") do not, since pulling a norm gain towards 0 rescales activations rather than
// regularising, and biases carry no capacity worth shrinking.
func DecayParam(name string, shape []int) bool {
	if len(shape) < 2 || strings.HasSuffix(name, ".bias") || strings.HasSuffix(name, "norm.weight") {
		return false
	}
	return true
}

// AdamW is torch.optim.AdamW (amsgrad=False, maximize=False) on float32 parameters.
// For each element at step t (1-based) with learning rate lr:
//
//	p  = p * (1 - lr*wd)                  decoupled decay, before the Adam update
//	m  = b1*m + (1-b1)*g
//	v  = b2*v + (1-b2)*g*g
//	p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
//
// The arithmetic is done in float64 and stored as float32, so it agrees with PyTorch's
// float32 kernels to about one ulp; kernels.AdamW runs it 4 values per AVX2 instruction.
type AdamW struct {
	// Beta1, Beta2, Eps and WeightDecay are the hyper-parameters (Config).
	Beta1, Beta2, Eps, WeightDecay float64
	// T is the number of steps taken: the bias corrections use T+1 on the next step.
	T int
	// M and V are the first and second moments by parameter name, shaped like the
	// parameter.
	M, V map[string][]float32
}

// NewAdamW returns an optimizer with zero moments for params.
func NewAdamW(c Config, params []model.Param) *AdamW {
	o := &AdamW{Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps, WeightDecay: c.WeightDecay,
		M: map[string][]float32{}, V: map[string][]float32{}}
	for _, p := range params {
		o.M[p.Name] = make([]float32, len(p.Data))
		o.V[p.Name] = make([]float32, len(p.Data))
	}
	return o
}

// Step applies one update with learning rate lr to every parameter from its Grad. It
// does not zero the gradients.
func (o *AdamW) Step(params []model.Param, lr float64) error {
	o.T++
	bc1 := 1 - math.Pow(o.Beta1, float64(o.T))
	bc2sqrt := math.Sqrt(1 - math.Pow(o.Beta2, float64(o.T)))
	stepSize := lr / bc1
	b1, b2, eps := o.Beta1, o.Beta2, o.Eps
	c1, c2, invBC2 := 1-b1, 1-b2, 1/bc2sqrt
	for _, p := range params {
		m, v := o.M[p.Name], o.V[p.Name]
		if len(m) != len(p.Data) || len(v) != len(p.Data) || len(p.Grad) != len(p.Data) {
			return fmt.Errorf("adamw: param %s: %d values, %d grads, moments %d/%d", p.Name, len(p.Data), len(p.Grad), len(m), len(v))
		}
		decay := 1.0
		if DecayParam(p.Name, p.Shape) {
			decay = 1 - lr*o.WeightDecay
		}
		kernels.AdamW(p.Data, p.Grad, m, v, kernels.AdamWParams{Beta1: b1, C1: c1, Beta2: b2, C2: c2,
			Decay: decay, StepSize: stepSize, InvBC2: invBC2, Eps: eps})
	}
	return nil
}

// moments returns the optimizer state as checkpoint tensors shaped like params.
func (o *AdamW) moments(params []model.Param) (m, v model.Weights) {
	m, v = model.Weights{}, model.Weights{}
	for _, p := range params {
		m[p.Name] = &model.Tensor{Shape: slices.Clone(p.Shape), Data: o.M[p.Name]}
		v[p.Name] = &model.Tensor{Shape: slices.Clone(p.Shape), Data: o.V[p.Name]}
	}
	return m, v
}

// restore copies checkpointed moments into the optimizer, checking every parameter.
func (o *AdamW) restore(params []model.Param, m, v model.Weights, step int) error {
	for _, p := range params {
		mt, vt := m[p.Name], v[p.Name]
		if mt == nil || vt == nil || len(mt.Data) != len(p.Data) || len(vt.Data) != len(p.Data) {
			return fmt.Errorf("optimizer state: param %s: moments missing or of the wrong size", p.Name)
		}
		copy(o.M[p.Name], mt.Data)
		copy(o.V[p.Name], vt.Data)
	}
	o.T = step
	return nil
}

// GradNorm is the global L2 norm of all gradients, accumulated in float64.
func GradNorm(params []model.Param) float64 {
	var s float64
	for _, p := range params {
		for _, g := range p.Grad {
			s += float64(g) * float64(g)
		}
	}
	return math.Sqrt(s)
}

// ClipGrads scales every gradient by maxNorm/(norm+1e-6) when that is below 1, as
// torch.nn.utils.clip_grad_norm_ does, and returns the norm before clipping. maxNorm 0
// only measures.
func ClipGrads(params []model.Param, maxNorm float64) float64 {
	norm := GradNorm(params)
	if maxNorm <= 0 {
		return norm
	}
	coef := maxNorm / (norm + 1e-6)
	if coef >= 1 {
		return norm
	}
	scaleGrads(params, coef)
	return norm
}

// scaleGrads multiplies every gradient by s.
func scaleGrads(params []model.Param, s float64) {
	f := float32(s)
	for _, p := range params {
		for i := range p.Grad {
			p.Grad[i] *= f
		}
	}
}

// zeroGrads clears every gradient before the next accumulation.
func zeroGrads(params []model.Param) {
	for _, p := range params {
		clear(p.Grad)
	}
}
