// Package reviewgate is the review UI's and CLI's web.Gate over running
// Dataset workflows: queries read the queue, signed updates decide. It is a
// Temporal client only; the worker package wires the workflows it talks to.
package reviewgate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/review/web"
	"github.com/cyclecore/mlmforge/workflows"
)

// Gate is the review UI's and CLI's web.Gate over running Dataset
// workflows: queries read, updates decide. A queue id is a workflow id.
type Gate struct {
	c client.Client
}

var _ web.Gate = (*Gate)(nil)

// New returns a gate that reaches the Dataset workflows through c.
func New(c client.Client) *Gate { return &Gate{c: c} }

// guidelines are shown next to every record, per task.
var guidelines = map[string]string{
	"edgejson": "## EdgeJSON\n- **Approve** when every value in the target is stated in the text and nothing in the text that the schema asks for is missing.\n" +
		"- **Reject** invented values (not_grounded), unnatural or unsafe text.\n- **Edit** a single wrong value or a clumsy sentence instead of rejecting.",
	"edgeintent": "## EdgeIntent\n- **Approve** when the utterance clearly belongs to the intent and would not fit its neighbours (see the class description).\n" +
		"- **Reject** with wrong_label when another intent fits better.\n- **Edit** the wording when only the phrasing is off.",
	"edgefunccall": "## EdgeFuncCall\n- **Approve** when the gold calls are exactly what the request asks for (or, for error recovery, the right question / no call).\n" +
		"- **Reject** requests that state values the call does not use, or ask for something no call covers.\n- **Edit** an argument value that the text states differently.",
}

// Queues lists the running Dataset workflows that wait at their review gate.
func (g *Gate) Queues(ctx context.Context) ([]web.QueueInfo, error) {
	ids, err := g.running(ctx)
	if err != nil {
		return nil, err
	}
	var out []web.QueueInfo
	for _, id := range ids {
		qi, err := g.Info(ctx, id)
		if err != nil {
			continue // finished meanwhile, or not at the gate yet
		}
		out = append(out, qi)
	}
	return out, nil
}

// Info describes one Dataset workflow's review gate: a 404 DecisionError when
// it is not running or not at its gate yet. One query, no listing.
func (g *Gate) Info(ctx context.Context, queue string) (web.QueueInfo, error) {
	st, err := g.Status(ctx, queue)
	if err != nil {
		return web.QueueInfo{}, err
	}
	if st.Phase != "review" {
		return web.QueueInfo{}, &review.DecisionError{Code: review.CodeNotFound,
			Msg: fmt.Sprintf("dataset workflow %q is not at its review gate (phase %q)", queue, st.Phase)}
	}
	return web.QueueInfo{ID: queue, Task: st.Task, Version: "(unreleased)", Policy: PolicyText(st),
		Progress: st.Progress, Guidelines: guidelines[st.Task]}, nil
}

// running lists the ids of the running Dataset workflows.
func (g *Gate) running(ctx context.Context) ([]string, error) {
	resp, err := g.c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: "WorkflowType = '" + workflows.DatasetWorkflowName + "' AND ExecutionStatus = 'Running'"})
	if err != nil {
		return nil, fmt.Errorf("list dataset workflows: %w", err)
	}
	ids := make([]string, 0, len(resp.Executions))
	for _, e := range resp.Executions {
		ids = append(ids, e.Execution.WorkflowId)
	}
	return ids, nil
}

// PolicyText describes a gate's policy in a line, for the UI and the CLI.
func PolicyText(st workflows.ReviewStatus) string {
	s := fmt.Sprintf("%s review, release at >= %.0f%% approval", st.Policy, 100*st.Summary.Threshold)
	if st.DeadlineAt != nil {
		s += ", deadline " + st.DeadlineAt.UTC().Format("2006-01-02 15:04Z")
	}
	return s
}

