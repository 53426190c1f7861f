package distill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/nn"
	"github.com/cyclecore/mlmforge/distill/train"
)

// taskSet is one task of a MethodMultitask run.
type taskSet struct {
	name    string // the dataset's task, e.g. "edgejson"
	version *datasets.Version
	weight  float64 // normalised
	recs    []datasets.Record
}

// trainMultitask trains one decoder on several tasks: one tokenizer trained on every
// task's prompts and targets, 5% of each task held out for its own eval loss, and
// batches mixed by the tasks' weights (train.MixLoader). The lineage lists the tasks
// ("tasks", which the evaluation reads to score the student on each of them), the
// dataset versions and the weights.
func trainMultitask(ctx context.Context, spec TrainSpec, p model.Preset, tc train.Config, autoSeq bool) (TrainResult, error) {
	tasks, err := multitaskSets(spec)
	if err != nil {
		return TrainResult{}, err
	}
	if err := os.MkdirAll(spec.OutDir, 0o755); err != nil {
		return TrainResult{}, err
	}
	var all []datasets.Record
	for _, ts := range tasks {
		all = append(all, ts.recs...)
	}
	cfg := p.Config
	resume, err := train.LatestCheckpoint(spec.OutDir)
	if err != nil {
		return TrainResult{}, err
	}
	style, err := promptStyleFor(&cfg, MethodMultitask, resume)
	if err != nil {
		return TrainResult{}, err
	}
	tok, err := studentTokenizer(spec.OutDir, all, cfg, spec.Catalog, style)
	if err != nil {
		return TrainResult{}, err
	}
	cfg.Vocab = tok.VocabSize()
	tc.SeqLen = fitMaxSeq(&cfg, MethodMultitask, tc.SeqLen)
	ds := train.DataSpec{Arch: cfg.Arch, SeqLen: tc.SeqLen, Tokenizer: trainTokenizer{tok}, Catalog: spec.Catalog, PromptStyle: style}
	trainRecs, heldRecs := make([][]datasets.Record, len(tasks)), make([][]datasets.Record, len(tasks))
	var allTrain []datasets.Record
	for i, ts := range tasks {
		trainRecs[i], heldRecs[i] = train.SplitHoldout(ts.recs, 0.05)
		allTrain = append(allTrain, trainRecs[i]...)
	}
	if autoSeq {
		// One T serves every task: the 98th percentile over the mixed examples.
		if tc.SeqLen, err = fitSeqLen(ds, allTrain, &cfg, MethodMultitask); err != nil {
			return TrainResult{}, &DataError{err}
		}
		ds.SeqLen = tc.SeqLen
	}
	lineage := multitaskLineage(tasks, spec.Lineage)
	if style != train.PromptFull {
		lineage[train.LineagePromptStyle] = string(style)
	}
	job := train.Job{ModelConfig: cfg, Preset: p.Name, Lineage: lineage,
		Tokenizer: trainTokenizer{tok}, OutDir: spec.OutDir, Progress: spec.Progress, Resume: resume}
	out := TrainResult{Config: cfg, Method: MethodMultitask, Train: tc}
	for i, ts := range tasks {
		d, err := train.BuildData(ds, train.Augment(spec.Catalog, trainRecs[i], tc.ScrambleCopies, tc.Seed))
		if err != nil {
			return TrainResult{}, &DataError{fmt.Errorf("task %s: train split: %w", ts.name, err)}
		}
		job.Mixture = append(job.Mixture, train.Source{Name: ts.name, Data: d, Weight: ts.weight})
		out.TrainExamples += len(d.Examples)
		out.Truncated += d.Truncated
		out.Tasks = append(out.Tasks, ts.name)
		if len(heldRecs[i]) == 0 {
			continue // too few records to hold any out: this task gets no eval loss
		}
		ev, err := train.BuildData(ds, heldRecs[i])
		if err != nil {
			return TrainResult{}, fmt.Errorf("task %s: held-out slice: %w", ts.name, err)
		}
		job.Evals = append(job.Evals, train.EvalSet{Name: ts.name, Data: ev})
		out.EvalExamples += len(ev.Examples)
	}
	if job.Validator, err = validatorFor(tc, spec.Catalog, tok, nil, slices.Concat(heldRecs...), style); err != nil {
		return TrainResult{}, err
	}
	if job.Model, err = nn.New(cfg, model.Init(cfg, tc.Seed), nn.Options{CopyLoss: tc.CopyLoss}); err != nil {
		return TrainResult{}, err
	}
	res, err := train.Run(ctx, tc, job)
	out.Checkpoint = cmp.Or(res.BestCheckpoint, res.Checkpoint)
	out.Result = res
	out.Resumed = job.Resume != ""
	return out, err
}

