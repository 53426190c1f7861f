package workflows

import (
	"errors"
	"fmt"
	"sort"
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
		return temporal.NewNonRetryableApplicationError("invalid dataset spec: "+err.Error(), "InvalidSpec", err)
	}
	if d.in.BatchSize <= 0 {
		d.in.BatchSize = 250
	}
	if d.in.MaxParallel <= 0 {
		d.in.MaxParallel = 4
	}
	if d.in.MaxRounds <= 0 {
		d.in.MaxRounds = 5
	}
	if d.in.TeacherQueue == "" {
		d.in.TeacherQueue = TaskQueueGenerate
	}
	opts, err := reviewDefaults(d.in.Review)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("invalid dataset spec: "+err.Error(), "InvalidSpec", err)
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

// generate runs rounds until every cell is full or the round budget is spent
// (MaxRounds rounds per generation pass: regenerating rejected cells starts a
// new pass).
func (d *datasetImpl) generate(ctx workflow.Context) error {
	first := d.st.Round
	if d.st.ReviewRound == 0 {
		first = 0 // the first pass's budget counts from round 0 across continue-as-new
	}
	for d.st.Round-first < d.in.MaxRounds && len(d.st.Pending) > 0 {
		if err := d.round(ctx); err != nil {
			d.progress.Phase = "failed"
			return err
		}
		if len(d.st.Pending) > 0 && workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			next := d.in
			st := d.st
			next.State = &st
			return workflow.NewContinueAsNewError(ctx, DatasetWorkflowName, next)
		}
	}
	return nil
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
			NonRetryableErrorTypes: []string{"InvalidSpec", "ModelNotFound", "Permanent"},
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
		d.st.NextAttempt[i], d.st.Kept[i] = map[string]int{}, map[string]int{}
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

// round generates every pending item in batches, then merges all shards.
func (d *datasetImpl) round(ctx workflow.Context) error {
	batches := d.batches()
	d.progress.Phase, d.progress.Round = "generating", d.st.Round
	d.progress.BatchesDone, d.progress.BatchesTotal = 0, len(batches)
	actx := d.activityCtx(ctx, d.in.TeacherQueue, 30*time.Minute, 15*time.Second)
	sel := workflow.NewSelector(ctx)
	var firstErr error
	running, next := 0, 0
	for d.progress.BatchesDone < len(batches) {
		for running < d.in.MaxParallel && next < len(batches) && firstErr == nil {
			in := BatchInput{PlanPath: d.st.Plan.PlanPath, RunDir: d.st.Plan.RunDir, Round: d.st.Round, Batch: next, Items: batches[next]}
			sel.AddFuture(generateBatch(actx, in), func(f workflow.Future) {
				running--
				d.progress.BatchesDone++
				var res BatchResult
				if err := f.Get(ctx, &res); err != nil {
					firstErr = errors.Join(firstErr, err)
					return
				}
				d.applyBatch(res)
			})
			running++
			next++
		}
		if running == 0 {
			break
		}
		sel.Select(ctx)
	}
	if firstErr != nil {
		return fmt.Errorf("round %d: %w", d.st.Round, firstErr)
	}
	return d.merge(ctx)
}

