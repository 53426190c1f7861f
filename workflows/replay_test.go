package workflows

import (
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayDatasetHistory replays Dataset workflow histories recorded on the
// embedded server (cmd/mlmforge TestRecordDatasetHistory): v0 from before the
// review gate, v1 with it. A change to the workflow code that would break
// running workflows fails here: such changes need workflow.GetVersion (as the
// review gate does), not a re-recorded history.
func TestReplayDatasetHistory(t *testing.T) {
	for _, file := range []string{"testdata/dataset_history_v0.json", "testdata/dataset_history_v1.json"} {
		t.Run(file, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(DatasetWorkflow, workflow.RegisterOptions{Name: DatasetWorkflowName})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
				t.Fatal(err)
			}
		})
	}
}
