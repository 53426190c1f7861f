package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// BFCLFunction is one function doc in the Berkeley Function Calling
// Leaderboard's format: JSON-Schema-like parameters with Python type names
// ("dict", "float", "tuple", "any").
type BFCLFunction struct {
	// Name is the function name; it may contain dots ("math.factorial").
	Name string `json:"name"`
	// Description is what the model sees.
	Description string `json:"description,omitempty"`
	// Parameters is the "dict" of the function's parameters.
	Parameters BFCLParam `json:"parameters"`
}

// BFCLParam is one BFCL parameter schema.
type BFCLParam struct {
	// Type is a BFCL type name: string, integer, float, boolean, array, tuple, dict, any.
	Type string `json:"type"`
	// Description documents the parameter.
	Description string `json:"description,omitempty"`
	// Properties are the fields of a dict.
	Properties map[string]*BFCLParam `json:"properties,omitempty"`
	// Required lists the dict fields a call must fill.
	Required []string `json:"required,omitempty"`
	// Items is the element schema of an array or tuple.
	Items *BFCLParam `json:"items,omitempty"`
	// Enum lists the allowed values, when closed.
	Enum []any `json:"enum,omitempty"`
	// Default is the documented default value.
	Default any `json:"default,omitempty"`
}

// BFCLMessage is one chat message of a BFCL question.
type BFCLMessage struct {
	// Role is "user", "system" or "assistant".
	Role string `json:"role"`
	// Content is the message text.
	Content string `json:"content"`
}

// BFCLEntry is one single-turn BFCL test case.
type BFCLEntry struct {
	// ID is e.g. "simple_python_0"; it joins the entry to its gold answer.
	ID string `json:"id"`
	// Question holds one message list per turn.
	Question [][]BFCLMessage `json:"question"`
	// Function lists the functions the model may call.
	Function []BFCLFunction `json:"function"`
}

// BFCLAnswer is one gold call of BFCL's possible_answer files: a single
// function name mapped to its parameters, each mapped to the list of
// acceptable values ("" in the list: the parameter may be omitted).
type BFCLAnswer map[string]map[string][]any

// BFCLGold is one line of a possible_answer file.
type BFCLGold struct {
	// ID matches BFCLEntry.ID.
	ID string `json:"id"`
	// GroundTruth lists the gold calls (several for parallel categories).
	GroundTruth []BFCLAnswer `json:"ground_truth"`
}

// ReadBFCLEntries reads BFCL test cases: JSON Lines, despite the .json
// suffix upstream uses. Numbers decode as json.Number.
func ReadBFCLEntries(r io.Reader) ([]BFCLEntry, error) {
	return readJSONLines[BFCLEntry](r, "entry")
}

// ReadBFCLGold reads a possible_answer file (JSON Lines). Numbers keep
// their literal form, so a gold 5.0 stays a float for the type checks.
func ReadBFCLGold(r io.Reader) ([]BFCLGold, error) {
	return readJSONLines[BFCLGold](r, "gold answer")
}

// ReadBFCLFunctions reads a function doc file with one BFCLFunction per
// line, the format of BFCL's multi_turn_func_doc/ directory.
func ReadBFCLFunctions(r io.Reader) ([]BFCLFunction, error) {
	return readJSONLines[BFCLFunction](r, "function")
}

// LoadBFCLEntries reads BFCL test cases from a file.
func LoadBFCLEntries(path string) ([]BFCLEntry, error) {
	return loadFile(path, ReadBFCLEntries)
}

// LoadBFCLGold reads a possible_answer file.
func LoadBFCLGold(path string) ([]BFCLGold, error) {
	return loadFile(path, ReadBFCLGold)
}

func loadFile[T any](path string, read func(io.Reader) ([]T, error)) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open bfcl file: %w", err)
	}
	defer f.Close()
	out, err := read(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// readJSONLines decodes consecutive JSON values (one per line in practice).
func readJSONLines[T any](r io.Reader, what string) ([]T, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var out []T
	for {
		var v T
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s %d: %w", what, len(out)+1, err)
		}
		out = append(out, v)
	}
}

// GoldCalls turns possible answers into one concrete call each: a
// parameter whose acceptable values include "" is omitted unless the
// function doc requires it (then it takes its first other value, or "" when
// "" is its only acceptable value) (BFCL's data marks a few required parameters
// optional, e.g. simple_python_200) or lists it at all (parallel_multiple_26
// has a gold parameter that is not in the doc); every other parameter takes
// its first acceptable value that is not "". Dict values and lists of dicts
// are made concrete key by key. By BFCL's rules the result passes CheckAST.
func GoldCalls(funcs []BFCLFunction, answers []BFCLAnswer) []BFCLCall {
	out := make([]BFCLCall, 0, len(answers))
	for _, a := range answers {
		name := answerName(a)
		var params *BFCLParam
		if fd := findDescription(funcs, name); fd != nil {
			params = &fd.Parameters
		}
		out = append(out, BFCLCall{Name: name, Args: concreteParams(a[name], params)})
	}
	return out
}

// concreteParams makes one dict of possible answers concrete; doc (may be
// nil) says which keys are required or documented.
func concreteParams(acc map[string][]any, doc *BFCLParam) map[string]any {
	args := map[string]any{}
	for _, k := range sortedKeys(acc) {
		required := doc != nil && slices.Contains(doc.Required, k)
		documented := doc == nil || doc.Properties[k] != nil
		if containsOptional(acc[k]) && (!required || !documented) {
			continue
		}
		var sub *BFCLParam
		if doc != nil {
			sub = doc.Properties[k]
		}
		if v, ok := concreteValue(acc[k], sub); ok {
			args[k] = v
		} else if required {
			// A required parameter whose only acceptable value is "" (BFCL
			// live_simple has such answers) must be given, as "".
			args[k] = ""
		}
	}
	return args
}

// concreteValue picks the first acceptable value that is not "".
func concreteValue(acc []any, doc *BFCLParam) (any, bool) {
	for _, v := range acc {
		if s, ok := v.(string); ok && s == "" {
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			return concreteDict(x, doc), true
		case []any:
			if len(x) > 0 {
				if _, isDict := x[0].(map[string]any); isDict {
					var item *BFCLParam
					if doc != nil {
						item = doc.Items
					}
					items := make([]any, len(x))
					for i, e := range x {
						if m, ok := e.(map[string]any); ok {
							items[i] = concreteDict(m, item)
						} else {
							items[i] = e
						}
					}
					return items, true
				}
			}
		}
		return v, true
	}
	return nil, false
}

// concreteDict makes a possible-answer dict ({key: [values]}) concrete.
func concreteDict(m map[string]any, doc *BFCLParam) map[string]any {
	params := make(map[string][]any, len(m))
	for k, v := range m {
		params[k] = asList(v)
	}
	return concreteParams(params, doc)
}
