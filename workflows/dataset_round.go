package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/cyclecore/mlmforge/generator"
)

// A generation round of the Dataset workflow: batches cut from the pending
// items at a cursor, fanned out to the teacher queue, then one merge.

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
	d.progress.Phase = "generating"
	d.progress.Round = cur.Round
	d.progress.BatchesDone = cur.Done
	d.progress.BatchesTotal = cur.Batches
	actx := d.activityCtx(ctx, d.in.TeacherQueue, 30*time.Minute, 15*time.Second)
	var firstErr error
	scheduled, stop := 0, false
	more := func() bool { return cur.Next < cur.Batches && firstErr == nil && !stop }
	fanOut(ctx, d.in.MaxParallel, more, func() (workflow.Future, func(workflow.Future)) {
		in := BatchInput{PlanPath: d.st.Plan.PlanPath, RunDir: d.st.Plan.RunDir, Round: cur.Round, Batch: cur.Next, Items: d.nextBatch(cur)}
		fut := generateBatch(actx, in)
		cur.Next++
		scheduled++
		stop = d.roundFull(ctx, scheduled)
		return fut, func(f workflow.Future) {
			cur.Done++
			d.progress.BatchesDone++
			var res BatchResult
			if err := f.Get(ctx, &res); err != nil {
				firstErr = errors.Join(firstErr, err)
				return
			}
			d.applyBatch(res)
		}
	})
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
	if err := mergeShards(actx, MergeInput{ShardSet: d.shards()}).Get(ctx, &mr); err != nil {
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
