package generator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cyclecore/mlmforge/schemas"
)

// roundTrip has the teacher re-extract the target from its own text. A
// disagreement, or output that is not a usable answer, is a round_trip
// rejection; a failed call (cancelled context, connection refused, a teacher
// that stays down) is an error like the main call's, so an interrupted batch
// retries the attempt instead of spending it. Its tokens and time count in
// stats.
func (r *Runner) roundTrip(ctx context.Context, s Sample, input string, target json.RawMessage, seed int64, stats *Stats) (*Rejection, error) {
	req := Request{Mode: Extract, Sample: s, Text: input, Seed: seed, MaxTokens: r.Plan.Spec.MaxTokens}
	if r.Prompts {
		p, err := RenderPrompt(r.Catalog, Extract, s, input)
		if err != nil {
			return nil, fmt.Errorf("render round-trip prompt for cell %s: %w", s.Cell.Key, err)
		}
		req.Prompt = p
	}
	resp, err := r.Teacher.Write(ctx, req)
	stats.PromptTokens += resp.PromptTokens
	stats.OutputTokens += resp.OutputTokens
	stats.TeacherSeconds += resp.Duration.Seconds()
	if err != nil {
		var oe *OutputError
		if errors.As(err, &oe) {
			return &Rejection{Reason: RejectRoundTrip, Detail: err.Error()}, nil
		}
		return nil, fmt.Errorf("round-trip teacher call on cell %s: %w", s.Cell.Key, err)
	}
	if !SameLabel(s.Cell.Task, resp.Target, target) {
		return &Rejection{Reason: RejectRoundTrip, Detail: fmt.Sprintf("re-extracted %.200s", resp.Target)}, nil
	}
	return nil, nil
}

// SameLabel reports whether got and want agree on what a round trip must
// agree on: the object (EdgeJSON), the intent (EdgeIntent), the per-turn
// actions and calls (EdgeFuncCall; the final mock state is derived, not
// extracted).
func SameLabel(task schemas.Task, got, want json.RawMessage) bool {
	switch task {
	case schemas.EdgeIntent:
		var a, b IntentTarget
		return json.Unmarshal(got, &a) == nil && json.Unmarshal(want, &b) == nil && a.Intent == b.Intent
	case schemas.EdgeFuncCall:
		var a, b FuncCallTarget
		if json.Unmarshal(got, &a) != nil || json.Unmarshal(want, &b) != nil {
			return false
		}
		a.FinalState, b.FinalState = nil, nil
		ja, _ := json.Marshal(a.Turns)
		jb, _ := json.Marshal(b.Turns)
		return SameJSON(ja, jb)
	}
	return SameJSON(got, want)
}

// SameJSON reports whether two JSON documents are equal after decoding
// (key order and number formatting do not matter).
func SameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ca, _ := json.Marshal(x)
	cb, _ := json.Marshal(y)
	return string(ca) == string(cb)
}