// Status queries a Dataset workflow's review gate.
func (g *Gate) Status(ctx context.Context, queue string) (workflows.ReviewStatus, error) {
	var st workflows.ReviewStatus
	v, err := g.c.QueryWorkflow(ctx, queue, "", workflows.ReviewQuery)
	if err != nil {
		return st, gateErr(queue, err)
	}
	return st, v.Get(&st)
}

// Lease signs a lease request for who and leases him the next record.
func (g *Gate) Lease(ctx context.Context, queue string, who review.Signer) (*datasets.Record, error) {
	req := workflows.LeaseRequest{Reviewer: who.Reviewer, At: time.Now().UTC()}
	req.Signature = who.Sign(queue, workflows.ReviewLeaseUpdate, req.SigningBytes())
	var res workflows.LeaseResult
	if err := g.update(ctx, queue, workflows.ReviewLeaseUpdate, who.Reviewer, req, &res); err != nil {
		// A workflow that finished between two leases has nothing left to review.
		if d, derr := g.c.DescribeWorkflowExecution(ctx, queue, ""); derr == nil &&
			d.WorkflowExecutionInfo.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return nil, review.ErrQueueEmpty
		}
		return nil, err
	}
	if res.Record == nil {
		return nil, review.ErrQueueEmpty
	}
	return res.Record, nil
}

// Record shows one record of the sample with its status and decisions.
func (g *Gate) Record(ctx context.Context, queue, id string) (review.RecordView, error) {
	v, err := g.c.QueryWorkflow(ctx, queue, "", workflows.ReviewRecordQuery, id)
	if err != nil {
		return review.RecordView{}, gateErr(queue, err)
	}
	var rs workflows.RecordStatus
	if err := v.Get(&rs); err != nil {
		return review.RecordView{}, err
	}
	if rs.Record == nil {
		return review.RecordView{}, &review.DecisionError{Code: review.CodeNotFound, Msg: fmt.Sprintf("record %q is not in the sample of %s", id, queue)}
	}
	return review.RecordView{Record: *rs.Record, Status: rs.Status, Decisions: rs.Decisions}, nil
}

// Decide signs d as who's and sends it to the gate.
func (g *Gate) Decide(ctx context.Context, queue string, who review.Signer, d review.Decision) (review.Outcome, error) {
	return g.decide(ctx, queue, workflows.ReviewDecideUpdate, who, d)
}

// Adjudicate settles a two-reviewer disagreement, signed as who's.
func (g *Gate) Adjudicate(ctx context.Context, queue string, who review.Signer, d review.Decision) (review.Outcome, error) {
	return g.decide(ctx, queue, workflows.ReviewAdjudicateUpdate, who, d)
}

func (g *Gate) decide(ctx context.Context, queue, update string, who review.Signer, d review.Decision) (review.Outcome, error) {
	d.Reviewer = who.Reviewer
	req := workflows.DecideRequest{Decision: d}
	req.Signature = who.Sign(queue, update, req.SigningBytes())
	var out review.Outcome
	err := g.update(ctx, queue, update, who.Reviewer, req, &out)
	return out, err
}

// Undo withdraws who's decision on recordID; requestID makes a retry harmless.
func (g *Gate) Undo(ctx context.Context, queue string, who review.Signer, recordID, requestID string) error {
	req := workflows.UndoRequest{Reviewer: who.Reviewer, RecordID: recordID, RequestID: requestID, At: time.Now().UTC()}
	req.Signature = who.Sign(queue, workflows.ReviewUndoUpdate, req.SigningBytes())
	return g.update(ctx, queue, workflows.ReviewUndoUpdate, who.Reviewer, req, nil)
}

// Reload makes the gate read the reviewers store again and returns the
// reviewers it now accepts.
func (g *Gate) Reload(ctx context.Context, queue string) ([]string, error) {
	var res workflows.ReloadResult
	err := g.send(ctx, queue, workflows.ReviewReloadUpdate, nil, &res)
	return res.Reviewers, err
}

