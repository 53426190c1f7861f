package distill

import (
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/train"
)

// Defaults are the training settings of a preset, measured on the project's
// 2-core reference machine (BENCHMARKS.md): tiny presets train in minutes, the nlm-*
// ones in about two hours, the full-size ones are starting points. Decoders learn
// with copy supervision and pick their checkpoint by the task metric.
func Defaults(p model.Preset) train.Config {
	c := train.DefaultConfig()
	tiny := p.Nominal == 0
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
	pick := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	pickF := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	pickF(&c.LR, d.LR)
	pick(&c.WarmupSteps, d.WarmupSteps)
	pick(&c.TotalSteps, d.TotalSteps)
	pickF(&c.MinLRRatio, d.MinLRRatio)
	pickF(&c.WeightDecay, d.WeightDecay)
	pickF(&c.Beta1, d.Beta1)
	pickF(&c.Beta2, d.Beta2)
	pickF(&c.Eps, d.Eps)
	pickF(&c.GradClip, d.GradClip)
	pick(&c.GradAccum, d.GradAccum)
	pick(&c.BatchSize, d.BatchSize)
	pick(&c.SeqLen, d.SeqLen)
	pick(&c.EvalEvery, d.EvalEvery)
	pick(&c.EvalBatches, d.EvalBatches)
	pick(&c.CheckpointEvery, d.CheckpointEvery)
	pick(&c.ValidateEvery, d.ValidateEvery)
	pick(&c.ScrambleCopies, d.ScrambleCopies)
	pickF(&c.CopyLoss, d.CopyLoss)
	c.CopyLoss = max(c.CopyLoss, 0)             // -1: off
	c.ScrambleCopies = max(c.ScrambleCopies, 0) // -1: none
	pick(&c.Patience, d.Patience)
	c.ValidateEvery = max(c.ValidateEvery, 0) // -1: off
	c.Patience = max(c.Patience, 0)
	if c.Seed == 0 {
		c.Seed = d.Seed
	}
	c.WarmupSteps = min(c.WarmupSteps, max(c.TotalSteps/10, 1))
	return c
}
