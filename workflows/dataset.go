package workflows

import (
	"cmp"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cyclecore/mlmforge/generator"
)

// DatasetWorkflow generates a dataset: plan the cells, generate batches in
// parallel, merge (cross-batch dedup), top up the cells still short in further
// rounds, then commit one dataset version.
func DatasetWorkflow(ctx workflow.Context, in DatasetInput) (DatasetResult, error) {
	d := &datasetImpl{in: in}
	if err := d.setup(ctx); err != nil {
		return DatasetResult{}, err
	}
	return d.run(ctx)
}

type datasetImpl struct {
	in       DatasetInput
	st       DatasetState
	progress DatasetProgress
	gate     gate
}

// setup validates the input and registers the progress query.
func (d *datasetImpl) setup(ctx workflow.Context) error {
	d.in.Spec = d.in.Spec.WithDefaults()
	if err := d.in.Spec.Validate(); err != nil {
		return invalidSpec("dataset", err)
	}
	if err := checkBounds(d.in); err != nil {
		return invalidSpec("dataset", err)
	}
	d.in.BatchSize = cmp.Or(d.in.BatchSize, 250)
	d.in.MaxParallel = cmp.Or(d.in.MaxParallel, 4)
	d.in.MaxRounds = cmp.Or(d.in.MaxRounds, 5)
	d.in.TeacherQueue = cmp.Or(d.in.TeacherQueue, TaskQueueGenerate)
	opts, err := reviewDefaults(d.in.Review)
	if err != nil {
		return invalidSpec("dataset", err)
	}
	d.gate.opts = opts
	d.progress = DatasetProgress{Phase: "planning"}
	if d.in.State != nil {
		d.st = *d.in.State
		d.refreshProgress()
	}
	if err := workflow.SetQueryHandler(ctx, DatasetProgressQuery, func() (DatasetProgress, error) {
		return d.progress, nil
	}); err != nil {
		return err
	}
	return d.registerReview(ctx)
}

func (d *datasetImpl) run(ctx workflow.Context) (DatasetResult, error) {
	if d.in.State == nil {
		if err := d.plan(ctx); err != nil {
			return DatasetResult{}, err
		}
	}
	if err := d.generate(ctx); err != nil {
		return DatasetResult{}, err
	}
	// Runs started before the review gate existed commit straight away.
	if workflow.GetVersion(ctx, "review-gate", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return d.commit(ctx, nil)
	}
	for {
		rc, err := d.reviewGate(ctx)
		if err != nil {
			d.progress.Phase = "failed"
			return DatasetResult{}, err
		}
		if !rc.Failed {
			rc.Earlier = d.st.EarlierReviews
			return d.commit(ctx, rc)
		}
		if !d.gate.opts.RegenerateRejected || d.st.ReviewRound >= d.gate.opts.MaxRegenerations {
			d.progress.Phase = "failed"
			return DatasetResult{}, reviewFailed(rc.Summary, d.st.ReviewRound)
		}
		d.regenerate(rc)
		if err := d.generate(ctx); err != nil {
			return DatasetResult{}, err
		}
	}
}

// checkBounds refuses counts and knobs above the documented limits, so a
// typo like --train 1000000000 fails at once instead of wedging a worker.
func checkBounds(in DatasetInput) error {
	total := 0
	for _, split := range workflow.DeterministicKeys(in.Spec.Counts) {
		n := in.Spec.Counts[split]
		if n > MaxExamples {
			return fmt.Errorf("%s count %d is above the limit of %d examples per dataset", split, n, MaxExamples)
		}
		total += n
	}
	switch {
	case total > MaxExamples:
		return fmt.Errorf("%d examples in all splits is above the limit of %d per dataset", total, MaxExamples)
	case in.BatchSize < 0 || in.BatchSize > MaxBatchSize:
		return fmt.Errorf("batch size %d: want 1 to %d (0 for the default)", in.BatchSize, MaxBatchSize)
	case in.MaxParallel < 0 || in.MaxParallel > MaxParallelBatches:
		return fmt.Errorf("parallel %d: want 1 to %d (0 for the default)", in.MaxParallel, MaxParallelBatches)
	case in.MaxRounds < 0 || in.MaxRounds > MaxRoundsLimit:
		return fmt.Errorf("max rounds %d: want 1 to %d (0 for the default)", in.MaxRounds, MaxRoundsLimit)
	}
	return nil
}

