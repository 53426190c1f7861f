package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
		return temporal.NewNonRetryableApplicationError("invalid pipeline spec: "+err.Error(), "InvalidSpec", err)
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
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, NonRetryableErrorTypes: []string{"InvalidSpec"}},
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
	type pending struct {
		i   int
		fut workflow.ChildWorkflowFuture
	}
	var gens []pending
	p.res.Datasets = make([]FoundDataset, len(p.spec.Datasets))
	for i, d := range p.spec.Datasets {
		st := p.step("dataset " + string(d.Spec.Task))
		var found FoundDataset
		if err := workflow.ExecuteActivity(actx, FindDatasetActivityName, FindDatasetInput{Spec: d.Spec, Reuse: d.Reuse}).Get(ctx, &found); err != nil {
			st.State, st.Detail = "failed", err.Error()
			return err
		}
		p.res.Datasets[i] = found
		if found.Found {
			st.State, st.Detail = "reused", found.Task+"@"+found.Version
			p.res.Reused = append(p.res.Reused, st.Name)
			continue
		}
		id := DatasetWorkflowID(found.SpecHash)
		st.State, st.WorkflowID = "running", id
		fut := workflow.ExecuteChildWorkflow(childCtx(ctx, id), DatasetWorkflowName, DatasetInput{Spec: d.Spec, Review: p.spec.Review})
		gens = append(gens, pending{i, fut})
	}
	// Children finish in any order; a selector records each as it ends, so
	// the progress query is never behind.
	var errs error
	sel := workflow.NewSelector(ctx)
	for _, g := range gens {
		sel.AddFuture(g.fut, func(f workflow.Future) {
			st := p.step("dataset " + string(p.spec.Datasets[g.i].Spec.Task))
			var dr DatasetResult
			if err := f.Get(ctx, &dr); err != nil {
				st.State, st.Detail = "failed", err.Error()
				errs = errors.Join(errs, err)
				return
			}
			d := &p.res.Datasets[g.i]
			d.Task, d.Version, d.Dir = dr.Task, dr.Version, dr.Dir
			st.State, st.Detail = "done", d.Task+"@"+d.Version
		})
	}
	for range gens {
		sel.Select(ctx)
	}
	return errs
}

// trainKey derives a training step's identity from its inputs.
func trainKey(m PipelineModel, in TrainInput) string {
	// encoding/json is deterministic here (structs; maps would be sorted anyway).
	//workflowcheck:ignore
	b, _ := json.Marshal(struct {
		Name  string
		Train TrainInput
	}{m.Name, in})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])[:16]
}

// train trains every student in parallel child workflows, reusing finished runs.
func (p *pipelineImpl) train(ctx workflow.Context) error {
	actx := p.shortCtx(ctx, TaskQueueTrain)
	type pending struct {
		m   PipelineModel
		fut workflow.ChildWorkflowFuture
	}
	var runs []pending
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
		key := trainKey(m, in)
		var found TrainResult
		if err := workflow.ExecuteActivity(actx, FindTrainedActivityName, FindTrainedInput{RunKey: key}).Get(ctx, &found); err != nil {
			st.State, st.Detail = "failed", err.Error()
			return err
		}
		if found.Checkpoint != "" {
			st.State, st.Detail = "reused", found.Checkpoint
			p.res.Reused = append(p.res.Reused, st.Name)
			p.res.Trained = append(p.res.Trained, PromoteStudent{Name: m.Name, Task: m.Task, Checkpoint: found.Checkpoint, Train: found})
			continue
		}
		id := "train-" + key
		st.State, st.WorkflowID = "running", id
		runs = append(runs, pending{m, workflow.ExecuteChildWorkflow(childCtx(ctx, id), TrainWorkflowName, in)})
	}
	var errs error
	done := make([]*PromoteStudent, len(runs))
	sel := workflow.NewSelector(ctx)
	for i, r := range runs {
		sel.AddFuture(r.fut, func(f workflow.Future) {
			st := p.step("train " + r.m.Name)
			var tr TrainResult
			if err := f.Get(ctx, &tr); err != nil {
				st.State, st.Detail = "failed", err.Error()
				errs = errors.Join(errs, err)
				return
			}
			st.State, st.Detail = "done", tr.Checkpoint
			done[i] = &PromoteStudent{Name: r.m.Name, Task: r.m.Task, Checkpoint: tr.Checkpoint, Train: tr}
		})
	}
	for range runs {
		sel.Select(ctx)
	}
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
	//workflowcheck:ignore (encoding/json is deterministic for this struct)
	b, _ := json.Marshal(in)
	h := sha256.Sum256(b)
	id := "eval-" + hex.EncodeToString(h[:])[:16]
	st.State, st.WorkflowID = "running", id
	if err := workflow.ExecuteChildWorkflow(childCtx(ctx, id), EvaluateWorkflowName, in).Get(ctx, &p.res.Eval); err != nil {
		st.State, st.Detail = "failed", err.Error()
		return err
	}
	st.State, st.Detail = "done", p.res.Eval.ReportDir
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
	if err := workflow.ExecuteActivity(p.shortCtx(ctx, TaskQueueEval), PromoteActivityName, in).Get(ctx, &pr); err != nil {
		st.State, st.Detail = "failed", err.Error()
		return err
	}
	p.res.Promotions, p.res.Lineage = pr.Promotions, pr.Lineage
	n := 0
	for _, x := range pr.Promotions {
		if x.Promoted {
			n++
		}
	}
	st.State, st.Detail = "done", fmt.Sprintf("%d of %d promoted", n, len(pr.Promotions))
	// The memo carries the lineage to every client that lists runs (the Web UI,
	// mlmforge status) without opening files; memo rather than search attributes
	// because a cluster may not have mlmforge's attributes registered.
	lineage := map[string]any{"lineage_file": pr.Lineage, "datasets": p.res.Datasets, "report": p.res.Eval.ReportDir,
		"promotions": pr.Promotions, "reused": p.res.Reused}
	return workflow.UpsertMemo(ctx, map[string]any{"lineage": lineage})
}
