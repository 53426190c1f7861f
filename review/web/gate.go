// Package web is the reviewers' web UI: a server-rendered (html/template)
// front end over the review gates of running dataset workflows, with a little
// embedded vanilla JavaScript for keyboard shortcuts. It loads nothing from
// outside (no CDN), so it works offline.
//
// The workflows are reached through Gate, defined here by its consumer;
// MemoryGate is an in-memory implementation over review.Queue values, used by
// the tests and for a local review of a staged sample. A Temporal-backed Gate
// (queries for Queues/Record/Progress, updates for Lease/Decide/Undo) lives
// with the workflows.
package web

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/review"
)

// Gate is what the UI needs from the review gates of running dataset
// workflows. queue is a QueueInfo.ID. Calls that act for a reviewer take his
// review.Signer: the gate signs them and the workflow checks the signature.
// Errors that a reviewer should see are *review.DecisionError (401, 404, 409,
// 413, 422); any other error is a server error.
type Gate interface {
	// Queues lists the datasets awaiting review, sorted by ID.
	Queues(ctx context.Context) ([]QueueInfo, error)
	// Info describes one queue awaiting review, with its progress; a
	// *review.DecisionError 404 when it is unknown or not at its gate. It
	// asks only about that queue, so the focus view's cost does not grow
	// with the number of running datasets.
	Info(ctx context.Context, queue string) (QueueInfo, error)
	// Lease returns the next record for who and reserves it (see
	// review.Queue.Lease; the gate's clock stamps the lease). It returns
	// review.ErrQueueEmpty, or a nil record, when nothing is left for him.
	Lease(ctx context.Context, queue string, who review.Signer) (*datasets.Record, error)
	// Record returns a sampled record with its status and the decisions in
	// force on it, for the focus view of a given id; a *review.DecisionError
	// 404 when unknown.
	Record(ctx context.Context, queue, id string) (review.RecordView, error)
	// Decide validates and applies a decision made by who (d.Reviewer is
	// set to who.Reviewer, d.At by the caller). A RequestID he applied before
	// returns its first outcome with Duplicate set.
	Decide(ctx context.Context, queue string, who review.Signer, d review.Decision) (review.Outcome, error)
	// Undo withdraws who's decision on recordID and leases the record back
	// to him (review.Queue.UndoRequest, at the gate's clock); requestID makes
	// a retried undo harmless.
	Undo(ctx context.Context, queue string, who review.Signer, recordID, requestID string) error
	// Progress reports a queue's progress and its release summary.
	Progress(ctx context.Context, queue string) (review.Progress, review.Summary, error)
}

// QueueInfo describes one dataset version awaiting review.
type QueueInfo struct {
	// ID names the queue in URLs, e.g. "edgeintent-v3".
	ID string `json:"id"`
	// Task is the SLM-Bench task (schemas.Task), e.g. "edgeintent".
	Task string `json:"task"`
	// Version is the dataset version under review.
	Version string `json:"version"`
	// Policy describes the review policy, e.g. "10% stratified, one reviewer".
	Policy string `json:"policy"`
	// Progress is the queue's progress when listed.
	Progress review.Progress `json:"progress"`
	// Guidelines are the reviewer guidelines in Markdown (a small subset is
	// rendered: paragraphs, headings, lists, bold).
	Guidelines string `json:"guidelines"`
}

// ErrUnknownQueue is returned (wrapped in a 404 DecisionError) for a queue id
// the gate does not know.
var ErrUnknownQueue = errors.New("unknown review queue")

// MemoryGate is a Gate over in-memory review.Queue values. One mutex guards
// all queues, since review.Queue itself is not safe for concurrent use.
type MemoryGate struct {
	mu     sync.Mutex
	now    func() time.Time
	check  review.CheckFunc
	queues map[string]*memQueue
}

type memQueue struct {
	info QueueInfo
	q    *review.Queue
}

var _ Gate = (*MemoryGate)(nil)

