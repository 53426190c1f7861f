package softlabel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// AnnotateOptions configure AnnotateSoftLabels.
type AnnotateOptions struct {
	// Concurrency is how many records are labelled at once (0 means 4).
	Concurrency int
	// Overwrite relabels records that already carry soft labels. By default
	// they are kept, so that a rerun after a failure asks only for the rest.
	Overwrite bool
	// Progress, if set, is called after each record with the number of
	// records finished so far; calls never overlap.
	Progress func(done int)
}

// maxRejectSamples bounds AnnotateReport.Samples.
const maxRejectSamples = 20

// RejectedSoftLabel is a record whose teacher answer was unusable.
type RejectedSoftLabel struct {
	// ID is the record id.
	ID string `json:"id"`
	// Raw is the teacher's answer text.
	Raw string `json:"raw"`
	// Error says what was wrong with it.
	Error string `json:"error"`
}

// AnnotateReport counts what AnnotateSoftLabels did.
type AnnotateReport struct {
	// Labeled counts the records given soft labels by this call.
	Labeled int `json:"labeled"`
	// Kept counts the records that already had soft labels (Overwrite unset).
	Kept int `json:"kept"`
	// Rejected counts the records left without soft labels, by reason.
	Rejected map[generator.RejectReason]int `json:"rejected,omitempty"`
	// Samples are up to 20 rejected answers, for the report.
	Samples []RejectedSoftLabel `json:"samples,omitempty"`
	// Agree counts the labelled records whose most probable class is the gold
	// label: a teacher that often disagrees is weak, or the labels are noisy.
	Agree int `json:"agree"`
}

// AnnotateSoftLabels sets Record.SoftLabels of EdgeIntent records to the
// labeler's distribution over tax's classes, as the JSON object
// {"class": probability} that distill's trainer reads. Records are labelled
// concurrently, each in place. A record whose teacher answer is unusable (an
// *OutputError) keeps no soft labels and is counted in the report; any other
// failure (the server is gone, the model is missing, ctx ended) stops the
// run and is returned, with the records labelled so far kept.
func Annotate(ctx context.Context, l Labeler, tax *schemas.Taxonomy, recs []datasets.Record, opts AnnotateOptions) (AnnotateReport, error) {
	rep := AnnotateReport{Rejected: map[generator.RejectReason]int{}}
	if l == nil || tax == nil {
		return rep, errors.New("annotate soft labels: no labeler or no taxonomy")
	}
	golds, todo, err := annotateTodo(recs, opts.Overwrite)
	if err != nil {
		return rep, err
	}
	rep.Kept = len(recs) - len(todo)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		done    int
		failure error
	)
	finish := func(i int, probs map[string]float64, err error) {
		mu.Lock()
		defer mu.Unlock()
		r := &recs[i]
		rep.add(r.ID, golds[i], probs, err)
		if err != nil && !isOutputError(err) && failure == nil {
			failure = fmt.Errorf("annotate soft labels: record %s: %w", r.ID, err)
			cancel(failure)
		}
		done++
		if opts.Progress != nil {
			opts.Progress(done)
		}
	}
	workers := opts.Concurrency
	if workers <= 0 {
		workers = 4
	}
	for range min(workers, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				probs, err := labelRecord(ctx, l, tax, &recs[i], golds[i])
				finish(i, probs, err)
			}
		}()
	}
feed:
	for _, i := range todo {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if failure != nil {
		return rep, failure
	}
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("annotate soft labels: %w", context.Cause(ctx))
	}
	return rep, nil
}

// annotateTodo checks the records and returns their gold labels and the
// indexes of the records to label.
func annotateTodo(recs []datasets.Record, overwrite bool) (golds []string, todo []int, err error) {
	golds = make([]string, len(recs))
	for i := range recs {
		r := &recs[i]
		if r.Task != string(schemas.EdgeIntent) {
			return nil, nil, fmt.Errorf("annotate soft labels: record %s: field task: %q is not %s", r.ID, r.Task, schemas.EdgeIntent)
		}
		if golds[i], err = intentLabel(r); err != nil {
			return nil, nil, fmt.Errorf("annotate soft labels: %w", err)
		}
		if r.SoftLabels == "" || overwrite {
			todo = append(todo, i)
		}
	}
	return golds, todo, nil
}

// labelRecord asks for one record's distribution, checks it and writes it
// into the record. Only the calling worker touches the record.
func labelRecord(ctx context.Context, l Labeler, tax *schemas.Taxonomy, r *datasets.Record, gold string) (map[string]float64, error) {
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	probs, err := l.SoftLabels(ctx, Request{Taxonomy: tax, Input: r.Input, Gold: gold, Seed: recordSeed(r.ID)})
	if err != nil {
		return nil, err
	}
	if probs, err = checkDistribution(tax, probs); err != nil {
		return nil, &generator.OutputError{Reason: generator.RejectSoftLabels, Err: err}
	}
	b, err := json.Marshal(probs) // map keys are sorted: the same answer gives the same bytes
	if err != nil {
		return nil, fmt.Errorf("record %s: encode soft labels: %w", r.ID, err)
	}
	r.SoftLabels = string(b)
	return probs, nil
}

// add counts one finished record; the caller holds the report's lock.
func (rep *AnnotateReport) add(id, gold string, probs map[string]float64, err error) {
	var oe *generator.OutputError
	switch {
	case err == nil:
		rep.Labeled++
		if argmax(probs) == gold {
			rep.Agree++
		}
	case errors.As(err, &oe):
		rep.Rejected[oe.Reason]++
		if len(rep.Samples) < maxRejectSamples {
			rep.Samples = append(rep.Samples, RejectedSoftLabel{ID: id, Raw: oe.Raw, Error: oe.Err.Error()})
		}
	}
}

func isOutputError(err error) bool {
	var oe *generator.OutputError
	return errors.As(err, &oe)
}

// intentLabel is an EdgeIntent record's gold class: Record.Intent, else the
// target's "intent".
func intentLabel(r *datasets.Record) (string, error) {
	if r.Intent != "" {
		return r.Intent, nil
	}
	var t generator.IntentTarget
	if err := json.Unmarshal([]byte(r.Target), &t); err != nil || t.Intent == "" {
		return "", fmt.Errorf("record %s: fields intent and target: no intent label", r.ID)
	}
	return t.Intent, nil
}

// recordSeed derives a request seed from a record id, so that relabelling a
// record asks exactly the same question.
func recordSeed(id string) int64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return int64(h.Sum64() >> 1)
}
