package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// BFCLCategories are BFCL v4's AST categories this importer reads: one
// question turn with function docs, judged by the AST checker (Python rules)
// or, for irrelevance and relevance, by whether a call is made. Without
// Categories, an import reads every one of them that the directory holds.
var BFCLCategories = []string{"simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance",
	"live_simple", "live_multiple", "live_parallel", "live_parallel_multiple", "live_irrelevance", "live_relevance"}

// bfclKnown are the categories ImportBFCL accepts: BFCLCategories and older
// names ("simple" of v3, "relevance").
var bfclKnown = append([]string{"simple", "relevance"}, BFCLCategories...)

// bfclNotImportable says why the other BFCL categories are not read.
var bfclNotImportable = map[string]string{
	"simple_java":       "needs BFCL's Java type rules, which the checker does not implement",
	"simple_javascript": "needs BFCL's JavaScript type rules, which the checker does not implement",
}

// BFCLOptions are the BFCL import options.
type BFCLOptions struct {
	// Categories to import; empty means every category of BFCLCategories the
	// directory holds.
	Categories []string `json:"categories"`
	// Strict stops at the first bad row instead of skipping it.
	Strict bool `json:"-"`
}

// BFCLMeta is the meta column of a BFCL record: everything a BFCL-style checker
// needs, since the target keeps only the first acceptable value of each argument.
type BFCLMeta struct {
	// ID is BFCL's id, e.g. "simple_python_0".
	ID string `json:"bfcl_id"`
	// Category is the BFCL category, e.g. "parallel_multiple".
	Category string `json:"category"`
	// Functions are the function docs offered with the question, verbatim
	// (BFCL's JSON-schema dialect: "dict", "float", "tuple").
	Functions json.RawMessage `json:"functions"`
	// PossibleAnswer is BFCL's ground_truth verbatim: a list of {function:
	// {argument: [acceptable values]}}, where "" means the argument may be
	// omitted. Absent for irrelevance and relevance categories, where the
	// answer is no call, or any call.
	PossibleAnswer json.RawMessage `json:"possible_answer,omitempty"`
	// System holds the question's system messages, if any.
	System []string `json:"system,omitempty"`
	// Messages are the question's messages in order (system and user), as a
	// prompt should show them.
	Messages []eval.BFCLMessage `json:"messages,omitempty"`
}

// bfclQuestion is one line of a BFCL question file.
type bfclQuestion struct {
	ID       string               `json:"id"`
	Question [][]eval.BFCLMessage `json:"question"`
	Function json.RawMessage      `json:"function"`
}

// ImportBFCL reads BFCL's single-turn AST categories from dir
// (BFCL_v<N>_<cat>.json, JSON Lines despite the suffix, the highest N when
// several exist; gold in possible_answer/ under the same name) into
// EdgeFuncCall records in split "test": Input is the user's question; Target a
// generator.FuncCallTarget whose one turn calls each gold function with the
// first acceptable value of every argument (eval.GoldCalls), or, for
// irrelevance categories, makes no call, or for relevance categories is a
// call turn without gold calls (any call is right); Scenario and Cell are the
// category; Function the first gold function; Meta a BFCLMeta. Ids are
// "bfcl-<BFCL id>". A bad line (no gold, an assistant turn in the question,
// an empty list of acceptable values) is skipped and listed in
// Dataset.BadRows, unless opts.Strict.
func ImportBFCL(dir string, opts BFCLOptions) (*Dataset, error) {
	var skipped []string
	if len(opts.Categories) == 0 {
		var err error
		if opts.Categories, skipped, err = bfclPresent(dir); err != nil {
			return nil, fmt.Errorf("import bfcl: %w", err)
		}
	}
	for _, c := range opts.Categories {
		if why, ok := bfclNotImportable[c]; ok {
			return nil, fmt.Errorf("import bfcl: category %q %s", c, why)
		}
		if !slices.Contains(bfclKnown, c) {
			return nil, fmt.Errorf("import bfcl: unknown category %q: valid categories are %s", c, strings.Join(bfclKnown, ", "))
		}
	}
	b, err := newBuilder(schemas.EdgeFuncCall, "bfcl", opts)
	if err != nil {
		return nil, err
	}
	b.strict = opts.Strict
	for _, s := range skipped {
		b.warn("%s", s)
	}
	for _, cat := range opts.Categories {
		if err := b.bfclCategory(dir, cat); err != nil {
			return nil, fmt.Errorf("import bfcl: %w", err)
		}
	}
	return b.finish()
}

