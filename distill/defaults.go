package distill

import (
	"cmp"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/train"
)

// Defaults are the training settings of a preset, measured on the project's
// 2-core reference machine (BENCHMARKS.md): tiny presets train in minutes, the nlm-*
// ones in about two hours, the full-size ones are starting points. Decoders learn
// with copy supervision and pick their checkpoint by the task metric.
func Defaults(p model.Preset) train.Config {
	c := train.DefaultConfig()
	tiny := p.Tiny()
	switch {
	case tiny && p.Config.Arch == model.ArchEncoder:
		c.LR = 2e-3
		c.WarmupSteps = 30
		c.TotalSteps = 400
		c.BatchSize = 32
		c.SeqLen = 48
		c.EvalEvery = 50
		c.EvalBatches = 4
		c.CheckpointEvery = 100
		c.WeightDecay = 0.01
		c.ValidateEvery = 100
	case p.Config.Arch == model.ArchEncoder:
		c.LR = 1e-3
		c.TotalSteps = 3000
		c.BatchSize = 32
		c.SeqLen = 64
		c.ValidateEvery = 250
		c.Patience = 6
	case tiny:
		c.LR = 2e-3
		c.WarmupSteps = 50
		c.TotalSteps = 1500
		c.BatchSize = 16
		c.EvalEvery = 100
		c.EvalBatches = 2
		c.CheckpointEvery = 250
		c.WeightDecay = 0.01
		c.ValidateEvery = 250
		c.CopyLoss = 1
		if p.Task == "edgefunccall" {
			// Batch 8 for twice the steps, the same tokens: on EdgeFuncCall-20
			// the task metric on held-out train records was higher at 8k and
			// 16k records (BENCHMARKS.md), and the student kept asking for
			// parameters where batch 16 let it fall silent.
			c.BatchSize = 8
			c.TotalSteps = 3000
		}
	case p.Nominal < 20_000_000:
		c.LR = 2e-3
		c.WarmupSteps = 100
		c.TotalSteps = 4000
		c.BatchSize = 16
		c.EvalEvery = 250
		c.EvalBatches = 4
		c.CheckpointEvery = 250
		c.WeightDecay = 0.01
		c.ValidateEvery = 250
		c.Patience = 8
		c.CopyLoss = 1
	default:
		c.LR = 5e-4
		c.TotalSteps = 5000
		c.BatchSize = 4
		c.SeqLen = 512
		c.ValidateEvery = 500
		c.Patience = 6
		c.CopyLoss = 1
	}
	return c
}

// fill takes Defaults for every zero field of c.
func fill(c, d train.Config) train.Config {
	c.LR = cmp.Or(c.LR, d.LR)
	c.WarmupSteps = cmp.Or(c.WarmupSteps, d.WarmupSteps)
	c.TotalSteps = cmp.Or(c.TotalSteps, d.TotalSteps)
	c.MinLRRatio = cmp.Or(c.MinLRRatio, d.MinLRRatio)
	c.WeightDecay = cmp.Or(c.WeightDecay, d.WeightDecay)
	c.Beta1 = cmp.Or(c.Beta1, d.Beta1)
	c.Beta2 = cmp.Or(c.Beta2, d.Beta2)
	c.Eps = cmp.Or(c.Eps, d.Eps)
	c.GradClip = cmp.Or(c.GradClip, d.GradClip)
	c.GradAccum = cmp.Or(c.GradAccum, d.GradAccum)
	c.BatchSize = cmp.Or(c.BatchSize, d.BatchSize)
	c.SeqLen = cmp.Or(c.SeqLen, d.SeqLen)
	c.EvalEvery = cmp.Or(c.EvalEvery, d.EvalEvery)
	c.EvalBatches = cmp.Or(c.EvalBatches, d.EvalBatches)
	c.CheckpointEvery = cmp.Or(c.CheckpointEvery, d.CheckpointEvery)
	c.ValidateEvery = max(cmp.Or(c.ValidateEvery, d.ValidateEvery), 0)    // -1: off
	c.ScrambleCopies = max(cmp.Or(c.ScrambleCopies, d.ScrambleCopies), 0) // -1: none
	c.CopyLoss = max(cmp.Or(c.CopyLoss, d.CopyLoss), 0)                   // -1: off
	c.LabelSmoothing = max(cmp.Or(c.LabelSmoothing, d.LabelSmoothing), 0) // -1: off
	c.TokenDropout = max(cmp.Or(c.TokenDropout, d.TokenDropout), 0)       // -1: off
	c.Patience = max(cmp.Or(c.Patience, d.Patience), 0)
	c.Seed = cmp.Or(c.Seed, d.Seed)
	c.WarmupSteps = min(c.WarmupSteps, max(c.TotalSteps/10, 1))
	return c
}
