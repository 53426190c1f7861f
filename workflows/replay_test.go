package workflows

import (
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayDatasetHistory replays a Dataset workflow history recorded on the
// embedded server (cmd/mlmforge TestRecordDatasetHistory). A change to the
// workflow code that would break running workflows fails here: such changes
// need workflow.GetVersion, not a re-recorded history.
func TestReplayDatasetHistory(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(DatasetWorkflow, workflow.RegisterOptions{Name: DatasetWorkflowName})
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/dataset_history.json"); err != nil {
		t.Fatal(err)
	}
}
