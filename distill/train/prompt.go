package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// Task instructions of the decoder prompts (the ChatML system message). They are part of
// what a student learns, so changing one changes every trained model's expected input:
// inference must build the same prompt (Prompt is exported for that reason).
const (
	instructJSON = "Extract the information in the user's text as one JSON object matching the schema. " +
		"Answer with JSON only."
	instructIntent = "Classify the user's request into one intent of the taxonomy. " +
		`Answer with JSON only: {"intent": "<id>"}.`
	instructFuncCall = "Decide which of the functions to call for the user's request and fill their arguments. " +
		"Ask for missing or invalid parameters instead of guessing; make no call if no function fits. " +
		"Answer with JSON only."
)

// Prompt renders the system and user messages of a decoder example: the task
// instruction, then the input with what the task needs to see. EdgeJSON shows the schema
// id (the record's cell) and the fields of the record's schema (eval.RecordSchema) in a
// compact notation; EdgeFuncCall lists the candidate functions
// (those of the domains the gold calls touch, or one domain chosen from the record id for
// irrelevant requests) as name(param: type, optional?: type): description; EdgeIntent
// names the taxonomy. The reply is the record's target JSON, compacted.
func Prompt(cat *schemas.Catalog, r *datasets.Record) (system, user string, err error) {
	task, err := schemas.ParseTask(r.Task)
	if err != nil {
		return "", "", fmt.Errorf("record %s: field task: %w", r.ID, err)
	}
	switch task {
	case schemas.EdgeJSON:
		// The record's own schema (an import's) before the catalog's, the
		// schema the scorer and the mask judge the answer by.
		schema, err := eval.RecordSchema(cat, r)
		if err != nil {
			return "", "", err
		}
		fields, err := compactSchema(schema)
		if err != nil {
			return "", "", fmt.Errorf("record %s: schema %s: %w", r.ID, r.Cell, err)
		}
		return instructJSON, fmt.Sprintf("Schema %s: %s\nText: %s", r.Cell, fields, r.Input), nil
	case schemas.EdgeIntent:
		return instructIntent, fmt.Sprintf("Taxonomy: %s\nRequest: %s", r.Variant, r.Input), nil
	default:
		tools, err := candidateFunctions(cat, r)
		if err != nil {
			return "", "", err
		}
		return instructFuncCall, fmt.Sprintf("Functions:\n%s\nUser: %s", tools, userTurns(r.Input)), nil
	}
}

// userTurns renders a multi-turn input (a JSON array of utterances) one turn per line;
// a plain-text input stays as it is.
func userTurns(input string) string {
	var turns []string
	if !strings.HasPrefix(strings.TrimSpace(input), "[") || json.Unmarshal([]byte(input), &turns) != nil {
		return input
	}
	var b strings.Builder
	for i, t := range turns {
		fmt.Fprintf(&b, "\n[turn %d] %s", i+1, t)
	}
	return b.String()
}

// reply is the compacted target JSON of r.
//
// For EdgeFuncCall only the turns are the answer: the scenario label and the mock
// world's final state are bookkeeping of the gold, which the evaluation derives by
// executing the predicted calls, so a student never spends tokens on them.
func reply(r *datasets.Record) (string, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(r.Target)); err != nil {
		return "", fmt.Errorf("record %s: field target: %w", r.ID, err)
	}
	if r.Task != string(schemas.EdgeFuncCall) {
		return buf.String(), nil
	}
	var t struct {
		Turns json.RawMessage `json:"turns"`
	}
	if err := json.Unmarshal(buf.Bytes(), &t); err != nil || len(t.Turns) == 0 {
		return buf.String(), nil // an imported target without turns (BFCL calls) is the answer as is
	}
	return `{"turns":` + string(t.Turns) + `}`, nil
}

// maxDistractors is how many functions besides the gold ones a prompt offers.
const maxDistractors = 4