// bfclPresent lists the importable categories that dir holds, in
// BFCLCategories order, and a note for each other BFCL file left out.
func bfclPresent(dir string) (cats, skipped []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	re := regexp.MustCompile(`^BFCL_v\d+_(.+)\.json$`)
	seen := map[string]bool{}
	for _, e := range entries {
		m := re.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() || seen[m[1]] {
			continue
		}
		seen[m[1]] = true
		switch why, bad := bfclNotImportable[m[1]]; {
		case bad:
			skipped = append(skipped, fmt.Sprintf("%s not imported: %s", e.Name(), why))
		case !slices.Contains(bfclKnown, m[1]):
			skipped = append(skipped, fmt.Sprintf("%s not imported: not a single-turn AST category", e.Name()))
		}
	}
	for _, c := range bfclKnown {
		if seen[c] {
			cats = append(cats, c)
		}
	}
	if len(cats) == 0 {
		return nil, nil, fmt.Errorf("%s: no BFCL_v<N>_<category>.json of the categories %s", dir, strings.Join(BFCLCategories, ", "))
	}
	slices.Sort(skipped)
	return cats, skipped, nil
}

// bfclFile finds BFCL_v<N>_<cat>.json in dir, the highest N.
func bfclFile(dir, cat string) (name string, version int, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", 0, err
	}
	re := regexp.MustCompile(`^BFCL_v(\d+)_` + regexp.QuoteMeta(cat) + `\.json$`)
	for _, e := range entries {
		if m := re.FindStringSubmatch(e.Name()); m != nil && !e.IsDir() {
			if n, _ := strconv.Atoi(m[1]); n > version {
				name, version = e.Name(), n
			}
		}
	}
	if name == "" {
		return "", 0, fmt.Errorf("%s: no BFCL_v<N>_%s.json", dir, cat)
	}
	return name, version, nil
}

// bfclNoGold reports categories whose answer is whether a call is made: no
// possible_answer file.
func bfclNoGold(cat string) bool { return strings.Contains(cat, "relevance") }

// bfclCategory adds one category's questions with their gold.
func (b *builder) bfclCategory(dir, cat string) error {
	name, version, err := bfclFile(dir, cat)
	if err != nil {
		return err
	}
	var gold map[string]bfclGold
	if !bfclNoGold(cat) {
		if gold, err = b.readBFCLGold(dir, filepath.Join("possible_answer", name)); err != nil {
			return err
		}
	}
	data, file, err := b.readFile(filepath.Join(dir, name), name)
	if err != nil {
		return err
	}
	variant := fmt.Sprintf("bfcl-v%d", version)
	err = eachLine(data, func(line int, text []byte) error {
		return b.skip(b.bfclLine(name, cat, variant, file, line, text, gold))
	})
	if err != nil {
		return err
	}
	left := slices.SortedFunc(maps.Values(gold), func(x, y bfclGold) int { return x.line - y.line })
	for _, g := range left {
		if err := b.skip(rowErr("possible_answer/"+name, g.line, 0, "gold for %s, which %s does not have", g.id, name)); err != nil {
			return err
		}
	}
	return nil
}

// bfclLine adds the question of one line; gold is nil for categories without.
func (b *builder) bfclLine(name, cat, variant string, file, line int, text []byte, gold map[string]bfclGold) error {
	var q bfclQuestion
	if err := json.Unmarshal(text, &q); err != nil {
		return jsonLineErr(name, line, text, err)
	}
	if q.ID == "" {
		return rowErr(name, line, 0, "no \"id\"")
	}
	var g *bfclGold
	if gold != nil {
		gg, ok := gold[q.ID]
		if !ok {
			return rowErr(name, line, 0, "%s has no gold in possible_answer/%s", q.ID, name)
		}
		g = &gg
		delete(gold, q.ID)
	}
	r, err := bfclRecord(q, cat, g)
	if err != nil {
		return rowErr(name, line, 0, "%s: %v", q.ID, err)
	}
	r.Variant = variant
	return b.add(r, file, line, q.ID)
}

// bfclGold is one possible_answer line.
type bfclGold struct {
	id    string
	line  int
	raw   json.RawMessage                         // ground_truth verbatim
	calls []map[string]map[string]json.RawMessage // [{function: {arg: [values]}}]
}

// readBFCLGold reads a possible_answer file into id -> gold.
func (b *builder) readBFCLGold(dir, name string) (map[string]bfclGold, error) {
	data, _, err := b.readFile(filepath.Join(dir, name), name)
	if err != nil {
		return nil, err
	}
	out := map[string]bfclGold{}
	err = eachLine(data, func(line int, text []byte) error {
		var g struct {
			ID          string          `json:"id"`
			GroundTruth json.RawMessage `json:"ground_truth"`
		}
		if err := json.Unmarshal(text, &g); err != nil {
			return b.skip(jsonLineErr(name, line, text, err))
		}
		gold := bfclGold{id: g.ID, line: line, raw: g.GroundTruth}
		if err := json.Unmarshal(g.GroundTruth, &gold.calls); err != nil || len(gold.calls) == 0 {
			return b.skip(rowErr(name, line, 0, "%s: ground_truth: want [{function: {argument: [values]}}, ...] (%v)", g.ID, err))
		}
		if _, dup := out[g.ID]; dup || g.ID == "" {
			return b.skip(rowErr(name, line, 0, "missing or duplicate id %q", g.ID))
		}
		out[g.ID] = gold
		return nil
	})
	return out, err
}

