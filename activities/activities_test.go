package activities

import (
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/cyclecore/mlmforge/workflows"
)

func TestPing(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	a := &Activities{Identity: "7@box"}
	env.RegisterActivity(a.Ping)
	v, err := env.ExecuteActivity(a.Ping, workflows.PingInput{Queue: workflows.TaskQueueTrain})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.PingResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.Queue != workflows.TaskQueueTrain || res.Worker != "7@box" {
		t.Fatalf("ping = %+v, want train answered by 7@box", res)
	}
}

func TestDefaultIdentity(t *testing.T) {
	id := DefaultIdentity()
	if len(id) < 3 || id[0] < '0' || id[0] > '9' {
		t.Fatalf("identity %q, want pid@host", id)
	}
}
