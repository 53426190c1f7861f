package workflows

import "go.temporal.io/sdk/workflow"

// Typed activity calls: workflow.ExecuteActivity takes ...any and would not
// catch a wrong argument type at compile time, so workflow code calls every
// activity through its wrapper here. The names are the registered ones
// (the contract's XActivityName), which histories record.

func ping(ctx workflow.Context, in PingInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, PingActivityName, in)
}

func planDataset(ctx workflow.Context, in PlanInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, PlanDatasetActivityName, in)
}

func generateBatch(ctx workflow.Context, in BatchInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, GenerateBatchActivityName, in)
}

func mergeShards(ctx workflow.Context, in MergeInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, MergeShardsActivityName, in)
}

func commitDataset(ctx workflow.Context, in CommitInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, CommitDatasetActivityName, in)
}

func stageReview(ctx workflow.Context, in StageInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, StageReviewActivityName, in)
}

func loadSample(ctx workflow.Context, in LoadSampleInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, LoadSampleActivityName, in)
}

func loadReviewers(ctx workflow.Context) workflow.Future {
	return workflow.ExecuteActivity(ctx, LoadReviewersActivityName)
}

func saveReviewOps(ctx workflow.Context, in SaveReviewOpsInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, SaveReviewOpsActivityName, in)
}

func loadReviewOps(ctx workflow.Context, in LoadReviewOpsInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, LoadReviewOpsActivityName, in)
}

// checkEditLocal runs CheckEdit as a local activity.
func checkEditLocal(ctx workflow.Context, in CheckEditInput) workflow.Future {
	return workflow.ExecuteLocalActivity(ctx, CheckEditActivityName, in)
}

func prepareTrain(ctx workflow.Context, in TrainInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, PrepareTrainActivityName, in)
}

func trainModel(ctx workflow.Context, plan TrainPlan) workflow.Future {
	return workflow.ExecuteActivity(ctx, TrainActivityName, plan)
}

func prepareEval(ctx workflow.Context, in EvalInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, PrepareEvalActivityName, in)
}

func evalShard(ctx workflow.Context, in EvalShardInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, EvalShardActivityName, in)
}

func evalReport(ctx workflow.Context, plan EvalPlan) workflow.Future {
	return workflow.ExecuteActivity(ctx, EvalReportActivityName, plan)
}

func findDataset(ctx workflow.Context, in FindDatasetInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, FindDatasetActivityName, in)
}

func findTrained(ctx workflow.Context, in FindTrainedInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, FindTrainedActivityName, in)
}

func promote(ctx workflow.Context, in PromoteInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, PromoteActivityName, in)
}