// batches cuts the pending items into batches of about BatchSize examples;
// an item larger than a batch is split so no activity runs for too long.
func (d *datasetImpl) batches() [][]generator.Item {
	var out [][]generator.Item
	var cur []generator.Item
	size := 0
	for _, it := range d.st.Pending {
		// Parts of an item share its attempt range in proportion to their size,
		// so ids never collide between batches of the same round.
		first := d.st.NextAttempt[it.Cell][it.Split]
		span := d.attemptCap(it.Cell, it.Split) - first
		for done := 0; done < it.Need; {
			take := min(it.Need-done, d.in.BatchSize-size)
			part := it
			part.Need = take
			part.FirstAttempt = first + span*done/it.Need
			part.MaxAttempt = first + span*(done+take)/it.Need
			cur = append(cur, part)
			size += take
			done += take
			if size >= d.in.BatchSize {
				out, cur, size = append(out, cur), nil, 0
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// attemptCap is the exclusive attempt bound of a cell and split over the run.
func (d *datasetImpl) attemptCap(cell int, split string) int {
	span := d.st.Plan.AttemptFactor*d.st.Plan.Cells[cell].Quota[split] + 8
	if cell < len(d.st.Regenerated) {
		return span * (1 + d.st.Regenerated[cell])
	}
	return span
}

func (d *datasetImpl) applyBatch(res BatchResult) {
	d.st.Shards = append(d.st.Shards, res.Shard)
	d.st.Stats.Add(res.Stats)
	for _, ir := range res.Items {
		if ir.NextAttempt > d.st.NextAttempt[ir.Cell][ir.Split] {
			d.st.NextAttempt[ir.Cell][ir.Split] = ir.NextAttempt
		}
		d.progress.Done[ir.Split] += ir.Kept
	}
	d.progress.Stats = d.st.Stats.Clone()
}

// merge dedups across all shards and computes what the next round needs.
func (d *datasetImpl) merge(ctx workflow.Context) error {
	d.progress.Phase = "merging"
	actx := d.activityCtx(ctx, TaskQueueGenerate, 10*time.Minute, time.Minute)
	var mr MergeResult
	if err := mergeShards(actx, MergeInput{PlanPath: d.st.Plan.PlanPath, Shards: d.st.Shards, Drops: d.st.Drops}).Get(ctx, &mr); err != nil {
		return err
	}
	d.st.Kept = mr.Kept
	dups := mr.Stats
	d.st.Pending = nil
	for i, c := range d.st.Plan.Cells {
		for _, split := range d.st.Plan.Splits {
			need := c.Quota[split] - d.st.Kept[i][split]
			if need > 0 && d.st.NextAttempt[i][split] < d.attemptCap(i, split) {
				// Top-up candidates can again collide with examples of other
				// batches; asking for half as many again (the merge keeps only the
				// quota) usually fills a cell in one more round.
				d.st.Pending = append(d.st.Pending, generator.Item{Cell: i, Split: split, Need: need + need/2 + 1})
			}
		}
	}
	d.st.Round++
	d.refreshProgress()
	// Merges recount the duplicates of the whole run, so the latest merge's
	// count replaces the previous one rather than adding to it.
	d.progress.Stats = d.st.Stats.Clone()
	d.progress.Stats.Add(dups)
	return nil
}

func (d *datasetImpl) commit(ctx workflow.Context, rc *ReviewCommit) (DatasetResult, error) {
	d.progress.Phase = "committing"
	actx := d.activityCtx(ctx, TaskQueueGenerate, 10*time.Minute, time.Minute)
	stats := d.progress.Stats
	var cr CommitResult
	in := MergeInput{PlanPath: d.st.Plan.PlanPath, Shards: d.st.Shards, Drops: d.st.Drops, Version: d.in.Version,
		RunID: workflow.GetInfo(ctx).WorkflowExecution.ID, Stats: stats, Review: rc}
	if err := commitDataset(actx, in).Get(ctx, &cr); err != nil {
		d.progress.Phase = "failed"
		return DatasetResult{}, err
	}
	d.progress.Phase, d.progress.Version = "done", cr.Version
	res := DatasetResult{Task: d.st.Plan.Task, Version: cr.Version, Dir: cr.Dir, SpecHash: d.st.Plan.SpecHash,
		Counts: cr.Counts, Stats: stats, TestSplit: cr.TestSplit}
	if rc != nil {
		res.Review, res.ReviewPolicy = &rc.Summary, rc.Policy
	}
	for _, c := range d.progress.Cells {
		if c.Done < c.Target {
			res.Short = append(res.Short, c)
		}
	}
	return res, nil
}

// refreshProgress recomputes per-cell progress from the merged counts.
func (d *datasetImpl) refreshProgress() {
	d.progress.Round = d.st.Round
	d.progress.Done, d.progress.Target = map[string]int{}, map[string]int{}
	d.progress.Cells = d.progress.Cells[:0]
	for i, c := range d.st.Plan.Cells {
		splits := make([]string, 0, len(c.Quota))
		//workflowcheck:ignore (the keys are sorted right after)
		for s := range c.Quota {
			splits = append(splits, s)
		}
		sort.Strings(splits)
		for _, split := range splits {
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

// Typed wrappers: ExecuteActivity takes ...any and would not catch a wrong
// argument type at compile time.
func planDataset(ctx workflow.Context, in PlanInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, PlanDatasetActivityName, in)
}

func generateBatch(ctx workflow.Context, in BatchInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, GenerateBatchActivityName, in)
}

func mergeShards(ctx workflow.Context, in MergeInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, MergeShardsActivityName, in)
}

func commitDataset(ctx workflow.Context, in MergeInput) workflow.Future {
	return workflow.ExecuteActivity(ctx, CommitDatasetActivityName, in)
}
