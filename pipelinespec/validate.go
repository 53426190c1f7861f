package pipelinespec

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// Defaults a pipeline spec file may leave out (docs/pipeline.md).
const (
	defaultEvalSplit          = "test"
	defaultPromotionTolerance = 0.01
)

// specName is what a pipeline name and a model name may look like: both end
// up in directory names (HOME/models/<pipeline>/) and workflow ids.
var specName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// fillDefaults fills what a spec may leave out and normalizes task
// names, so that the stored schedule shows what will run. Generation defaults
// are left to the Dataset workflow (generator.Spec.WithDefaults), which applies
// them before hashing, so the spec hash is the same either way.
func fillDefaults(s *workflows.PipelineSpec) {
	if s.Review.Policy == "" {
		s.Review.Policy = workflows.ReviewRequired
	}
	if s.Eval.Split == "" {
		s.Eval.Split = defaultEvalSplit
	}
	if s.Promotion.Tolerance == 0 {
		s.Promotion.Tolerance = defaultPromotionTolerance
	}
	for i := range s.Datasets {
		d := &s.Datasets[i]
		if d.Spec.Task == "" && d.Reuse != "" {
			task, _, _ := strings.Cut(d.Reuse, "@")
			d.Spec.Task = schemas.Task(task)
		}
		if t, err := schemas.ParseTask(string(d.Spec.Task)); err == nil {
			d.Spec.Task = t
		}
	}
	for i := range s.Models {
		if t, err := schemas.ParseTask(s.Models[i].Task); err == nil {
			s.Models[i].Task = string(t)
		}
	}
}

// validate names the first field of a defaulted spec that cannot run.
func validate(s workflows.PipelineSpec) error {
	if s.Name == "" {
		return errors.New("name is required")
	}
	if !specName.MatchString(s.Name) {
		return fmt.Errorf("name %q: use letters, digits, '.', '_' and '-' (it names a directory)", s.Name)
	}
	tasks, err := validateDatasets(s.Datasets, s.Eval.Split)
	if err != nil {
		return err
	}
	if err := validateReview(s.Review); err != nil {
		return err
	}
	if err := validateModels(s.Models, tasks); err != nil {
		return err
	}
	return validateEvalPromotion(s, tasks)
}