// Progress is a queue's progress and the summary of its decisions.
func (g *Gate) Progress(ctx context.Context, queue string) (review.Progress, review.Summary, error) {
	st, err := g.Status(ctx, queue)
	return st.Progress, st.Summary, err
}

// ReloadAll asks every Dataset workflow waiting at its review gate to read
// the reviewers store again, and returns those that did, in order, up to the
// first failure. A workflow not at its gate (yet), or a gate without signed
// requests, is skipped.
func (g *Gate) ReloadAll(ctx context.Context) ([]string, error) {
	ids, err := g.running(ctx)
	if err != nil {
		return nil, err
	}
	var reloaded []string
	for _, id := range ids {
		_, err := g.Reload(ctx, id)
		var de *review.DecisionError
		if errors.As(err, &de) && de.Code == http.StatusConflict {
			continue
		}
		if err != nil {
			return reloaded, fmt.Errorf("reload the reviewers of %s: %w", id, err)
		}
		reloaded = append(reloaded, id)
	}
	return reloaded, nil
}

// moveRetries bounds the retries of a request the gate refused while it
// moved to its next run (continue-as-new), which takes well under a second.
const moveRetries = 20

// reloadTries bounds the reloads asked for a reviewer the gate does not
// know: the gate rereads the store at most every two seconds, so a reviewer
// added just after it last did is seen by the second or third.
const reloadTries = 4

// update runs a signed update by reviewer to completion. A Review401 (a
// reviewer added or rotated since the gate last read the store) makes the
// gate reload the store until it knows the reviewer (or a few tries have
// passed) and the request go once more; a Review503 (the gate is moving to
// its next run) is retried after a short wait. The validator's typed
// rejections map back to review.DecisionError.
func (g *Gate) update(ctx context.Context, queue, name, reviewer string, arg, out any) error {
	reloaded := false
	for try := 0; ; try++ {
		err := g.send(ctx, queue, name, arg, out)
		var de *review.DecisionError
		switch {
		case !errors.As(err, &de):
			return err
		case de.Code == http.StatusUnauthorized && !reloaded:
			reloaded = true
			if !g.reloadFor(ctx, queue, reviewer) {
				return err
			}
		case de.Code == http.StatusServiceUnavailable && try < moveRetries:
			if !sleepCtx(ctx, 100*time.Millisecond) {
				return err
			}
		default:
			return err
		}
	}
}

// reloadFor has the gate reload its reviewers until it knows reviewer; it
// reports whether it does.
func (g *Gate) reloadFor(ctx context.Context, queue, reviewer string) bool {
	for i := 0; i < reloadTries; i++ {
		names, err := g.Reload(ctx, queue)
		if err != nil {
			return false
		}
		if slices.Contains(names, reviewer) {
			return true
		}
		if !sleepCtx(ctx, time.Second) {
			return false
		}
	}
	return false
}

// sleepCtx waits d unless ctx ends first; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// send runs one update to completion (arg nil: no argument).
func (g *Gate) send(ctx context.Context, queue, name string, arg, out any) error {
	var args []any
	if arg != nil {
		args = []any{arg}
	}
	h, err := g.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: queue, UpdateName: name,
		Args: args, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, out)
	}
	return gateErr(queue, err)
}

// gateErr maps Temporal errors to what a reviewer should see.
func gateErr(queue string, err error) error {
	if err == nil {
		return nil
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if code, ok := strings.CutPrefix(appErr.Type(), workflows.ReviewErrorPrefix); ok {
			if n, convErr := strconv.Atoi(code); convErr == nil {
				return &review.DecisionError{Code: n, Msg: appErr.Message()}
			}
		}
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return &review.DecisionError{Code: review.CodeNotFound, Msg: fmt.Sprintf("no running dataset workflow %q", queue)}
	}
	return err
}
