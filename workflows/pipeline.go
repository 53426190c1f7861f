package workflows

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// PipelineWorkflow runs one pass of a pipeline spec: datasets (regenerated
// behind their review gate, or reused when a version with the same spec hash
// exists), the students trained as parallel child workflows (reused when the
// same training inputs already finished), one evaluation of students and
// baselines, and promotion. Each step is a child workflow with an id derived
// from its inputs, so status can follow it and a rerun finds its work.
func PipelineWorkflow(ctx workflow.Context, spec PipelineSpec) (PipelineResult, error) {
	p := &pipelineImpl{spec: spec}
	if err := p.setup(ctx); err != nil {
		return PipelineResult{}, err
	}
	return p.run(ctx)
}

type pipelineImpl struct {
	spec     PipelineSpec
	progress PipelineProgress
	res      PipelineResult
}

func (p *pipelineImpl) setup(ctx workflow.Context) error {
	if err := validatePipeline(p.spec); err != nil {
		return invalidSpec("pipeline", err)
	}
	for _, d := range p.spec.Datasets {
		p.progress.Steps = append(p.progress.Steps, PipelineStep{Name: "dataset " + string(d.Spec.Task), State: "pending"})
	}
	for _, m := range p.spec.Models {
		p.progress.Steps = append(p.progress.Steps, PipelineStep{Name: "train " + m.Name, State: "pending"})
	}
	p.progress.Steps = append(p.progress.Steps, PipelineStep{Name: "evaluate", State: "pending"}, PipelineStep{Name: "promote", State: "pending"})
	return workflow.SetQueryHandler(ctx, PipelineProgressQuery, func() (PipelineProgress, error) { return p.progress, nil })
}

// validatePipeline names the first field of a spec that cannot run.
func validatePipeline(s PipelineSpec) error {
	if s.Name == "" {
		return errors.New("name is required")
	}
	if len(s.Datasets) == 0 || len(s.Models) == 0 {
		return errors.New("datasets and models must not be empty")
	}
	tasks := map[string]bool{}
	for i, d := range s.Datasets {
		if d.Spec.Task == "" {
			return fmt.Errorf("datasets[%d].spec.task is required", i)
		}
		if tasks[string(d.Spec.Task)] {
			return fmt.Errorf("datasets[%d]: a second dataset for task %s", i, d.Spec.Task)
		}
		tasks[string(d.Spec.Task)] = true
	}
	for i, m := range s.Models {
		if m.Name == "" || m.Train.Preset == "" {
			return fmt.Errorf("models[%d]: name and train.preset are required", i)
		}
		if m.Task != "multi" && !tasks[m.Task] {
			return fmt.Errorf("models[%d].task %q has no dataset in the spec", i, m.Task)
		}
	}
	return nil
}

// start, fail and done move a step to running (in child workflow id),
// failed or done.
func (s *PipelineStep) start(id string) {
	s.State = "running"
	s.WorkflowID = id
}

func (s *PipelineStep) fail(err error) {
	s.State = "failed"
	s.Detail = err.Error()
}

func (s *PipelineStep) done(detail string) {
	s.State = "done"
	s.Detail = detail
}

func (p *pipelineImpl) step(name string) *PipelineStep {
	for i := range p.progress.Steps {
		if p.progress.Steps[i].Name == name {
			return &p.progress.Steps[i]
		}
	}
	return &PipelineStep{} // unreachable: setup made every step
}

func (p *pipelineImpl) run(ctx workflow.Context) (PipelineResult, error) {
	if err := p.datasets(ctx); err != nil {
		return p.res, err
	}
	if err := p.train(ctx); err != nil {
		return p.res, err
	}
	if err := p.evaluate(ctx); err != nil {
		return p.res, err
	}
	return p.res, p.promote(ctx)
}

func (p *pipelineImpl) shortCtx(ctx workflow.Context, queue string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           queue,
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, NonRetryableErrorTypes: []string{ErrInvalidSpec}},
	})
}

// childCtx starts a child with a deterministic id; a child that fails fails the
// pipeline, and one that is already running under that id is joined.
func childCtx(ctx workflow.Context, id string) workflow.Context {
	return workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            id,
		TaskQueue:             TaskQueueWorkflows,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_TERMINATE,
	})
}

// datasets finds or generates every dataset, generation in parallel.
func (p *pipelineImpl) datasets(ctx workflow.Context) error {
	actx := p.shortCtx(ctx, TaskQueueGenerate)
	var gens []int // indexes of the datasets generated, in futs
	var futs []workflow.ChildWorkflowFuture
	p.res.Datasets = make([]FoundDataset, len(p.spec.Datasets))
	for i, d := range p.spec.Datasets {
		st := p.step("dataset " + string(d.Spec.Task))
		var found FoundDataset
		if err := findDataset(actx, FindDatasetInput{Spec: d.Spec, Reuse: d.Reuse}).Get(ctx, &found); err != nil {
			st.fail(err)
			return err
		}
		p.res.Datasets[i] = found
		if found.Found {
			st.State = "reused"
			st.Detail = found.Task + "@" + found.Version
			p.res.Reused = append(p.res.Reused, st.Name)
			continue
		}
		id := DatasetWorkflowID(found.SpecHash)
		st.start(id)
		futs = append(futs, workflow.ExecuteChildWorkflow(childCtx(ctx, id), DatasetWorkflowName, DatasetInput{Spec: d.Spec, Review: p.spec.Review}))
		gens = append(gens, i)
	}
	// Children finish in any order; each is recorded as it ends.
	var errs error
	awaitAll(ctx, futs, func(k int, f workflow.Future) {
		i := gens[k]
		st := p.step("dataset " + string(p.spec.Datasets[i].Spec.Task))
		var dr DatasetResult
		if err := f.Get(ctx, &dr); err != nil {
			st.fail(err)
			errs = errors.Join(errs, err)
			return
		}
		d := &p.res.Datasets[i]
		d.Task = dr.Task
		d.Version = dr.Version
		d.Dir = dr.Dir
		st.done(d.Task + "@" + d.Version)
	})
	return errs
}

