package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// BFCLCategories are the single-turn BFCL categories imported by default.
var BFCLCategories = []string{"simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance"}

// bfclKnown are the categories ImportBFCL accepts: the defaults, their v3 name
// ("simple") and the live categories, which share the single-turn format.
// Multi-turn categories need the upstream simulators and are not importable.
var bfclKnown = append([]string{"simple", "live_simple", "live_multiple", "live_parallel",
	"live_parallel_multiple", "live_irrelevance"}, BFCLCategories...)

// BFCLOptions are the BFCL import options.
type BFCLOptions struct {
	// Categories to import; empty means BFCLCategories.
	Categories []string `json:"categories"`
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
	// omitted. Absent for irrelevance categories, where the answer is no call.
	PossibleAnswer json.RawMessage `json:"possible_answer,omitempty"`
	// System holds the question's system messages, if any.
	System []string `json:"system,omitempty"`
}

// bfclQuestion is one line of a BFCL question file.
type bfclQuestion struct {
	ID       string `json:"id"`
	Question [][]struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"question"`
	Function json.RawMessage `json:"function"`
}

// ImportBFCL reads BFCL's single-turn categories from dir (BFCL_v<N>_<cat>.json,
// JSON Lines despite the suffix, the highest N when several exist; gold in
// possible_answer/ under the same name) into EdgeFuncCall records in split
// "test": Input is the user's question; Target a generator.FuncCallTarget whose
// one turn calls each gold function with the first acceptable value of every
// argument (arguments whose first acceptable value is "" are left out), or, for
// irrelevance categories, makes no call; Scenario and Cell are the category;
// Function the first gold function; Meta a BFCLMeta. Ids are "bfcl-<BFCL id>".
func ImportBFCL(dir string, opts BFCLOptions) (*Dataset, error) {
	if len(opts.Categories) == 0 {
		opts.Categories = BFCLCategories
	}
	for _, c := range opts.Categories {
		if !strings.Contains(" "+strings.Join(bfclKnown, " ")+" ", " "+c+" ") {
			return nil, fmt.Errorf("import bfcl: unknown category %q: valid categories are %s", c, strings.Join(bfclKnown, ", "))
		}
	}
	b, err := newBuilder(schemas.EdgeFuncCall, "bfcl", opts)
	if err != nil {
		return nil, err
	}
	for _, cat := range opts.Categories {
		if err := b.bfclCategory(dir, cat); err != nil {
			return nil, fmt.Errorf("import bfcl: %w", err)
		}
	}
	return b.finish()
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

// bfclCategory adds one category's questions with their gold.
func (b *builder) bfclCategory(dir, cat string) error {
	name, version, err := bfclFile(dir, cat)
	if err != nil {
		return err
	}
	irrelevant := strings.Contains(cat, "irrelevance")
	var gold map[string]bfclGold
	if !irrelevant {
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
		var q bfclQuestion
		if err := json.Unmarshal(text, &q); err != nil {
			return jsonLineErr(name, line, text, err)
		}
		if q.ID == "" {
			return fmt.Errorf("%s:%d: no \"id\"", name, line)
		}
		var g *bfclGold
		if !irrelevant {
			gg, ok := gold[q.ID]
			if !ok {
				return fmt.Errorf("%s:%d: %s has no gold in possible_answer/%s", name, line, q.ID, name)
			}
			g = &gg
			delete(gold, q.ID)
		}
		r, err := bfclRecord(q, cat, g)
		if err != nil {
			return fmt.Errorf("%s:%d: %s: %w", name, line, q.ID, err)
		}
		r.Variant = variant
		return b.add(r, file, q.ID)
	})
	if err != nil {
		return err
	}
	first := ""
	for id, g := range gold { // report the first left-over line, whatever the map order
		if first == "" || g.line < gold[first].line {
			first = id
		}
	}
	if first != "" {
		return fmt.Errorf("possible_answer/%s:%d: gold for %s, which %s does not have", name, gold[first].line, first, name)
	}
	return nil
}

// bfclGold is one possible_answer line.
type bfclGold struct {
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
			return jsonLineErr(name, line, text, err)
		}
		gold := bfclGold{line: line, raw: g.GroundTruth}
		if err := json.Unmarshal(g.GroundTruth, &gold.calls); err != nil || len(gold.calls) == 0 {
			return fmt.Errorf("%s:%d: %s: ground_truth: want [{function: {argument: [values]}}, ...] (%v)", name, line, g.ID, err)
		}
		if _, dup := out[g.ID]; dup || g.ID == "" {
			return fmt.Errorf("%s:%d: missing or duplicate id %q", name, line, g.ID)
		}
		out[g.ID] = gold
		return nil
	})
	return out, err
}

// bfclRecord builds the record of one question; g is nil for irrelevance.
func bfclRecord(q bfclQuestion, cat string, g *bfclGold) (datasets.Record, error) {
	if len(q.Question) != 1 {
		return datasets.Record{}, fmt.Errorf("question has %d turns: only single-turn categories are importable", len(q.Question))
	}
	meta := BFCLMeta{ID: q.ID, Category: cat, Functions: q.Function}
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