// bfclRecord builds the record of one question; g is nil for the
// irrelevance and relevance categories.
func bfclRecord(q bfclQuestion, cat string, g *bfclGold) (datasets.Record, error) {
	if len(q.Question) != 1 {
		return datasets.Record{}, fmt.Errorf("question has %d turns: only single-turn categories are importable", len(q.Question))
	}
	meta := BFCLMeta{ID: q.ID, Category: cat, Functions: q.Function, Messages: q.Question[0]}
	var user []string
	for _, m := range q.Question[0] {
		switch m.Role {
		case "user":
			user = append(user, m.Content)
		case "system":
			meta.System = append(meta.System, m.Content)
		default:
			return datasets.Record{}, fmt.Errorf("question: unexpected role %q in a single-turn question", m.Role)
		}
	}
	if len(user) == 0 || len(q.Function) == 0 {
		return datasets.Record{}, fmt.Errorf("question: want a user message and \"function\" docs")
	}
	target := generator.FuncCallTarget{Scenario: schemas.Irrelevant, Turns: []generator.GoldTurn{{Action: generator.ActionNone}}}
	if strings.Contains(cat, "relevance") && !strings.Contains(cat, "irrelevance") {
		// Relevance: any call is right; there is no gold call to show.
		target = generator.FuncCallTarget{Scenario: schemas.SingleTurn, Turns: []generator.GoldTurn{{Action: generator.ActionCall}}}
	}
	r := datasets.Record{ID: "bfcl-" + q.ID, Split: "test", Input: strings.Join(user, "\n"), Cell: cat, Scenario: cat}
	checks := []string{"json", "turns"}
	if g != nil {
		if _, err := firstAcceptable(g.calls); err != nil {
			return datasets.Record{}, err // the shape check, with the field named
		}
		calls, err := concreteGold(q.Function, g.raw)
		if err != nil {
			return datasets.Record{}, err
		}
		target = generator.FuncCallTarget{Scenario: schemas.SingleTurn, Turns: []generator.GoldTurn{{Action: generator.ActionCall, Calls: calls}}}
		meta.PossibleAnswer = g.raw
		r.Function = calls[0].Name
	}
	var err error
	if r.Target, err = mustJSON(target); err != nil {
		return datasets.Record{}, err
	}
	if r.Meta, err = mustJSON(meta); err != nil {
		return datasets.Record{}, err
	}
	r.Validation = validation(checks...)
	return r, nil
}

// concreteGold is the gold call(s) with the first acceptable value of every
// argument, recursively into dict arguments (whose values are again lists of
// acceptable values), as the evaluation's BFCL checker defines them. Numbers
// keep their literal (5.0 stays a float).
func concreteGold(functions, possible json.RawMessage) ([]generator.Call, error) {
	var funcs []eval.BFCLFunction
	if err := eval.UnmarshalNumbers(functions, &funcs); err != nil {
		return nil, fmt.Errorf("function: %w", err)
	}
	var answers []eval.BFCLAnswer
	if err := eval.UnmarshalNumbers(possible, &answers); err != nil {
		return nil, fmt.Errorf("ground_truth: %w", err)
	}
	var calls []generator.Call
	for _, c := range eval.GoldCalls(funcs, answers) {
		calls = append(calls, generator.Call{Name: c.Name, Arguments: c.Args})
	}
	return calls, nil
}

// firstAcceptable turns BFCL gold into calls with the first acceptable value of
// each argument; "" first means the argument may be omitted, so it is.
func firstAcceptable(gold []map[string]map[string]json.RawMessage) ([]generator.Call, error) {
	calls := make([]generator.Call, 0, len(gold))
	for i, g := range gold {
		if len(g) != 1 {
			return nil, fmt.Errorf("ground_truth[%d]: want one function, got %d", i, len(g))
		}
		for fn, args := range g {
			call := generator.Call{Name: fn, Arguments: map[string]any{}}
			for arg, raw := range args {
				var vals []json.RawMessage
				if err := json.Unmarshal(raw, &vals); err != nil || len(vals) == 0 {
					return nil, fmt.Errorf("ground_truth[%d].%s.%s: want a non-empty list of acceptable values", i, fn, arg)
				}
				if string(bytes.TrimSpace(vals[0])) == `""` {
					continue
				}
				var c bytes.Buffer
				if err := json.Compact(&c, vals[0]); err != nil {
					return nil, fmt.Errorf("ground_truth[%d].%s.%s: %w", i, fn, arg, err)
				}
				call.Arguments[arg] = json.RawMessage(c.Bytes())
			}
			calls = append(calls, call)
		}
	}
	return calls, nil
}

// eachLine calls fn for every non-blank line of JSON Lines data, 1-based.
func eachLine(data []byte, fn func(line int, text []byte) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), len(data)+1)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		// Untrimmed, so that error columns count from the start of the line.
		if err := fn(line, sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}