// generate runs rounds until every cell is full or the round budget is spent
// (MaxRounds rounds per generation pass: regenerating rejected cells starts a
// new pass). A round a previous run left in the middle goes on first.
func (d *datasetImpl) generate(ctx workflow.Context) error {
	first := d.st.Round
	if d.st.ReviewRound == 0 {
		first = 0 // the first pass's budget counts from round 0 across continue-as-new
	}
	for d.st.Cursor != nil || d.st.Round-first < d.in.MaxRounds && len(d.st.Pending) > 0 {
		if err := d.round(ctx); err != nil {
			if _, moving := err.(*workflow.ContinueAsNewError); !moving {
				d.progress.Phase = "failed"
			}
			return err
		}
		if len(d.st.Pending) > 0 && workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return d.continueAsNew(ctx)
		}
	}
	return nil
}

// continueAsNew ends this run and starts the next with the state so far.
func (d *datasetImpl) continueAsNew(ctx workflow.Context) error {
	next := d.in
	st := d.st
	next.State = &st
	return workflow.NewContinueAsNewError(ctx, DatasetWorkflowName, next)
}

func (d *datasetImpl) activityCtx(ctx workflow.Context, queue string, timeout time.Duration, heartbeat time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           queue,
		StartToCloseTimeout: timeout,
		HeartbeatTimeout:    heartbeat,
		// Eight attempts over about five minutes ride out a teacher restart; a
		// teacher that stays down fails the run with its error instead of
		// retrying forever.
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        8,
			NonRetryableErrorTypes: []string{ErrInvalidSpec, ErrModelNotFound, ErrPermanent},
		},
	})
}

func (d *datasetImpl) plan(ctx workflow.Context) error {
	actx := d.activityCtx(ctx, TaskQueueGenerate, 2*time.Minute, 0)
	runID := workflow.GetInfo(ctx).WorkflowExecution.ID
	if err := planDataset(actx, PlanInput{Spec: d.in.Spec, RunID: runID}).Get(ctx, &d.st.Plan); err != nil {
		return err
	}
	n := len(d.st.Plan.Cells)
	d.st.NextAttempt = make([]map[string]int, n)
	d.st.Kept = make([]map[string]int, n)
	for i := range d.st.Plan.Cells {
		d.st.NextAttempt[i] = map[string]int{}
		d.st.Kept[i] = map[string]int{}
	}
	for i, c := range d.st.Plan.Cells {
		for _, split := range d.st.Plan.Splits {
			if q := c.Quota[split]; q > 0 {
				d.st.Pending = append(d.st.Pending, generator.Item{Cell: i, Split: split, Need: q})
			}
		}
	}
	d.refreshProgress()
	return nil
}

func (d *datasetImpl) commit(ctx workflow.Context, rc *ReviewCommit) (DatasetResult, error) {
	d.progress.Phase = "committing"
	actx := d.activityCtx(ctx, TaskQueueGenerate, 10*time.Minute, time.Minute)
	stats := d.progress.Stats
	var cr CommitResult
	in := CommitInput{ShardSet: d.shards(), Version: d.in.Version, RunID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		Stats: stats, Review: rc}
	if err := commitDataset(actx, in).Get(ctx, &cr); err != nil {
		d.progress.Phase = "failed"
		return DatasetResult{}, err
	}
	d.progress.Phase = "done"
	d.progress.Version = cr.Version
	res := DatasetResult{Task: d.st.Plan.Task, Version: cr.Version, Dir: cr.Dir, SpecHash: d.st.Plan.SpecHash,
		Counts: cr.Counts, Stats: stats, TestSplit: cr.TestSplit}
	if rc != nil {
		res.Review = &rc.Summary
		res.ReviewPolicy = rc.Policy
	}
	for _, c := range d.progress.Cells {
		if c.Done < c.Target {
			res.Short = append(res.Short, c)
		}
	}
	return res, nil
}

// shards names every shard of the run, by reference, for the merge, stage
// and commit activities.
func (d *datasetImpl) shards() ShardSet {
	return ShardSet{PlanPath: d.st.Plan.PlanPath, Shards: d.st.Shards, ShardRounds: d.st.ShardRounds,
		RunDir: d.st.Plan.RunDir, Drops: d.st.Drops}
}

// refreshProgress recomputes per-cell progress from the merged counts.
func (d *datasetImpl) refreshProgress() {
	d.progress.Round = d.st.Round
	d.progress.Done = map[string]int{}
	d.progress.Target = map[string]int{}
	d.progress.Cells = d.progress.Cells[:0]
	for i, c := range d.st.Plan.Cells {
		for _, split := range workflow.DeterministicKeys(c.Quota) {
			done := 0
			if i < len(d.st.Kept) {
				done = d.st.Kept[i][split]
			}
			d.progress.Done[split] += done
			d.progress.Target[split] += c.Quota[split]
			d.progress.Cells = append(d.progress.Cells, CellProgress{Cell: c.Key, Split: split, Done: done, Target: c.Quota[split]})
		}
	}
}
