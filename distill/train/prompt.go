package train

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/cyclecore/mlmforge/datasets"
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

// Prompt is PromptWith in PromptFullBounds, the style of general models.
func Prompt(cat *schemas.Catalog, r *datasets.Record) (system, user string, err error) {
	return PromptWith(cat, r, PromptFullBounds)
}

// PromptWith renders the system and user messages of a decoder example: the task
// instruction (after the record's own system messages, if it has any), then the
// input with what the task needs to see. EdgeJSON shows the record's schema
// (RecordSchema) in a compact notation, properties in declaration order;
// EdgeFuncCall lists the functions offered (the record's own docs, else
// catalog functions: see offeredFunctions) as name(param: type, optional?: type):
// description; EdgeIntent names the taxonomy. The reply (Reply) is the record's
// target JSON, compacted, objects in the schema's property order. style
// drops what PromptCompact leaves out, and adds the parameters' value
// constraints to function signatures when it has "+bounds".
func PromptWith(cat *schemas.Catalog, r *datasets.Record, style PromptStyle) (system, user string, err error) {
	task, err := schemas.ParseTask(r.Task)
	if err != nil {
		return "", "", fmt.Errorf("record %s: field task: %w", r.ID, err)
	}
	msgs := r.MetaStrings(datasets.MetaSystem)
	if !style.compact() {
		msgs = append(msgs, instructionOf(task))
	}
	system = strings.Join(msgs, "\n")
	switch task {
	case schemas.EdgeJSON:
		id, schema, err := RecordSchema(cat, r)
		if err != nil {
			return "", "", err
		}
		node, err := parseOrdered(schema)
		if err != nil {
			return "", "", fmt.Errorf("record %s: schema %s: %w", r.ID, id, err)
		}
		return system, fmt.Sprintf("Schema %s: %s\nText: %s", id, compactNode(node, true, false), r.Input), nil
	case schemas.EdgeIntent:
		return system, fmt.Sprintf("Taxonomy: %s\nRequest: %s", r.Variant, r.Input), nil
	default:
		funcs, err := offeredFunctions(cat, r)
		if err != nil {
			return "", "", err
		}
		var b strings.Builder
		for i, f := range funcs {
			if i > 0 {
				b.WriteByte('\n')
			}
			sig := strings.TrimSuffix(strings.TrimPrefix(compactNode(f.params, true, style.Bounds()), "{"), "}")
			if style.compact() && f.catalog {
				fmt.Fprintf(&b, "- %s(%s)", f.name, sig)
				continue
			}
			fmt.Fprintf(&b, "- %s(%s): %s", f.name, sig, f.description)
		}
		return system, fmt.Sprintf("Functions:\n%s\nUser: %s", b.String(), userTurns(r.Input)), nil
	}
}

func instructionOf(task schemas.Task) string {
	switch task {
	case schemas.EdgeJSON:
		return instructJSON
	case schemas.EdgeIntent:
		return instructIntent
	}
	return instructFuncCall
}

