package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/workflows"
)

// Upper bounds of train's numeric flags: far above any run this machine or
// a small cluster makes, low enough that a typo (an extra few zeros) is
// refused instead of starting a run that cannot end.
const (
	maxTrainSteps      = 10_000_000
	maxTrainBatch      = 4096
	maxTrainGradAccum  = 1024
	maxScrambleCopies  = 100
	maxHeartbeatSecond = 24 * 3600
	maxBaseSeqLen      = 1 << 16
)

// validate checks every flag before a workflow starts, naming the flag: what
// the Train workflow would refuse only after the server started (a preset,
// method or dataset that does not fit), or would never refuse (a negative
// step count). With the embedded server the dataset and --base are on this
// machine, so they must exist; with --address they are on the workers'.
func (f *trainFlags) validate(a *app) error {
	in := &f.in
	if in.Preset == "" || (in.Dataset == "" && len(in.Datasets) == 0) {
		return errors.New("--preset and --dataset (or --datasets for a multi-task preset) are required")
	}
	if f.detach && f.cluster.address == "" {
		return errors.New("--detach needs --address (the embedded server stops with this process)")
	}
	p, err := model.LookupPreset(in.Preset)
	if err != nil {
		return fmt.Errorf("--preset: %w", err)
	}
	method, err := distill.PickMethod(p.Config.Arch, in.Method)
	if err != nil {
		return fmt.Errorf("--method: %w", err)
	}
	if usesBase := method == distill.MethodLoRA || method == distill.MethodFull; usesBase != (in.Base != "") {
		return fmt.Errorf("--base: methods lora and full need a base model, and only they use one (method %s, base %q)", method, in.Base)
	}
	if in.Base != "" && f.cluster.address == "" {
		if _, err := os.Stat(in.Base); err != nil {
			return fmt.Errorf("--base %s: %w", in.Base, errors.Unwrap(err))
		}
	}
	if err := f.checkDatasets(a, p); err != nil {
		return err
	}
	if err := f.parseWeights(); err != nil {
		return err
	}
	maxSeq := p.Config.MaxSeq // training clamps to it
	if in.Base != "" {
		maxSeq = maxBaseSeqLen // the base's own length is known only once it is read
	}
	if err := checkTrainNumbers(in, maxSeq); err != nil {
		return err
	}
	return nil
}

// checkDatasets parses --dataset / --datasets against the preset's task and,
// on the embedded server, opens each version.
func (f *trainFlags) checkDatasets(a *app, p model.Preset) error {
	in := &f.in
	refs, flag := []string{in.Dataset}, "--dataset"
	switch {
	case in.Dataset != "" && len(in.Datasets) > 0:
		return errors.New("--dataset and --datasets: give one (--datasets for a multi-task preset)")
	case p.Task == "multi" && in.Dataset != "":
		return fmt.Errorf("--dataset: preset %s trains several tasks: give --datasets, one per task", p.Name)
	case p.Task != "multi" && len(in.Datasets) > 0:
		return fmt.Errorf("--datasets: preset %s is for %s only: give --dataset", p.Name, p.Task)
	case len(in.Datasets) > 0:
		refs, flag = in.Datasets, "--datasets"
	}
	for _, ref := range refs {
		task, _, err := datasets.ParseRef(ref)
		if err != nil {
			return fmt.Errorf("%s: %w", flag, err)
		}
		if p.Task != "multi" && string(task) != p.Task {
			return fmt.Errorf("%s %s: preset %s is for %s, not %s", flag, ref, p.Name, p.Task, task)
		}
	}
	return checkDatasetRefs(a, flag, refs, f.cluster.address == "")
}

// parseWeights fills in.Weights from --weights: positive numbers, for tasks
// of --datasets only.
func (f *trainFlags) parseWeights() error {
	var tasks []string
	for _, ref := range f.in.Datasets {
		if t, _, err := datasets.ParseRef(ref); err == nil {
			tasks = append(tasks, string(t))
		}
	}
	for task, w := range f.weightsFlag {
		v, err := strconv.ParseFloat(w, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("--weights %s=%s: want a positive number", task, w)
		}
		if !slices.Contains(tasks, task) {
			return fmt.Errorf("--weights %s: not a task of --datasets (%v)", task, tasks)
		}
		if f.in.Weights == nil {
			f.in.Weights = map[string]float64{}
		}
		f.in.Weights[task] = v
	}
	return nil
}

// checkTrainNumbers bounds the numeric flags. 0 means the default for each;
// -1 means off where the flag says so.
func checkTrainNumbers(in *workflows.TrainInput, maxSeq int) error {
	for _, c := range []struct {
		flag     string
		v        int
		min, max int
	}{
		{"--steps", in.Steps, 0, maxTrainSteps},
		{"--batch-size", in.BatchSize, 0, maxTrainBatch},
		{"--grad-accum", in.GradAccum, 0, maxTrainGradAccum},
		{"--seq-len", in.SeqLen, 0, maxSeq},
		{"--checkpoint-every", in.CheckpointEvery, 0, maxTrainSteps},
		{"--validate-every", in.ValidateEvery, -1, maxTrainSteps},
		{"--patience", in.Patience, -1, maxTrainSteps},
		{"--scramble-copies", in.ScrambleCopies, -1, maxScrambleCopies},
		{"--heartbeat-timeout", in.HeartbeatSeconds, 0, maxHeartbeatSecond},
	} {
		if c.v < c.min || c.v > c.max {
			return fmt.Errorf("%s %d: want %d to %d", c.flag, c.v, c.min, c.max)
		}
	}
	for _, c := range []struct {
		flag     string
		v        float64
		min, max float64
	}{
		{"--lr", in.LR, 0, 1},
		{"--kd-alpha", in.KDAlpha, 0, 1},
		{"--kd-temperature", in.KDTemperature, 0, 100},
	} {
		if !(c.v >= c.min && c.v <= c.max) { // NaN fails too
			return fmt.Errorf("%s %g: want %g to %g", c.flag, c.v, c.min, c.max)
		}
	}
	return nil
}
