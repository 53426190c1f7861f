package eval

import (
	"fmt"
	"strings"

	"github.com/cyclecore/mlmforge/generator"
)

// Turn is one parsed assistant turn of an EdgeFuncCall prediction.
type Turn struct {
	// Action is the stated action (call, ask, none) or, when the output did
	// not state one, the inferred one: call if it made calls, ask if it lists
	// missing/invalid parameters or its message is a question, else none.
	Action string `json:"action"`
	// Calls are the calls made, arguments as decoded JSON (json.Number numbers).
	Calls []generator.Call `json:"calls,omitempty"`
	// Missing and Invalid are the parameters the turn asks about.
	Missing []string `json:"missing,omitempty"`
	Invalid []string `json:"invalid,omitempty"`
	// Message is the turn's free text.
	Message string `json:"message,omitempty"`
}

// parseFuncCall parses a prediction into turns: one per TurnOutputs entry,
// or the turns of Raw. See parseOutput for the accepted shapes.
func parseFuncCall(p *Prediction) ([]Turn, error) {
	if len(p.TurnOutputs) == 0 {
		return parseOutput(p.Raw)
	}
	out := make([]Turn, 0, len(p.TurnOutputs))
	for i, raw := range p.TurnOutputs {
		ts, err := parseOutput(raw)
		if err != nil {
			return nil, fmt.Errorf("turn %d: %w", i+1, err)
		}
		if len(ts) != 1 {
			return nil, fmt.Errorf("turn %d: output holds %d turns, want 1", i+1, len(ts))
		}
		out = append(out, ts[0])
	}
	return out, nil
}

// parseOutput accepts, after trimming and removing a code fence:
//
//	plain text (or "")                        one turn without calls; the text is its message
//	{"turns": [turn, ...]}                    a whole dialogue (the shape of the gold target)
//	{"action", "calls", "missing", "invalid", "message"}   one turn (the shape of a gold turn)
//	{"name", "arguments"}                     one turn with one call
//	[call, ...]                               one turn with these calls ([] and [{}] = no call)
//	[f(a=1), g(b='x')] or f(a=1)              prompt-style calls (BFCL's prompting format)
//
// A call is {"name", "arguments"} ("parameters" and "args" are synonyms;
// arguments may be an object or a string holding one, as OpenAI tool calls
// do) or {"function": {...}}; "tool_calls" is a synonym of "calls". Text that
// starts like JSON but does not parse (truncated output) is an error, and so
// are wrong types (a non-string name, arguments that are not an object).
func parseOutput(raw string) ([]Turn, error) {
	s := stripFence(raw)
	if looksLikePyCall(s) {
		calls, err := parsePyCalls(s)
		if err == nil {
			return []Turn{inferAction(Turn{Calls: calls})}, nil
		}
		if s[0] != '[' {
			return nil, err // a call cut off or garbled: not a message
		}
	}
	if s == "" || (s[0] != '{' && s[0] != '[' && s[0] != '"') {
		return []Turn{inferAction(Turn{Message: s})}, nil
	}
	v, err := extractJSON(s)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case string:
		// Trimmed as plain text and a turn's "message" are.
		return []Turn{inferAction(Turn{Message: strings.TrimSpace(x)})}, nil
	case []any:
		if len(x) == 1 {
			if m, ok := x[0].(map[string]any); ok && len(m) == 0 {
				return []Turn{inferAction(Turn{})}, nil // [{}]: BFCL's empty output, no call
			}
		}
		calls, err := parseCalls(x)
		if err != nil {
			return nil, err
		}
		return []Turn{inferAction(Turn{Calls: calls})}, nil
	case map[string]any:
		if turns, ok := x["turns"]; ok {
			list, ok := turns.([]any)
			if !ok {
				return nil, fmt.Errorf(`"turns" is %s, want an array`, pyType(toPy(turns)))
			}
			out := make([]Turn, 0, len(list))
			for i, t := range list {
				m, ok := t.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("turns[%d] is %s, want an object", i, pyType(toPy(t)))
				}
				tn, err := parseTurnObject(m)
				if err != nil {
					return nil, fmt.Errorf("turns[%d]: %w", i, err)
				}
				out = append(out, tn)
			}
			return out, nil
		}
		t, err := parseTurnObject(x)
		if err != nil {
			return nil, err
		}
		return []Turn{t}, nil
	}
	return nil, fmt.Errorf("output is a JSON %s, want an object, an array or text", pyType(toPy(v)))
}