// RecordSchema returns the id and JSON Schema an EdgeJSON record's answer must
// match: the record's own (Meta "schema", what importers store) when it carries
// one, even if its cell names a catalog schema, else the catalog schema of its cell.
func RecordSchema(cat *schemas.Catalog, r *datasets.Record) (string, json.RawMessage, error) {
	if s, ok := r.MetaValue(datasets.MetaSchema); ok {
		return r.Cell, s, nil
	}
	s, err := cat.Schema(r.Cell)
	if err != nil {
		return "", nil, fmt.Errorf("record %s: %w: cell %q is not a catalog schema and its meta has no %q", r.ID, errNoSchema, r.Cell, datasets.MetaSchema)
	}
	return s.ID, s.Schema, nil
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

// Reply is the answer a student learns to write for r: the target JSON, compacted,
// with objects in the property order the prompt lists (the record's schema, or
// each called function's parameters).
//
// For EdgeFuncCall only the turns are the answer: the scenario label and the mock
// world's final state are bookkeeping of the gold, which the evaluation derives by
// executing the predicted calls, so a student never spends tokens on them.
func Reply(cat *schemas.Catalog, r *datasets.Record) (string, error) {
	target, err := parseOrdered([]byte(r.Target))
	if err != nil {
		return "", fmt.Errorf("record %s: field target: %w", r.ID, err)
	}
	switch r.Task {
	case string(schemas.EdgeJSON):
		if _, schema, err := RecordSchema(cat, r); err == nil {
			if s, err := parseOrdered(schema); err == nil {
				target.orderBy(s)
			}
		}
		return target.String(), nil
	case string(schemas.EdgeFuncCall):
		turns := target.get("turns")
		if turns == nil || !turns.array || len(turns.items) == 0 {
			return target.String(), nil // an imported target without turns is the answer as is
		}
		if funcs, err := offeredFunctions(cat, r); err == nil {
			orderCallArgs(turns, funcs)
		}
		return `{"turns":` + turns.String() + `}`, nil
	}
	return target.String(), nil
}

// orderCallArgs orders every call's arguments by its function's parameters.
func orderCallArgs(turns *jnode, funcs []funcDoc) {
	byName := map[string]*jnode{}
	for _, f := range funcs {
		byName[f.name] = f.params
	}
	for _, t := range turns.items {
		calls := t.get("calls")
		if calls == nil {
			continue
		}
		for _, c := range calls.items {
			if p := byName[c.get("name").str()]; p != nil {
				c.get("arguments").orderBy(p)
			}
		}
	}
}

// funcDoc is one function as a prompt offers it.
type funcDoc struct {
	name, description string
	// params is the parameters' object schema.
	params *jnode
	// catalog is set for a function of the builtin catalog (not the record's
	// own docs).
	catalog bool
}

// offeredFunctions lists the functions an EdgeFuncCall prompt offers: the
// record's own docs (Meta "functions", BFCL's list) when it carries them, else
// catalogFunctions.
func offeredFunctions(cat *schemas.Catalog, r *datasets.Record) ([]funcDoc, error) {
	raw, ok := r.MetaValue(datasets.MetaFunctions)
	if !ok {
		return catalogFunctions(cat, r)
	}
	list, err := parseOrdered(raw)
	if err != nil || !list.array {
		return nil, fmt.Errorf("record %s: meta %q: want a list of function docs", r.ID, datasets.MetaFunctions)
	}
	out := make([]funcDoc, 0, len(list.items))
	for i, f := range list.items {
		name := f.get("name").str()
		if name == "" {
			return nil, fmt.Errorf("record %s: meta %s[%d]: no name", r.ID, datasets.MetaFunctions, i)
		}
		params := f.get("parameters")
		if params == nil {
			params = &jnode{object: true}
		}
		out = append(out, funcDoc{name: name, description: f.get("description").str(), params: params})
	}
	return out, nil
}

// OfferedFunctions names the functions an EdgeFuncCall prompt for r offers, in
// the prompt's order: the record's own docs, or its gold functions and the
// distractors of their domains drawn from the catalog. A constrained decoder
// restricts calls to these, as tool-calling grammars restrict a model to the
// tools its request lists.
func OfferedFunctions(cat *schemas.Catalog, r *datasets.Record) ([]string, error) {
	funcs, err := offeredFunctions(cat, r)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(funcs))
	for i, f := range funcs {
		names[i] = f.name
	}
	return names, nil
}

// maxDistractors is how many functions besides the gold ones a prompt offers.
const maxDistractors = 4

// catalogFunctions lists the gold functions of r and up to maxDistractors
// other functions of the domains its gold calls touch (for irrelevant
// requests: of one domain chosen from the record id), in catalog order.
func catalogFunctions(cat *schemas.Catalog, r *datasets.Record) ([]funcDoc, error) {
	names := []string{r.Function}
	var tgt generator.FuncCallTarget
	if err := json.Unmarshal([]byte(r.Target), &tgt); err != nil {
		return nil, fmt.Errorf("record %s: field target: %w", r.ID, err)
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
			return nil, fmt.Errorf("record %s: %w", r.ID, err)
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
	offered := map[string]bool{}
	for _, n := range names {
		offered[n] = true
	}
	type cand struct {
		f *schemas.Function
		h uint32
	}
	var others []cand
	for _, f := range cat.Functions {
		if domains[f.Domain] && !offered[f.Name] {
			h := fnv.New32a()
			h.Write([]byte(r.ID + "/" + f.Name))
			others = append(others, cand{f, h.Sum32()})
		}
	}
	sort.Slice(others, func(i, j int) bool { return others[i].h < others[j].h })
	for _, o := range others[:min(len(others), maxDistractors)] {
		offered[o.f.Name] = true
	}
	var out []funcDoc
	for _, f := range cat.Functions {
		if !offered[f.Name] {
			continue
		}
		params, err := parseOrdered(f.Parameters)
		if err != nil {
			return nil, fmt.Errorf("record %s: function %s: %w", r.ID, f.Name, err)
		}
		out = append(out, funcDoc{name: f.Name, description: f.Description, params: params, catalog: true})
	}
	return out, nil
}
