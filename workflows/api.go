// Package workflows holds mlmforge's Temporal workflows and their contract:
// the api*.go files, one per boundary, name every workflow, activity,
// update, query, task queue and error type and hold the input/result structs
// that cross the Temporal boundary. This file has what every boundary shares
// (task queues, error types) and the health check; api_dataset.go dataset
// generation, api_review.go its review gate, api_train.go training,
// api_eval.go evaluation and api_pipeline.go the pipeline. Workflow code
// calls each activity through its typed wrapper (calls.go).
package workflows

import (
	"fmt"
)

// Task queues. Workflow tasks are light and go to Workflows; heavy activity work
// goes to its own queue so that generation, training and evaluation can run on
// separate machines with their own concurrency limits.
const (
	// TaskQueueWorkflows carries workflow tasks (orchestration only).
	TaskQueueWorkflows = "mlmforge"
	// TaskQueueGenerate carries dataset generation and validation batches.
	TaskQueueGenerate = "generate"
	// TaskQueueTrain carries training activities.
	TaskQueueTrain = "train"
	// TaskQueueEval carries evaluation activities.
	TaskQueueEval = "eval"
)

// TaskQueues lists every queue a full worker listens on, in a stable order.
var TaskQueues = []string{TaskQueueWorkflows, TaskQueueGenerate, TaskQueueTrain, TaskQueueEval}

// DefaultNamespace is the namespace the embedded server creates and workers use by default.
const DefaultNamespace = "default"

// Types of the non-retryable application errors that activities and
// workflows end with; retry policies name them in NonRetryableErrorTypes.
const (
	// ErrDatasetCorrupt: a dataset file or review journal is not what its
	// manifest or name claims; reading it again gives the same answer.
	ErrDatasetCorrupt = "DatasetCorrupt"
	// ErrInvalidSpec: the input cannot run (bad spec, unknown preset or
	// dataset, bounds exceeded); only a new input fixes it.
	ErrInvalidSpec = "InvalidSpec"
	// ErrTrainingDiverged: training hit a NaN or infinite loss or gradient;
	// a retry from the same checkpoint would diverge again.
	ErrTrainingDiverged = "TrainingDiverged"
	// ErrModelNotFound: the teacher or evaluated model is not on the Ollama
	// host; it has to be pulled first.
	ErrModelNotFound = "ModelNotFound"
	// ErrPermanent: any other failure that retrying cannot fix (a version
	// that already exists, a journal that does not replay).
	ErrPermanent = "Permanent"
)

// Workflow and activity names, registered explicitly so that renaming a Go
// function never changes what is recorded in existing histories.
const (
	// HealthWorkflowName pings every activity queue and reports who answered.
	HealthWorkflowName = "Health"
	// PingActivityName answers a health ping; registered once per activity queue.
	PingActivityName = "Ping"
	// WorkerIdentityActivityName returns the identity of the worker it runs on;
	// workflows run it as a local activity to learn which worker holds them.
	WorkerIdentityActivityName = "WorkerIdentity"
)

// HealthInput asks the Health workflow to ping activity queues.
type HealthInput struct {
	// Queues are the activity task queues to ping; empty means generate, train and eval.
	Queues []string `json:"queues,omitempty"`
	// ScheduleToStartSeconds bounds how long a ping waits for a worker on its queue
	// before that queue is reported as unserved; 0 means 10 seconds.
	ScheduleToStartSeconds int `json:"schedule_to_start_seconds,omitempty"`
}

// HealthResult reports which worker answered on each queue.
type HealthResult struct {
	// WorkflowWorker is the identity of the worker that ran the workflow task.
	WorkflowWorker string `json:"workflow_worker"`
	// Queues holds one entry per pinged queue, in input order.
	Queues []QueueHealth `json:"queues"`
}

// QueueHealth is the outcome of one ping.
type QueueHealth struct {
	// Queue is the task queue pinged.
	Queue string `json:"queue"`
	// Worker is the identity (host@pid) of the worker that answered; empty if none did.
	Worker string `json:"worker,omitempty"`
	// Error says why the ping failed (no worker within the schedule-to-start timeout ...).
	Error string `json:"error,omitempty"`
}

// PingInput is the Ping activity's input.
type PingInput struct {
	// Queue is the queue the ping was scheduled on, echoed back.
	Queue string `json:"queue"`
}

// PingResult is the Ping activity's answer.
type PingResult struct {
	// Queue echoes PingInput.Queue.
	Queue string `json:"queue"`
	// Worker is the answering worker's identity.
	Worker string `json:"worker"`
}

// HealthWorkflowID returns a workflow ID for a health check; the suffix makes
// each check its own execution.
func HealthWorkflowID(suffix string) string {
	return fmt.Sprintf("mlmforge-health-%s", suffix)
}
