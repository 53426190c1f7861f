package generator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cyclecore/mlmforge/schemas"
)

// isDialogueSample reports whether s asks for a dialogue, whose input is a JSON
// array of user turns and whose answer carries "turns" instead of "input".
func isDialogueSample(s Sample) bool {
	return s.Cell.Task == schemas.EdgeFuncCall && s.Cell.Scenario == schemas.MultiTurn
}

// ParseAnswer reads a model's answer to a prompt rendered by RenderPrompt:
// {"input": ...} or {"turns": [...]} (LabelFirst), the same plus "target"
// (TeacherLabels), or {"target": ...} (Extract). It checks the answer's shape
// only; whether the target is right is the validators' business.
func ParseAnswer(req Request, content string) (input string, target json.RawMessage, err error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stripCodeFence(content)), &obj); err != nil {
		return "", nil, fmt.Errorf("answer is not a JSON object: %w", err)
	}
	if obj == nil {
		return "", nil, errors.New("answer is null, not a JSON object")
	}
	if req.Mode != Extract {
		if input, err = teacherAnswerInput(obj, isDialogueSample(req.Sample)); err != nil {
			return "", nil, err
		}
	}
	switch req.Mode {
	case LabelFirst:
		return input, nil, nil
	case TeacherLabels, Extract:
		raw, ok := obj["target"]
		if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return "", nil, errors.New(`answer has no "target"`)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return "", nil, fmt.Errorf("answer target: %w", err)
		}
		return input, compact.Bytes(), nil
	default:
		return "", nil, fmt.Errorf("unknown mode %q", req.Mode)
	}
}

// teacherAnswerInput reads "input", or for a dialogue "turns", which becomes a JSON
// array string (Response.Input's form for multi_turn).
func teacherAnswerInput(obj map[string]json.RawMessage, dialogue bool) (string, error) {
	if dialogue {
		raw, ok := obj["turns"]
		if !ok {
			return "", errors.New(`answer has no "turns"`)
		}
		var turns []string
		if err := json.Unmarshal(raw, &turns); err != nil {
			return "", fmt.Errorf(`answer "turns" is not an array of strings: %w`, err)
		}
		if len(turns) == 0 {
			return "", errors.New(`answer "turns" is empty`)
		}
		b, err := json.Marshal(turns)
		if err != nil {
			return "", fmt.Errorf("encode turns: %w", err)
		}
		return string(b), nil
	}
	raw, ok := obj["input"]
	if !ok {
		return "", errors.New(`answer has no "input"`)
	}
	var input string
	if err := json.Unmarshal(raw, &input); err != nil {
		return "", fmt.Errorf(`answer "input" is not a string: %w`, err)
	}
	return input, nil
}

// stripCodeFence removes a Markdown code fence around the answer: models that
// ignore the format often wrap their JSON in one.
func stripCodeFence(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "```") {
		return s
	}
	s = strings.TrimPrefix(s, "```")
	if nl := strings.IndexByte(s, '\n'); nl >= 0 {
		s = s[nl+1:] // drop the language tag line
	}
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "```"))
}

// formatSchemas caches compiled answer formats by their text: a run renders
// the same few formats thousands of times.
var formatSchemas sync.Map // string -> *jsonschema.Schema

// CheckAnswerFormat validates a model's answer against the JSON schema it was asked
// to follow. Structured outputs make a model follow it, but the answer is still
// untrusted: a server without structured outputs, or a broken one, can ignore it.
func CheckAnswerFormat(format json.RawMessage, content string) error {
	if len(bytes.TrimSpace(format)) == 0 || format[0] != '{' {
		return nil // "json" or no format: nothing to check beyond parsing
	}
	key := string(format)
	sch, ok := formatSchemas.Load(key)
	if !ok {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(format))
		if err != nil {
			return fmt.Errorf("answer format is not JSON: %w", err)
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("mem://format.json", doc); err != nil {
			return err
		}
		compiled, err := c.Compile("mem://format.json")
		if err != nil {
			return fmt.Errorf("compile answer format: %w", err)
		}
		sch, _ = formatSchemas.LoadOrStore(key, compiled)
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(stripCodeFence(content)))
	if err != nil {
		return fmt.Errorf("answer is not JSON: %w", err)
	}
	if err := sch.(*jsonschema.Schema).Validate(v); err != nil {
		return fmt.Errorf("answer breaks the requested format: %s", firstLineOf(err.Error()))
	}
	return nil
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
