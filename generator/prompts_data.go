package generator

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cyclecore/mlmforge/schemas"
)

// promptData is what a template sees. Catalog text (descriptions, ids) is
// ours and inserted as is; everything that comes from a sample or from text
// to extract is inserted as JSON, so it can neither run template code nor
// pass for instructions outside its quotes.
type promptData struct {
	Mode Mode
	// EdgeJSON.
	Schema *promptSchemaView
	// EdgeIntent: the taxonomy, the cell's class (not for Extract), and every
	// class (Extract).
	Taxonomy *promptTaxonomy
	Class    *promptClass
	Classes  []promptClass
	// EdgeFuncCall: the scenario (not for Extract, except multi_turn), the
	// tools the user can ask for, all tool domains, the turn plans (LabelFirst).
	Scenario string
	Function *promptTool
	Tools    []promptTool
	Domains  []promptDomain
	Turns    []promptTurn
	// Dialogue is true for multi_turn: the input is 2-3 user messages.
	Dialogue           bool
	MinTurns, MaxTurns int
	// Target is the gold target as indented JSON (LabelFirst).
	Target string
	// Slots is a JSON object of the slot values to mention (EdgeIntent
	// LabelFirst), "" when there are none.
	Slots string
	// Text is the text to extract from as a JSON string, or for a dialogue
	// TextTurns holds each user message as a JSON string (Extract).
	Text      string
	TextTurns []string
}

type promptSchemaView struct {
	ID, Title, Domain, Description string
	Complexity                     schemas.Complexity
	// JSON is the schema without generator hints, indented.
	JSON string
}

type promptTaxonomy struct {
	ID, Domain, Description string
	Size                    int
}

type promptClass struct {
	ID, Description string
	// Summary is the description's first sentence, for long class lists.
	Summary string
	Slots   []promptSlot
	// SlotNames lists the slot names, "" when the class has none.
	SlotNames string
}

type promptSlot struct {
	Name string
	// Values lists the allowed values as JSON strings, "" for open slots.
	Values string
}

type promptTool struct {
	Name, Description string
	// Params is the parameter schema without generator hints, compact; ""
	// in a label-first prompt for a function that the plan does not use.
	Params string
	// Required lists the required parameters, "" for none.
	Required string
	// Effect says what the stateful mock does, e.g. "creates a record in calendar_events".
	Effect string
}

type promptDomain struct{ Domain, Description string }

type promptTurn struct {
	N                             int
	Function, FunctionDescription string
	// Args is a JSON object of the values the user states, "" for none.
	Args    string
	Refs    []promptRef
	Omit    []promptParam
	Invalid *promptParam
	// InvalidValue is the stated invalid value as JSON.
	InvalidValue string
	// Request is a fixed request to rephrase, as a JSON string ("" for none).
	Request string
}

type promptRef struct {
	Param      string
	Turn       int // 1-based
	Collection string
}

type promptParam struct{ Name, Description string }

// buildPromptData gathers what the cell's template needs, and the answer
// format.
func buildPromptData(cat *schemas.Catalog, mode Mode, s Sample, text string) (*promptData, json.RawMessage, error) {
	d := &promptData{Mode: mode}
	if mode == Extract {
		if strings.TrimSpace(text) == "" {
			return nil, nil, errors.New("extract needs a text")
		}
	} else if mode == LabelFirst && len(s.Target) == 0 {
		return nil, nil, errors.New("label-first sample has no target")
	}
	var err error
	switch s.Cell.Task {
	case schemas.EdgeJSON:
		err = d.fillJSON(cat, s)
	case schemas.EdgeIntent:
		err = d.fillIntent(cat, s)
	case schemas.EdgeFuncCall:
		err = d.fillFuncCall(cat, s, text)
	default:
		err = fmt.Errorf("unknown task %q", s.Cell.Task)
	}
	if err != nil {
		return nil, nil, err
	}
	if mode == Extract && !d.Dialogue {
		if d.Text, err = promptJSONText(text); err != nil {
			return nil, nil, err
		}
	}
	if mode == LabelFirst {
		var v any
		if v, err = decodeOrderedJSON(s.Target, nil); err != nil {
			return nil, nil, fmt.Errorf("sample target: %w", err)
		}
		if d.Target, err = promptJSONText(v); err != nil {
			return nil, nil, err
		}
	}
	format, err := answerFormat(cat, d, s)
	if err != nil {
		return nil, nil, fmt.Errorf("answer format: %w", err)
	}
	return d, format, nil
}

func (d *promptData) fillJSON(cat *schemas.Catalog, s Sample) error {
	js, err := cat.Schema(s.Cell.SchemaID)
	if err != nil {
		return err
	}
	clean, err := promptSchema(js.Schema)
	if err != nil {
		return fmt.Errorf("schema %s: %w", js.ID, err)
	}
	text, err := promptJSONText(clean)
	if err != nil {
		return err
	}
	d.Schema = &promptSchemaView{ID: js.ID, Title: js.Title, Domain: js.Domain, Description: js.Description,
		Complexity: js.Complexity, JSON: text}
	return nil
}

func (d *promptData) fillIntent(cat *schemas.Catalog, s Sample) error {
	tax, err := cat.Taxonomy(s.Cell.Taxonomy)
	if err != nil {
		return err
	}
	d.Taxonomy = &promptTaxonomy{ID: tax.ID, Domain: tax.Domain, Description: tax.Description, Size: len(tax.Classes)}
	for _, c := range tax.Classes {
		cv, err := newPromptClass(c)
		if err != nil {
			return err
		}
		if d.Mode == Extract {
			d.Classes = append(d.Classes, cv)
		} else if c.ID == s.Cell.Class {
			d.Class = &cv
		}
	}
	if d.Mode == Extract {
		return nil
	}
	if d.Class == nil {
		return fmt.Errorf("taxonomy %s has no class %q", tax.ID, s.Cell.Class)
	}
	if d.Mode == LabelFirst {
		slots := s.Slots
		if len(slots) == 0 {
			var it IntentTarget
			if err := json.Unmarshal(s.Target, &it); err != nil {
				return fmt.Errorf("sample target is not an intent target: %w", err)
			}
			slots = it.Slots
		}
		if len(slots) > 0 {
			if d.Slots, err = promptJSONText(slots); err != nil {
				return err
			}
		}
	}
	return nil
}

func newPromptClass(c schemas.IntentClass) (promptClass, error) {
	cv := promptClass{ID: c.ID, Description: c.Description, Summary: promptFirstSentence(c.Description)}
	names := make([]string, 0, len(c.Slots))
	for _, sl := range c.Slots {
		sv := promptSlot{Name: sl.Name}
		quoted := make([]string, len(sl.Values))
		for i, v := range sl.Values {
			b, err := promptJSON(v, false)
			if err != nil {
				return cv, err
			}
			quoted[i] = string(b)
		}
		sv.Values = strings.Join(quoted, ", ")
		cv.Slots = append(cv.Slots, sv)
		names = append(names, sl.Name)
	}
	cv.SlotNames = strings.Join(names, ", ")
	return cv, nil
}

// promptFirstSentence cuts a description after its first sentence.
func promptFirstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}
