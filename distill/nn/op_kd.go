package nn

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// classLossOp is the encoder loss on logits [B, C]: cross-entropy against the feed's
// labels or, when the feed has a teacher distribution p, knowledge distillation
//
//	l_b = alpha * tau^2 * KL(p_tau || q_tau) + (1 - alpha) * CE(q, y_b)
//
// where y_b is the one-hot label, or (1-eps) one-hot + eps/C with label
// smoothing eps,
// q_tau = softmax(z / tau) and p_tau = p^(1/tau) renormalised (the teacher's
// logits divided by tau). The loss is sum_b w_b l_b / B. Rows are small (C classes),
// so the backward recomputes everything in float64 instead of keeping state.
type classLossOp struct {
	baseOp
	feed        *feed
	alpha, temp float64
	smooth      float64 // label smoothing eps
	loss        float64
}

// classLoss is the encoder's (distillation) loss.
func classLoss(logits *gorgonia.Node, f *feed, alpha, temp, smooth float64) (*gorgonia.Node, *classLossOp, error) {
	op := &classLossOp{baseOp: newBase("class_loss", 0, scalarShape, 2), feed: f, alpha: alpha, temp: temp, smooth: smooth}
	n, err := gorgonia.ApplyOp(op, logits)
	return n, op, err
}

// check validates the feed against logits [B, C].
func (op *classLossOp) check(b, c int) error {
	if len(op.feed.labels) != b {
		return fmt.Errorf("class_loss: %d labels, want %d", len(op.feed.labels), b)
	}
	for i, l := range op.feed.labels {
		if l < 0 || int(l) >= c {
			return fmt.Errorf("class_loss: label %d of sequence %d outside [0, %d)", l, i, c)
		}
	}
	if op.feed.soft != nil && len(op.feed.soft) != b*c {
		return fmt.Errorf("class_loss: soft has %d values, want %d", len(op.feed.soft), b*c)
	}
	return nil
}

// Do computes the loss.
func (op *classLossOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	z := vs[0].(tensor.Tensor)
	b, c := z.Shape()[0], z.Shape()[1]
	if err := op.check(b, c); err != nil {
		return nil, err
	}
	op.loss = 0
	err := byDtype(op.name, z.Dtype(), func() error {
		op.loss = classLossKernel(op, data[float32](vs[0]), nil, c, 0)
		return nil
	}, func() error {
		op.loss = classLossKernel(op, data[float64](vs[0]), nil, c, 0)
		return nil
	})
	if z.Dtype() == tensor.Float64 {
		return gorgonia.NewF64(op.loss), err
	}
	return gorgonia.NewF32(float32(op.loss)), err
}

// softmaxT is softmax(z / tau) in float64 and its log-sum-exp.
func softmaxT[T float](z []T, tau float64, out []float64) {
	m := math.Inf(-1)
	for _, x := range z {
		m = max(m, float64(x)/tau)
	}
	var sum float64
	for j, x := range z {
		out[j] = math.Exp(float64(x)/tau - m)
		sum += out[j]
	}
	for j := range out {
		out[j] /= sum
	}
}

// classLossKernel returns the loss and, when dz is not nil, writes g * dloss/dz:
// dz_b = g w_b / B ((1-alpha)(q - y_b) + alpha tau (q_tau - p_tau)), y_b the
// (smoothed) label distribution.
func classLossKernel[T float](op *classLossOp, z, dz []T, c int, g float64) float64 {
	b := len(z) / c
	q, qt, pt := make([]float64, c), make([]float64, c), make([]float64, c)
	alpha, tau := 0.0, op.temp
	if op.feed.soft != nil {
		alpha = op.alpha
	}
	var loss float64
	for r := 0; r < b; r++ {
		row, y, w := z[r*c:(r+1)*c], int(op.feed.labels[r]), op.feed.weight(r)/float64(b)
		softmaxT(row, 1, q)
		ce := -math.Log(max(q[y], math.SmallestNonzeroFloat64))
		if eps := op.smooth; eps > 0 {
			var mean float64 // mean_j -log q_j
			for _, p := range q {
				mean -= math.Log(max(p, math.SmallestNonzeroFloat64))
			}
			ce = (1-eps)*ce + eps*mean/float64(c)
		}
		l := (1 - alpha) * ce
		if alpha > 0 {
			softmaxT(row, tau, qt)
			var sum float64
			for j := range pt {
				pt[j] = 0
				if p := float64(op.feed.soft[r*c+j]); p > 0 {
					pt[j] = math.Exp(math.Log(p) / tau)
				}
				sum += pt[j]
			}
			var kl float64
			for j := range pt {
				pt[j] /= sum
				if pt[j] > 0 {
					kl += pt[j] * (math.Log(pt[j]) - math.Log(max(qt[j], math.SmallestNonzeroFloat64)))
				}
			}
			l += alpha * tau * tau * kl
		}
		loss += w * l
		if dz == nil {
			continue
		}
		for j := range q {
			target := op.smooth / float64(c)
			if j == y {
				target += 1 - op.smooth
			}
			d := (1 - alpha) * (q[j] - target)
			if alpha > 0 {
				d += alpha * tau * (qt[j] - pt[j])
			}
			dz[r*c+j] = T(g * w * d)
		}
	}
	return loss
}

// DiffWRT: the logits.
func (op *classLossOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff builds the backward from (logits, dLoss).
func (op *classLossOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g, err := gorgonia.ApplyOp(&classLossGrad{newBase("class_loss_grad", 2, shapeOf(0), 2, 0), op}, in[0], grad)
	if err != nil {
		return nil, fmt.Errorf("class_loss grad: %w", err)
	}
	return gorgonia.Nodes{g}, nil
}

// classLossGrad is the backward of classLossOp.
type classLossGrad struct {
	baseOp
	fwd *classLossOp
}

// Do computes the logits gradient.
func (op *classLossGrad) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	z := vs[0].(tensor.Tensor)
	b, c := z.Shape()[0], z.Shape()[1]
	if err := op.fwd.check(b, c); err != nil {
		return nil, err
	}
	g, err := scalar(vs[1])
	if err != nil {
		return nil, fmt.Errorf("class_loss grad: %w", err)
	}
	out := op.output(z.Dtype(), b, c)
	err = byDtype(op.name, z.Dtype(), func() error {
		classLossKernel(op.fwd, data[float32](vs[0]), data[float32](out), c, g)
		return nil
	}, func() error {
		classLossKernel(op.fwd, data[float64](vs[0]), data[float64](out), c, g)
		return nil
	})
	return out, err
}
