// Package schemas holds the SLM-Bench task catalogs (EdgeJSON schemas, EdgeIntent
// taxonomies, EdgeFuncCall functions) and the types every other package shares to
// name tasks. The catalogs are data files embedded with go:embed and validated when
// they load, so a broken file never reaches generation or evaluation.
package schemas

import (
	"fmt"
	"strings"
)

// Task names one of the three SLM-Bench tasks.
type Task string

// The SLM-Bench tasks.
const (
	// EdgeJSON: extract a JSON object matching a schema from free text.
	EdgeJSON Task = "edgejson"
	// EdgeIntent: classify an utterance into one of 50, 100 or 200 intents.
	EdgeIntent Task = "edgeintent"
	// EdgeFuncCall: pick a function from a catalog and fill its parameters.
	EdgeFuncCall Task = "edgefunccall"
)

// Tasks lists every task in a stable order.
var Tasks = []Task{EdgeJSON, EdgeIntent, EdgeFuncCall}

// ParseTask maps a user-supplied name (case-insensitive) to a Task. An unknown
// name gives an error that lists the valid tasks.
func ParseTask(s string) (Task, error) {
	t := Task(strings.ToLower(strings.TrimSpace(s)))
	for _, v := range Tasks {
		if t == v {
			return v, nil
		}
	}
	names := make([]string, len(Tasks))
	for i, v := range Tasks {
		names[i] = string(v)
	}
	return "", fmt.Errorf("unknown task %q: valid tasks are %s", s, strings.Join(names, ", "))
}

// String returns the task's canonical lower-case name.
func (t Task) String() string { return string(t) }
