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
	if err := checkBounds(d.in); err != nil {
		return temporal.NewNonRetryableApplicationError("invalid dataset spec: "+err.Error(), "InvalidSpec", err)
	}
	if d.in.BatchSize == 0 {
		d.in.BatchSize = 250
	}
	if d.in.MaxParallel == 0 {
		d.in.MaxParallel = 4
	}
	if d.in.MaxRounds == 0 {
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
// Batches are cut lazily from a cursor, at most MaxParallel at a time, so a
// workflow task's work does not grow with the count; a run that has
// scheduled Limits.Batches batches lets its running ones finish and
// continues as new in the middle of the round.
func (d *datasetImpl) round(ctx workflow.Context) error {
	if d.st.Cursor == nil {
		d.startRound()
	}
	cur := d.st.Cursor
	d.progress.Phase, d.progress.Round = "generating", cur.Round
	d.progress.BatchesDone, d.progress.BatchesTotal = cur.Done, cur.Batches
	actx := d.activityCtx(ctx, d.in.TeacherQueue, 30*time.Minute, 15*time.Second)
	sel := workflow.NewSelector(ctx)
	var firstErr error
	running, scheduled, stop := 0, 0, false
	for cur.Done < cur.Batches {
		for running < d.in.MaxParallel && cur.Next < cur.Batches && firstErr == nil && !stop {
			in := BatchInput{PlanPath: d.st.Plan.PlanPath, RunDir: d.st.Plan.RunDir, Round: cur.Round, Batch: cur.Next, Items: d.nextBatch(cur)}
			sel.AddFuture(generateBatch(actx, in), func(f workflow.Future) {
				running--
				cur.Done++
				d.progress.BatchesDone++
				var res BatchResult
				if err := f.Get(ctx, &res); err != nil {
					firstErr = errors.Join(firstErr, err)
					return
				}
				d.applyBatch(res)
			})
			running++
			cur.Next++
			scheduled++
			stop = d.roundFull(ctx, scheduled)
		}
		if running == 0 {
			break
		}
		sel.Select(ctx)
	}
	if firstErr != nil {
		return fmt.Errorf("round %d: %w", cur.Round, firstErr)
	}
	if cur.Done < cur.Batches {
		return d.continueAsNew(ctx)
	}
	for len(d.st.ShardRounds) <= cur.Round {
		d.st.ShardRounds = append(d.st.ShardRounds, 0)
	}
	d.st.ShardRounds[cur.Round] = cur.Batches
	d.st.Cursor = nil
	return d.merge(ctx)
}

// roundFull reports whether this run has scheduled enough batches (or
// history) to move on in the middle of the round. Histories of runs made
// before this existed never moved on mid-round, hence the version.
func (d *datasetImpl) roundFull(ctx workflow.Context, scheduled int) bool {
	limit := d.in.Limits.Batches
	if limit <= 0 {
		limit = 2000
	}
	events := d.in.Limits.HistoryEvents
	if events <= 0 {
		events = historyEventsPerRun
	}
	info := workflow.GetInfo(ctx)
	full := scheduled >= limit || info.GetCurrentHistoryLength() >= events ||
		info.GetContinueAsNewSuggested() && scheduled >= 100
	return full && workflow.GetVersion(ctx, "round-cursor", workflow.DefaultVersion, 1) == 1
}

// startRound fixes the attempt range of every pending item (from the attempts
// used so far) and opens the round's cursor.
func (d *datasetImpl) startRound() {
	total := 0
	for i := range d.st.Pending {
		it := &d.st.Pending[i]
		it.FirstAttempt = d.st.NextAttempt[it.Cell][it.Split]
		it.MaxAttempt = d.attemptCap(it.Cell, it.Split)
		total += it.Need
	}
	d.st.Cursor = &RoundCursor{Round: d.st.Round, Batches: (total + d.in.BatchSize - 1) / d.in.BatchSize}
}

// nextBatch cuts the next batch of about BatchSize examples at the cursor and
// advances it; an item larger than a batch is split so no activity runs for
// too long. Parts of an item share its attempt range in proportion to their
// size, so ids never collide between batches of the same round.
func (d *datasetImpl) nextBatch(cur *RoundCursor) []generator.Item {
	var out []generator.Item
	size := 0
	for cur.Item < len(d.st.Pending) && size < d.in.BatchSize {
		it := d.st.Pending[cur.Item]
		if cur.Offset >= it.Need {
			cur.Item, cur.Offset = cur.Item+1, 0
			continue
		}
		span := it.MaxAttempt - it.FirstAttempt
		take := min(it.Need-cur.Offset, d.in.BatchSize-size)
		part := it
		part.Need = take
		part.FirstAttempt = it.FirstAttempt + span*cur.Offset/it.Need
		part.MaxAttempt = it.FirstAttempt + span*(cur.Offset+take)/it.Need
		out = append(out, part)
		size += take
		cur.Offset += take
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
	if err := mergeShards(actx, d.shardsInput()).Get(ctx, &mr); err != nil {
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
	in := d.shardsInput()
	in.Version, in.RunID, in.Stats, in.Review = d.in.Version, workflow.GetInfo(ctx).WorkflowExecution.ID, stats, rc
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

// shardsInput names every shard of the run, by reference, for the merge
// and commit activities.
func (d *datasetImpl) shardsInput() MergeInput {
	return MergeInput{PlanPath: d.st.Plan.PlanPath, Shards: d.st.Shards, ShardRounds: d.st.ShardRounds,
		RunDir: d.st.Plan.RunDir, Drops: d.st.Drops}
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