// multitaskSets reads the train split of every version of a MethodMultitask spec,
// sorted by task so that the same tasks give the same run whatever their order, with
// their normalised weights.
func multitaskSets(spec TrainSpec) ([]taskSet, error) {
	if spec.Version != nil {
		return nil, errors.New("method multitask: set TrainSpec.Versions (one per task), not Version")
	}
	if len(spec.Versions) == 0 {
		return nil, errors.New("method multitask: no dataset versions (TrainSpec.Versions)")
	}
	var tasks []taskSet
	for i, v := range spec.Versions {
		if v == nil {
			return nil, fmt.Errorf("method multitask: dataset version %d is nil", i)
		}
		name := v.Manifest().Task
		if j := slices.IndexFunc(tasks, func(t taskSet) bool { return t.name == name }); j >= 0 {
			return nil, fmt.Errorf("method multitask: two versions of task %s (%s and %s); give one per task",
				name, tasks[j].version.Manifest().Ref(), v.Manifest().Ref())
		}
		recs, err := v.Read("train")
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return nil, &DataError{fmt.Errorf("dataset %s has no train split to learn from", v.Dir())}
		}
		tasks = append(tasks, taskSet{name: name, version: v, recs: recs})
	}
	slices.SortFunc(tasks, func(a, b taskSet) int { return strings.Compare(a.name, b.name) })
	return tasks, resolveWeights(tasks, spec.Weights)
}

// resolveWeights sets the tasks' normalised weights: equal when w is empty, else w's,
// which must name every task, and only them, with a positive weight.
func resolveWeights(tasks []taskSet, w map[string]float64) error {
	for name := range w {
		if !slices.ContainsFunc(tasks, func(t taskSet) bool { return t.name == name }) {
			return fmt.Errorf("method multitask: weight for task %s, which has no dataset version", name)
		}
	}
	var total float64
	for i := range tasks {
		x, ok := w[tasks[i].name]
		switch {
		case len(w) == 0:
			x = 1
		case !ok:
			return fmt.Errorf("method multitask: no weight for task %s (give every task one, or none for equal weights)", tasks[i].name)
		case !(x > 0) || math.IsInf(x, 0):
			return fmt.Errorf("method multitask: task %s: weight %g must be positive and finite", tasks[i].name, x)
		}
		tasks[i].weight = x
		total += x
	}
	for i := range tasks {
		tasks[i].weight /= total
	}
	return nil
}

// multitaskLineage records the run's tasks, dataset versions and weights, then extra.
func multitaskLineage(tasks []taskSet, extra map[string]string) map[string]string {
	var names, refs, weights []string
	for _, ts := range tasks {
		names = append(names, ts.name)
		refs = append(refs, ts.version.Manifest().Ref())
		weights = append(weights, ts.name+"="+strconv.FormatFloat(ts.weight, 'g', 6, 64))
	}
	lineage := map[string]string{"method": MethodMultitask, "tasks": strings.Join(names, ","),
		"datasets": strings.Join(refs, ","), "weights": strings.Join(weights, ",")}
	for k, v := range extra {
		lineage[k] = v
	}
	return lineage
}
