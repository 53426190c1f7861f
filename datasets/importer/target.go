package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// checkTarget checks that raw is a target of task's shape and returns what it
// says about the record: EdgeIntent an IntentTarget ({"intent": ..., "slots":
// ...}), EdgeJSON any JSON object, EdgeFuncCall a generator.FuncCallTarget.
func checkTarget(task schemas.Task, raw json.RawMessage) (targetInfo, error) {
	switch task {
	case schemas.EdgeIntent:
		var it generator.IntentTarget
		if err := strictUnmarshal(raw, &it); err != nil {
			return targetInfo{}, fmt.Errorf(`want {"intent": "<class>"}: %v`, err)
		}
		if it.Intent == "" {
			return targetInfo{}, fmt.Errorf(`want {"intent": "<class>"}: empty intent`)
		}
		return targetInfo{intent: it.Intent, cell: it.Intent, check: "label"}, nil
	case schemas.EdgeJSON:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			return targetInfo{}, fmt.Errorf("want a JSON object, got %.40s", raw)
		}
		return targetInfo{check: "object"}, nil
	case schemas.EdgeFuncCall:
		return checkFuncCallTarget(raw)
	}
	return targetInfo{}, fmt.Errorf("unknown task %q", task)
}

// checkFuncCallTarget checks a generator.FuncCallTarget: a known scenario, at
// least one turn, known actions, and calls with names exactly where the action
// is "call".
func checkFuncCallTarget(raw json.RawMessage) (targetInfo, error) {
	const want = `want {"scenario": ..., "turns": [{"action": "call", "calls": [{"name": ..., "arguments": {...}}]}]}`
	var ft generator.FuncCallTarget
	if err := strictUnmarshal(raw, &ft); err != nil {
		return targetInfo{}, fmt.Errorf("%s: %v", want, err)
	}
	if !slices.Contains(schemas.Scenarios, ft.Scenario) {
		return targetInfo{}, fmt.Errorf("scenario %q: want one of %v", ft.Scenario, schemas.Scenarios)
	}
	if len(ft.Turns) == 0 {
		return targetInfo{}, fmt.Errorf("%s: no turns", want)
	}
	info := targetInfo{scenario: string(ft.Scenario), check: "turns"}
	for i, turn := range ft.Turns {
		switch {
		case turn.Action != generator.ActionCall && turn.Action != generator.ActionAsk && turn.Action != generator.ActionNone:
			return targetInfo{}, fmt.Errorf("turns[%d]: action %q: want call, ask or none", i, turn.Action)
		case (turn.Action == generator.ActionCall) != (len(turn.Calls) > 0):
			return targetInfo{}, fmt.Errorf("turns[%d]: action %q with %d calls", i, turn.Action, len(turn.Calls))
		}
		for j, c := range turn.Calls {
			if c.Name == "" {
				return targetInfo{}, fmt.Errorf("turns[%d].calls[%d]: empty name", i, j)
			}
			if info.function == "" {
				info.function = c.Name
			}
		}
	}
	// The generator's cell key: "<function>/<scenario>", or "irrelevant".
	info.cell = info.function + "/" + info.scenario
	if info.function == "" {
		info.cell = string(ft.Scenario)
	}
	return info, nil
}

// strictUnmarshal decodes one JSON value refusing unknown fields, so that a
// misspelt key ({"label": ...}) is an error rather than an empty target.
func strictUnmarshal(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
