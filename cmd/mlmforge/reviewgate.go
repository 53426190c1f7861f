package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

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

// temporalGate is the review UI's and CLI's web.Gate over running Dataset
// workflows: queries read, updates decide. A queue id is a workflow id.
type temporalGate struct {
	c client.Client
}

var _ web.Gate = (*temporalGate)(nil)

// guidelines are shown next to every record, per task.
var guidelines = map[string]string{
	"edgejson": "## EdgeJSON\n- **Approve** when every value in the target is stated in the text and nothing in the text that the schema asks for is missing.\n" +
		"- **Reject** invented values (not_grounded), unnatural or unsafe text.\n- **Edit** a single wrong value or a clumsy sentence instead of rejecting.",
	"edgeintent": "## EdgeIntent\n- **Approve** when the utterance clearly belongs to the intent and would not fit its neighbours (see the class description).\n" +
		"- **Reject** with wrong_label when another intent fits better.\n- **Edit** the wording when only the phrasing is off.",
	"edgefunccall": "## EdgeFuncCall\n- **Approve** when the gold calls are exactly what the request asks for (or, for error recovery, the right question / no call).\n" +
		"- **Reject** requests that state values the call does not use, or ask for something no call covers.\n- **Edit** an argument value that the text states differently.",
}

func (g *temporalGate) Queues(ctx context.Context) ([]web.QueueInfo, error) {
	resp, err := g.c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: "WorkflowType = '" + workflows.DatasetWorkflowName + "' AND ExecutionStatus = 'Running'"})
	if err != nil {
		return nil, fmt.Errorf("list dataset workflows: %w", err)
	}
	var out []web.QueueInfo
	for _, e := range resp.Executions {
		id := e.Execution.WorkflowId
		st, err := g.status(ctx, id)
		if err != nil || st.Phase != "review" {
			continue // finished meanwhile, or not at the gate yet
		}
		out = append(out, web.QueueInfo{ID: id, Task: st.Task, Version: "(unreleased)", Policy: policyText(st),
			Progress: st.Progress, Guidelines: guidelines[st.Task]})
	}
	return out, nil
}

func policyText(st workflows.ReviewStatus) string {
	s := fmt.Sprintf("%s review, release at >= %.0f%% approval", st.Policy, 100*st.Summary.Threshold)
	if st.DeadlineAt != nil {
		s += ", deadline " + st.DeadlineAt.UTC().Format("2006-01-02 15:04Z")
	}
	return s
}

func (g *temporalGate) status(ctx context.Context, queue string) (workflows.ReviewStatus, error) {
	var st workflows.ReviewStatus
	v, err := g.c.QueryWorkflow(ctx, queue, "", workflows.ReviewQuery)
	if err != nil {
		return st, gateErr(queue, err)
	}
	return st, v.Get(&st)
}

func (g *temporalGate) Lease(ctx context.Context, queue, reviewer string) (*datasets.Record, error) {
	var res workflows.LeaseResult
	if err := g.update(ctx, queue, workflows.ReviewLeaseUpdate, workflows.LeaseRequest{Reviewer: reviewer}, &res); err != nil {
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

func (g *temporalGate) Record(ctx context.Context, queue, id string) (*datasets.Record, string, error) {
	v, err := g.c.QueryWorkflow(ctx, queue, "", workflows.ReviewRecordQuery, id)
	if err != nil {
		return nil, "", gateErr(queue, err)
	}
	var rs workflows.RecordStatus
	if err := v.Get(&rs); err != nil {
		return nil, "", err
	}
	if rs.Record == nil {
		return nil, "", &review.DecisionError{Code: review.CodeNotFound, Msg: fmt.Sprintf("record %q is not in the sample of %s", id, queue)}
	}
	return rs.Record, rs.Status, nil
}

func (g *temporalGate) Decide(ctx context.Context, queue string, d review.Decision) (review.Outcome, error) {
	var out review.Outcome
	err := g.update(ctx, queue, workflows.ReviewDecideUpdate, d, &out)
	return out, err
}

// Adjudicate settles a two-reviewer disagreement.
func (g *temporalGate) Adjudicate(ctx context.Context, queue string, d review.Decision) (review.Outcome, error) {
	var out review.Outcome
	err := g.update(ctx, queue, workflows.ReviewAdjudicateUpdate, d, &out)
	return out, err
}

func (g *temporalGate) Undo(ctx context.Context, queue, reviewer, recordID string) error {
	return g.update(ctx, queue, workflows.ReviewUndoUpdate, workflows.UndoRequest{Reviewer: reviewer, RecordID: recordID}, nil)
}

func (g *temporalGate) Progress(ctx context.Context, queue string) (review.Progress, review.Summary, error) {
	st, err := g.status(ctx, queue)
	return st.Progress, st.Summary, err
}

// update runs an update to completion and maps the validator's typed
// rejections ("Review404" ...) back to review.DecisionError.
func (g *temporalGate) update(ctx context.Context, queue, name string, arg, out any) error {
	h, err := g.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: queue, UpdateName: name,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
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
		if code, ok := strings.CutPrefix(appErr.Type(), "Review"); ok {
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