// validateDatasets checks the dataset steps and returns their tasks.
func validateDatasets(ds []workflows.PipelineDataset, split string) (map[string]bool, error) {
	if len(ds) == 0 {
		return nil, errors.New("datasets: give at least one dataset step")
	}
	tasks := map[string]bool{}
	for i, d := range ds {
		at := fmt.Sprintf("datasets[%d]", i)
		if _, err := schemas.ParseTask(string(d.Spec.Task)); err != nil {
			return nil, fmt.Errorf("%s.spec.task: %w", at, err)
		}
		if tasks[string(d.Spec.Task)] {
			return nil, fmt.Errorf("%s: a second dataset for task %s (one dataset per task)", at, d.Spec.Task)
		}
		tasks[string(d.Spec.Task)] = true
		if d.Reuse != "" {
			task, ver, ok := strings.Cut(d.Reuse, "@")
			if !ok || ver == "" || strings.ContainsAny(ver, `/\`) || ver == ".." {
				return nil, fmt.Errorf("%s.reuse %q: want TASK@VERSION, e.g. edgeintent@v3", at, d.Reuse)
			}
			if t, err := schemas.ParseTask(task); err != nil || t != d.Spec.Task {
				return nil, fmt.Errorf("%s.reuse %q: not a version of task %s", at, d.Reuse, d.Spec.Task)
			}
			continue
		}
		spec := d.Spec.WithDefaults()
		if err := spec.Validate(); err != nil {
			return nil, fmt.Errorf("%s.spec.%w", at, err)
		}
		if tag, ok := strings.CutPrefix(spec.Teacher, "ollama:"); spec.Teacher != "builtin" && (!ok || tag == "") {
			return nil, fmt.Errorf("%s.spec.teacher %q: want builtin or ollama:<model>", at, spec.Teacher)
		}
		if spec.Counts[split] <= 0 {
			return nil, fmt.Errorf("%s.spec.counts: no %q examples, and eval.split evaluates %q", at, split, split)
		}
	}
	return tasks, nil
}

func validateReview(r workflows.ReviewOptions) error {
	switch {
	case r.Policy != workflows.ReviewRequired && r.Policy != workflows.ReviewAuto:
		return fmt.Errorf("review.policy %q: want %s or %s", r.Policy, workflows.ReviewRequired, workflows.ReviewAuto)
	case r.Fraction < 0 || r.Fraction > 1:
		return fmt.Errorf("review.fraction %g: must be in (0, 1]", r.Fraction)
	case r.Threshold < 0 || r.Threshold > 1:
		return fmt.Errorf("review.threshold %g: must be in (0, 1]", r.Threshold)
	case r.DeadlineSeconds < 0:
		return fmt.Errorf("review.deadline_seconds %d: must be >= 0", r.DeadlineSeconds)
	case r.OnDeadline != "" && r.OnDeadline != "fail" && r.OnDeadline != "release":
		return fmt.Errorf("review.on_deadline %q: want fail or release", r.OnDeadline)
	case r.MaxRegenerations < 0:
		return fmt.Errorf("review.max_regenerations %d: must be >= 0", r.MaxRegenerations)
	}
	return nil
}

func validateModels(ms []workflows.PipelineModel, tasks map[string]bool) error {
	if len(ms) == 0 {
		return errors.New("models: give at least one student to train")
	}
	names := map[string]bool{}
	for i, m := range ms {
		at := fmt.Sprintf("models[%d]", i)
		switch {
		case m.Name == "":
			return fmt.Errorf("%s.name is required", at)
		case !specName.MatchString(m.Name):
			return fmt.Errorf("%s.name %q: use letters, digits, '.', '_' and '-'", at, m.Name)
		case names[m.Name]:
			return fmt.Errorf("%s.name %q: used twice", at, m.Name)
		case m.Task != "multi" && !tasks[m.Task]:
			return fmt.Errorf("%s.task %q: no dataset step for it (have %s, or multi for every one)", at, m.Task, strings.Join(slices.Sorted(maps.Keys(tasks)), ", "))
		case m.Task == "multi" && len(tasks) < 2:
			return fmt.Errorf("%s.task multi: a multi-task student needs at least two dataset steps", at)
		case len(m.Train.Datasets) > 0:
			return fmt.Errorf("%s.train.datasets: leave it out, task multi trains on every dataset step", at)
		case m.Train.Preset == "":
			return fmt.Errorf("%s.train.preset is required", at)
		case m.Train.Dataset != "":
			return fmt.Errorf("%s.train.dataset: leave it out, the pipeline trains on its dataset step's version", at)
		}
		names[m.Name] = true
		p, err := model.LookupPreset(m.Train.Preset)
		if err != nil {
			return fmt.Errorf("%s.train.preset: %w", at, err)
		}
		if (m.Task == "multi") != (p.Task == "multi") {
			return fmt.Errorf("%s.train.preset %s is meant for %s, task is %s (multi-task students: task multi with a multi preset)", at, p.Name, p.Task, m.Task)
		}
		if p.Task != m.Task && p.Task != "multi" {
			return fmt.Errorf("%s.train.preset %s is meant for %s, not %s", at, p.Name, p.Task, m.Task)
		}
		// The method is checked by the PrepareTrain activity, which knows
		// which methods fit which preset; it fails the run at once.
		if m.Train.Steps < 0 || m.Train.BatchSize < 0 || m.Train.SeqLen < 0 || m.Train.LR < 0 || m.Train.CheckpointEvery < 0 {
			return fmt.Errorf("%s.train: steps, batch_size, seq_len, lr and checkpoint_every must be >= 0", at)
		}
	}
	return nil
}

func validateEvalPromotion(s workflows.PipelineSpec, tasks map[string]bool) error {
	for i, b := range s.Baselines {
		if m, ok := strings.CutPrefix(b, "ollama:"); !ok || m == "" {
			return fmt.Errorf("baselines[%d] %q: want ollama:<model>", i, b)
		}
	}
	if s.Eval.Limit < 0 {
		return fmt.Errorf("eval.limit %d: must be >= 0 (0 = all)", s.Eval.Limit)
	}
	for i, n := range s.Eval.Shots {
		if n < 0 {
			return fmt.Errorf("eval.shots[%d] %d: must be >= 0", i, n)
		}
	}
	if t := s.Promotion.Tolerance; t < 0 || t >= 1 {
		return fmt.Errorf("promotion.tolerance %g: must be in [0, 1)", t)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Promotion.Thresholds)) {
		task, metric, ok := strings.Cut(k, ".")
		if !ok || metric == "" {
			return fmt.Errorf("promotion.thresholds %q: want TASK.METRIC, e.g. edgeintent.top1", k)
		}
		if !tasks[task] {
			return fmt.Errorf("promotion.thresholds %q: no dataset step for task %q", k, task)
		}
	}
	return nil
}