// trainKey derives a training step's identity from its inputs.
func trainKey(m PipelineModel, in TrainInput) (string, error) {
	return inputKey(struct {
		Name  string
		Train TrainInput
	}{m.Name, in})
}

// train trains every student in parallel child workflows, reusing finished runs.
func (p *pipelineImpl) train(ctx workflow.Context) error {
	actx := p.shortCtx(ctx, TaskQueueTrain)
	var runs []PipelineModel // the models trained, in futs
	var futs []workflow.ChildWorkflowFuture
	for _, m := range p.spec.Models {
		st := p.step("train " + m.Name)
		in := m.Train
		if m.Task == "multi" {
			// A multi-task student trains on every dataset step.
			for _, d := range p.res.Datasets {
				in.Datasets = append(in.Datasets, d.Task+"@"+d.Version)
			}
		} else {
			ds := p.dataset(m.Task)
			in.Dataset = ds.Task + "@" + ds.Version
		}
		key, err := trainKey(m, in)
		if err != nil {
			st.fail(err)
			return err
		}
		var found TrainResult
		if err := findTrained(actx, FindTrainedInput{RunKey: key}).Get(ctx, &found); err != nil {
			st.fail(err)
			return err
		}
		if found.Checkpoint != "" {
			st.State = "reused"
			st.Detail = found.Checkpoint
			p.res.Reused = append(p.res.Reused, st.Name)
			p.res.Trained = append(p.res.Trained, PromoteStudent{Name: m.Name, Task: m.Task, Checkpoint: found.Checkpoint, Train: found})
			continue
		}
		id := "train-" + key
		st.start(id)
		futs = append(futs, workflow.ExecuteChildWorkflow(childCtx(ctx, id), TrainWorkflowName, in))
		runs = append(runs, m)
	}
	var errs error
	done := make([]*PromoteStudent, len(runs))
	awaitAll(ctx, futs, func(i int, f workflow.Future) {
		m := runs[i]
		st := p.step("train " + m.Name)
		var tr TrainResult
		if err := f.Get(ctx, &tr); err != nil {
			st.fail(err)
			errs = errors.Join(errs, err)
			return
		}
		st.done(tr.Checkpoint)
		done[i] = &PromoteStudent{Name: m.Name, Task: m.Task, Checkpoint: tr.Checkpoint, Train: tr}
	})
	// Results keep spec order whatever order the children finished in.
	for _, d := range done {
		if d != nil {
			p.res.Trained = append(p.res.Trained, *d)
		}
	}
	return errs
}

func (p *pipelineImpl) dataset(task string) FoundDataset {
	for _, d := range p.res.Datasets {
		if d.Task == task {
			return d
		}
	}
	return FoundDataset{}
}

// evaluate runs one evaluation of every student and baseline on every dataset.
func (p *pipelineImpl) evaluate(ctx workflow.Context) error {
	st := p.step("evaluate")
	in := EvalInput{Split: p.spec.Eval.Split, Limit: p.spec.Eval.Limit, Shots: p.spec.Eval.Shots,
		Constrained: p.spec.Eval.Constrained}
	for _, s := range p.res.Trained {
		in.Models = append(in.Models, "student:"+s.Checkpoint)
	}
	in.Models = append(in.Models, p.spec.Baselines...)
	for _, d := range p.res.Datasets {
		in.Datasets = append(in.Datasets, d.Task+"@"+d.Version)
	}
	key, err := inputKey(in)
	if err != nil {
		st.fail(err)
		return err
	}
	id := "eval-" + key
	st.start(id)
	if err := workflow.ExecuteChildWorkflow(childCtx(ctx, id), EvaluateWorkflowName, in).Get(ctx, &p.res.Eval); err != nil {
		st.fail(err)
		return err
	}
	st.done(p.res.Eval.ReportDir)
	return nil
}

// promote decides promotions and writes the lineage.
func (p *pipelineImpl) promote(ctx workflow.Context) error {
	st := p.step("promote")
	st.State = "running"
	info := workflow.GetInfo(ctx)
	in := PromoteInput{Pipeline: p.spec.Name, RunID: info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID, Policy: p.spec.Promotion,
		ReportDir: p.res.Eval.ReportDir, Students: p.res.Trained, Datasets: p.res.Datasets, Reused: map[string]bool{}}
	for _, r := range p.res.Reused {
		in.Reused[r] = true
	}
	var pr PromoteResult
	if err := promote(p.shortCtx(ctx, TaskQueueEval), in).Get(ctx, &pr); err != nil {
		st.fail(err)
		return err
	}
	p.res.Promotions = pr.Promotions
	p.res.Lineage = pr.Lineage
	n := 0
	for _, x := range pr.Promotions {
		if x.Promoted {
			n++
		}
	}
	st.done(fmt.Sprintf("%d of %d promoted", n, len(pr.Promotions)))
	// The memo carries the lineage to every client that lists runs (the Web UI,
	// mlmforge status) without opening files; memo rather than search attributes
	// because a cluster may not have mlmforge's attributes registered.
	lineage := map[string]any{"lineage_file": pr.Lineage, "datasets": p.res.Datasets, "report": p.res.Eval.ReportDir,
		"promotions": pr.Promotions, "reused": p.res.Reused}
	return workflow.UpsertMemo(ctx, map[string]any{"lineage": lineage})
}