// candidateFunctions lists the gold functions of r and up to maxDistractors
// other functions of the domains its gold calls touch (for irrelevant
// requests: of one domain chosen from the record id).
func candidateFunctions(cat *schemas.Catalog, r *datasets.Record) (string, error) {
	names := []string{r.Function}
	var tgt generator.FuncCallTarget
	if err := json.Unmarshal([]byte(r.Target), &tgt); err != nil {
		return "", fmt.Errorf("record %s: field target: %w", r.ID, err)
	}
	for _, t := range tgt.Turns {
		for _, c := range t.Calls {
			names = append(names, c.Name)
		}
	}
	domains := map[string]bool{}
	for _, n := range names {
		if n == "" {
			continue
		}
		f, err := cat.Function(n)
		if err != nil {
			return "", fmt.Errorf("record %s: %w", r.ID, err)
		}
		domains[f.Domain] = true
	}
	if len(domains) == 0 && len(cat.Domains) > 0 { // irrelevant: a distractor domain
		h := fnv.New32a()
		h.Write([]byte(r.ID))
		domains[cat.Domains[int(h.Sum32()%uint32(len(cat.Domains)))].Domain] = true
	}
	// The gold functions and up to maxDistractors other functions of the same
	// domains, chosen by a hash of the record id and listed in catalog order:
	// the student must still pick among look-alikes (a domain's functions
	// share a prefix), with a prompt that fits a small model's context.
	gold := map[string]bool{}
	for _, n := range names {
		gold[n] = true
	}
	type cand struct {
		f *schemas.Function
		h uint32
	}
	var others []cand
	for _, f := range cat.Functions {
		if domains[f.Domain] && !gold[f.Name] {
			h := fnv.New32a()
			h.Write([]byte(r.ID + "/" + f.Name))
			others = append(others, cand{f, h.Sum32()})
		}
	}
	sort.Slice(others, func(i, j int) bool { return others[i].h < others[j].h })
	for _, o := range others[:min(len(others), maxDistractors)] {
		gold[o.f.Name] = true
	}
	var b strings.Builder
	for _, f := range cat.Functions {
		if !gold[f.Name] {
			continue
		}
		sig, err := signature(f.Parameters)
		if err != nil {
			return "", fmt.Errorf("record %s: function %s: %w", r.ID, f.Name, err)
		}
		fmt.Fprintf(&b, "- %s(%s): %s\n", f.Name, sig, f.Description)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// signature renders an object schema's properties as "a: string, b?: integer", with ?
// marking parameters that are not required.
func signature(params json.RawMessage) (string, error) {
	var node map[string]any
	if err := json.Unmarshal(params, &node); err != nil {
		return "", err
	}
	s := compactNode(node, true)
	return strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}"), nil
}

// compactSchema renders a JSON Schema in a compact, model-friendly notation:
// {name: string(date), tags: [string], status: open|closed, opt?: number}.
func compactSchema(schema json.RawMessage) (string, error) {
	var node map[string]any
	if err := json.Unmarshal(schema, &node); err != nil {
		return "", err
	}
	return compactNode(node, true), nil
}

// compactNode renders one schema node; markOptional adds ? to non-required properties.
func compactNode(node map[string]any, markOptional bool) string {
	if enum, ok := node["enum"].([]any); ok {
		vals := make([]string, len(enum))
		for i, v := range enum {
			vals[i] = fmt.Sprint(v)
		}
		return strings.Join(vals, "|")
	}
	typ := schemaType(node["type"])
	switch typ {
	case "object":
		props, _ := node["properties"].(map[string]any)
		required := map[string]bool{}
		if req, ok := node["required"].([]any); ok {
			for _, r := range req {
				required[fmt.Sprint(r)] = true
			}
		}
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			child, _ := props[k].(map[string]any)
			name := k
			if markOptional && !required[k] {
				name += "?"
			}
			parts[i] = name + ": " + compactNode(child, markOptional)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case "array":
		items, _ := node["items"].(map[string]any)
		return "[" + compactNode(items, markOptional) + "]"
	}
	if f, ok := node["format"].(string); ok {
		return typ + "(" + f + ")"
	}
	return typ
}

// schemaType reads "type", which is a name or a list such as ["string", "null"].
func schemaType(t any) string {
	switch v := t.(type) {
	case string:
		return v
	case []any:
		var names []string
		for _, x := range v {
			names = append(names, fmt.Sprint(x))
		}
		return strings.Join(names, "|")
	}
	return "any"
}
