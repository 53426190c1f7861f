package workflows

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

func pipelineSpec() PipelineSpec {
	return PipelineSpec{Name: "weekly",
		Datasets: []PipelineDataset{
			{Spec: generator.Spec{Task: schemas.EdgeIntent, Variant: "50", Counts: map[string]int{"train": 100, "test": 50}}},
			{Spec: generator.Spec{Task: schemas.EdgeJSON, Counts: map[string]int{"train": 100, "test": 50}}},
		},
		Review: ReviewOptions{Policy: ReviewAuto},
		Models: []PipelineModel{
			{Name: "intent", Task: "edgeintent", Train: TrainInput{Preset: "tiny-intent"}},
			{Name: "json", Task: "edgejson", Train: TrainInput{Preset: "tiny-json"}},
		},
		Baselines: []string{"ollama:qwen2.5:0.5b"},
		Promotion: PromotionPolicy{Thresholds: map[string]float64{"edgeintent.top1": 0.5}},
	}
}

func TestPipelineWorkflowRunsAndReusesSteps(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(PipelineWorkflow, workflow.RegisterOptions{Name: PipelineWorkflowName})
	env.RegisterWorkflowWithOptions(DatasetWorkflow, workflow.RegisterOptions{Name: DatasetWorkflowName})
	env.RegisterWorkflowWithOptions(TrainWorkflow, workflow.RegisterOptions{Name: TrainWorkflowName})
	env.RegisterWorkflowWithOptions(EvaluateWorkflow, workflow.RegisterOptions{Name: EvaluateWorkflowName})
	// edgeintent was generated before with this spec: reused. edgejson is generated.
	env.RegisterActivityWithOptions(func(_ context.Context, in FindDatasetInput) (FoundDataset, error) {
		if in.Spec.Task == schemas.EdgeIntent {
			return FoundDataset{Found: true, Task: "edgeintent", Version: "v4", SpecHash: "aaaaaaaaaaaaaaaaaaaa"}, nil
		}
		return FoundDataset{Task: "edgejson", SpecHash: "bbbbbbbbbbbbbbbbbbbb"}, nil
	}, activity.RegisterOptions{Name: FindDatasetActivityName})
	env.OnWorkflow(DatasetWorkflowName, mock.Anything, mock.Anything).Return(
		func(ctx workflow.Context, in DatasetInput) (DatasetResult, error) {
			if workflow.GetInfo(ctx).WorkflowExecution.ID != "dataset-bbbbbbbbbbbbbbbb" || in.Review.Policy != ReviewAuto {
				t.Errorf("dataset child %s with review %+v", workflow.GetInfo(ctx).WorkflowExecution.ID, in.Review)
			}
			return DatasetResult{Task: "edgejson", Version: "v2", Dir: "/d/edgejson/v2"}, nil
		}).Once()
	// The intent student trained on edgeintent@v4 already finished: reused.
	var intentKey string
	env.RegisterActivityWithOptions(func(_ context.Context, in FindTrainedInput) (TrainResult, error) {
		if in.RunKey == intentKey {
			return TrainResult{Checkpoint: "/runs/train-old/final"}, nil
		}
		return TrainResult{}, nil
	}, activity.RegisterOptions{Name: FindTrainedActivityName})
	spec := pipelineSpec()
	intentIn := spec.Models[0].Train
	intentIn.Dataset = "edgeintent@v4"
	intentKey, err := trainKey(spec.Models[0], intentIn)
	if err != nil {
		t.Fatal(err)
	}
	var trained []TrainInput
	env.OnWorkflow(TrainWorkflowName, mock.Anything, mock.Anything).Return(
		func(ctx workflow.Context, in TrainInput) (TrainResult, error) {
			trained = append(trained, in)
			return TrainResult{Checkpoint: "/runs/" + workflow.GetInfo(ctx).WorkflowExecution.ID + "/final"}, nil
		})
	var evalIn EvalInput
	env.OnWorkflow(EvaluateWorkflowName, mock.Anything, mock.Anything).Return(
		func(ctx workflow.Context, in EvalInput) (EvalResult, error) {
			evalIn = in
			return EvalResult{ReportDir: "/reports/x"}, nil
		})
	var promoteIn PromoteInput
	env.RegisterActivityWithOptions(func(_ context.Context, in PromoteInput) (PromoteResult, error) {
		promoteIn = in
		return PromoteResult{Lineage: "/reports/x/lineage.json", Promotions: []Promotion{{Name: "intent", Promoted: true}, {Name: "json", Reason: "edgejson.json_exact 0.1 < 0.5"}}}, nil
	}, activity.RegisterOptions{Name: PromoteActivityName})

	env.ExecuteWorkflow(PipelineWorkflowName, spec)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res PipelineResult
	_ = env.GetWorkflowResult(&res)
	if len(trained) != 1 || trained[0].Dataset != "edgejson@v2" || trained[0].Preset != "tiny-json" {
		t.Fatalf("trained %+v, want only the json student on edgejson@v2", trained)
	}
	if strings.Join(res.Reused, ",") != "dataset edgeintent,train intent" {
		t.Errorf("reused %v", res.Reused)
	}
	if len(evalIn.Models) != 3 || evalIn.Models[0] != "student:/runs/train-old/final" || evalIn.Models[2] != "ollama:qwen2.5:0.5b" ||
		strings.Join(evalIn.Datasets, ",") != "edgeintent@v4,edgejson@v2" {
		t.Errorf("evaluation input %+v", evalIn)
	}
	if promoteIn.ReportDir != "/reports/x" || len(promoteIn.Students) != 2 || !promoteIn.Reused["train intent"] {
		t.Errorf("promote input %+v", promoteIn)
	}
	var prog PipelineProgress
	v, err := env.QueryWorkflow(PipelineProgressQuery)
	if err != nil || v.Get(&prog) != nil {
		t.Fatal(err)
	}
	states := []string{}
	for _, s := range prog.Steps {
		states = append(states, s.Name+"="+s.State)
	}
	if got := strings.Join(states, " "); got != "dataset edgeintent=reused dataset edgejson=done train intent=reused train json=done evaluate=done promote=done" {
		t.Errorf("steps: %s", got)
	}
}

func TestPipelineSpecValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*PipelineSpec)
		want string
	}{
		{"no name", func(s *PipelineSpec) { s.Name = "" }, "name is required"},
		{"model without dataset", func(s *PipelineSpec) { s.Models[1].Task = "edgefunccall" }, `models[1].task "edgefunccall"`},
		{"two datasets per task", func(s *PipelineSpec) { s.Datasets[1].Spec.Task = schemas.EdgeIntent }, "a second dataset for task edgeintent"},
		{"no preset", func(s *PipelineSpec) { s.Models[0].Train.Preset = "" }, "models[0]: name and train.preset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := pipelineSpec()
			tc.edit(&s)
			if err := validatePipeline(s); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