// parseTurnObject reads one turn object, or a bare call object.
func parseTurnObject(m map[string]any) (Turn, error) {
	_, hasName := m["name"]
	_, hasFunc := m["function"]
	if hasName || hasFunc {
		c, err := parseCall(m)
		if err != nil {
			return Turn{}, err
		}
		return inferAction(Turn{Calls: []generator.Call{c}}), nil
	}
	var t Turn
	var err error
	if t.Action, err = optString(m, "action"); err != nil {
		return Turn{}, err
	}
	switch t.Action {
	case "", generator.ActionCall, generator.ActionAsk, generator.ActionNone:
	default:
		return Turn{}, fmt.Errorf(`"action" %q is not call, ask or none`, t.Action)
	}
	for _, key := range []string{"calls", "tool_calls"} {
		if v, ok := m[key]; ok && v != nil {
			list, ok := v.([]any)
			if !ok {
				return Turn{}, fmt.Errorf("%q is %s, want an array", key, pyType(toPy(v)))
			}
			calls, err := parseCalls(list)
			if err != nil {
				return Turn{}, fmt.Errorf("%s: %w", key, err)
			}
			t.Calls = append(t.Calls, calls...)
		}
	}
	if t.Missing, err = optStrings(m, "missing"); err != nil {
		return Turn{}, err
	}
	if t.Invalid, err = optStrings(m, "invalid"); err != nil {
		return Turn{}, err
	}
	for _, key := range []string{"message", "content", "text"} {
		s, err := optString(m, key)
		if err != nil {
			return Turn{}, err
		}
		t.Message = strings.TrimSpace(t.Message + " " + s)
	}
	return inferAction(t), nil
}

func inferAction(t Turn) Turn {
	if t.Action != "" {
		return t
	}
	switch {
	case len(t.Calls) > 0:
		t.Action = generator.ActionCall
	case len(t.Missing) > 0 || len(t.Invalid) > 0 || strings.Contains(t.Message, "?"):
		t.Action = generator.ActionAsk
	default:
		t.Action = generator.ActionNone
	}
	return t
}

func parseCalls(list []any) ([]generator.Call, error) {
	calls := make([]generator.Call, 0, len(list))
	for i, v := range list {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("call %d is %s, want an object", i, pyType(toPy(v)))
		}
		c, err := parseCall(m)
		if err != nil {
			return nil, fmt.Errorf("call %d: %w", i, err)
		}
		calls = append(calls, c)
	}
	return calls, nil
}

// parseCall reads {"name", "arguments"} or {"function": {"name", "arguments"}}.
func parseCall(m map[string]any) (generator.Call, error) {
	if f, ok := m["function"].(map[string]any); ok {
		m = f
	}
	name, ok := m["name"].(string)
	if !ok || strings.TrimSpace(name) == "" {
		return generator.Call{}, fmt.Errorf(`call has no string "name"`)
	}
	args := map[string]any{}
	for _, key := range []string{"arguments", "parameters", "args"} {
		v, ok := m[key]
		if !ok || v == nil {
			continue
		}
		if s, isStr := v.(string); isStr {
			dv, err := decodeJSON(s)
			if err != nil {
				return generator.Call{}, fmt.Errorf("%s: %q arguments string is not JSON: %w", name, key, err)
			}
			v = dv
		}
		a, ok := v.(map[string]any)
		if !ok {
			return generator.Call{}, fmt.Errorf("%s: %q is %s, want an object", name, key, pyType(toPy(v)))
		}
		args = a
		break
	}
	return generator.Call{Name: strings.TrimSpace(name), Arguments: args}, nil
}

func optString(m map[string]any, key string) (string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%q is %s, want a string", key, pyType(toPy(v)))
	}
	return s, nil
}

func optStrings(m map[string]any, key string) ([]string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		if s, isStr := v.(string); isStr {
			return []string{s}, nil
		}
		return nil, fmt.Errorf("%q is %s, want an array of strings", key, pyType(toPy(v)))
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%s[%d] is %s, want a string", key, i, pyType(toPy(e)))
		}
		out = append(out, s)
	}
	return out, nil
}