// NewMemoryGate returns an empty gate. now stamps leases and undos (nil:
// time.Now); check re-validates edits (nil: no re-validation).
func NewMemoryGate(now func() time.Time, check review.CheckFunc) *MemoryGate {
	if now == nil {
		now = time.Now
	}
	return &MemoryGate{now: now, check: check, queues: map[string]*memQueue{}}
}

// Add registers q under info.ID, replacing a queue of the same id. The gate
// owns q from then on: use the gate, not q, while the server runs.
func (g *MemoryGate) Add(info QueueInfo, q *review.Queue) error {
	if info.ID == "" || q == nil {
		return fmt.Errorf("add review queue %q: id and queue are required", info.ID)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.queues[info.ID] = &memQueue{info: info, q: q}
	return nil
}

// Snapshot calls fn with the queue under the gate's lock, e.g. to save it or
// read its Final decisions; fn must not keep q.
func (g *MemoryGate) Snapshot(queue string, fn func(q *review.Queue)) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	mq, err := g.get(queue)
	if err != nil {
		return err
	}
	fn(mq.q)
	return nil
}

// get finds a queue; the caller holds g.mu.
func (g *MemoryGate) get(queue string) (*memQueue, error) {
	mq, ok := g.queues[queue]
	if !ok {
		return nil, &review.DecisionError{Code: review.CodeNotFound, Msg: fmt.Sprintf("%v %q", ErrUnknownQueue, queue)}
	}
	return mq, nil
}

// Queues lists the queues sorted by ID, with their current progress.
func (g *MemoryGate) Queues(ctx context.Context) ([]QueueInfo, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]QueueInfo, 0, len(g.queues))
	for _, mq := range g.queues {
		info := mq.info
		info.Progress = mq.q.Progress()
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b QueueInfo) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out, nil
}

// Info returns one queue's description with its current progress.
func (g *MemoryGate) Info(ctx context.Context, queue string) (QueueInfo, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	mq, err := g.get(queue)
	if err != nil {
		return QueueInfo{}, err
	}
	info := mq.info
	info.Progress = mq.q.Progress()
	return info, nil
}

// Lease leases the next record for who at the gate's clock.
func (g *MemoryGate) Lease(ctx context.Context, queue string, who review.Signer) (*datasets.Record, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	mq, err := g.get(queue)
	if err != nil {
		return nil, err
	}
	return mq.q.Lease(who.Reviewer, g.now())
}

// Record returns a copy of a sampled record, its status and decisions.
func (g *MemoryGate) Record(ctx context.Context, queue, id string) (review.RecordView, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	mq, err := g.get(queue)
	if err != nil {
		return review.RecordView{}, err
	}
	view, ok := mq.q.View(id)
	if !ok {
		return review.RecordView{}, &review.DecisionError{Code: review.CodeNotFound, Msg: fmt.Sprintf("record %q is not in this review sample", id)}
	}
	return view, nil
}

// Decide validates d (as a workflow's update validator would) and applies it.
func (g *MemoryGate) Decide(ctx context.Context, queue string, who review.Signer, d review.Decision) (review.Outcome, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	mq, err := g.get(queue)
	if err != nil {
		return review.Outcome{}, err
	}
	d.Reviewer = who.Reviewer
	if err := mq.q.Validate(d, g.check); err != nil {
		return review.Outcome{}, err
	}
	out := mq.q.Apply(d)
	if out.Error != "" {
		// Unreachable under the lock (Validate just passed), kept as a guard.
		return out, &review.DecisionError{Code: review.CodeConflict, Msg: out.Error}
	}
	return out, nil
}

// Undo withdraws who's decision on recordID at the gate's clock.
func (g *MemoryGate) Undo(ctx context.Context, queue string, who review.Signer, recordID, requestID string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	mq, err := g.get(queue)
	if err != nil {
		return err
	}
	_, err = mq.q.UndoRequest(requestID, who.Reviewer, recordID, g.now())
	return err
}

// Progress reports a queue's progress and summary.
func (g *MemoryGate) Progress(ctx context.Context, queue string) (review.Progress, review.Summary, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	mq, err := g.get(queue)
	if err != nil {
		return review.Progress{}, review.Summary{}, err
	}
	return mq.q.Progress(), mq.q.Summary(), nil
}
