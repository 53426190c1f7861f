package generator

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cyclecore/mlmforge/schemas"
)

// fillFuncCall fills the tools, scenario and turns. The tools are the
// functions of the domains that the cell and the turn plans touch: enough to
// tell neighbouring functions apart without a prompt of 100+ schemas.
func (d *promptData) fillFuncCall(cat *schemas.Catalog, s Sample, text string) error {
	for _, dom := range cat.Domains {
		d.Domains = append(d.Domains, promptDomain{Domain: dom.Domain, Description: dom.Description})
	}
	d.Dialogue = s.Cell.Scenario == schemas.MultiTurn
	if d.Mode != Extract || d.Dialogue {
		d.Scenario = string(s.Cell.Scenario)
	}
	domains := map[string]bool{}
	names := []string{s.Cell.Function}
	if d.Mode == LabelFirst {
		for _, tp := range s.Turns {
			names = append(names, tp.Function)
		}
	}
	for _, n := range names {
		if n == "" {
			continue
		}
		f, err := cat.Function(n)
		if err != nil {
			return err
		}
		domains[f.Domain] = true
	}
	planned := map[string]bool{}
	for _, n := range names[1:] {
		planned[n] = true
	}
	for _, f := range cat.Functions {
		if !domains[f.Domain] {
			continue
		}
		tv, err := newPromptTool(f)
		if err != nil {
			return err
		}
		if d.Mode == LabelFirst && !planned[f.Name] {
			// The teacher only writes the planned requests: the other
			// functions are listed so it can avoid them, without schemas.
			tv.Params = ""
		}
		d.Tools = append(d.Tools, tv)
		if f.Name == s.Cell.Function && d.Mode != Extract {
			d.Function = &tv
		}
	}
	switch d.Mode {
	case LabelFirst:
		if len(s.Turns) == 0 {
			return errors.New("label-first EdgeFuncCall sample has no turn plans")
		}
		for i, tp := range s.Turns {
			tv, err := newPromptTurn(cat, i, tp, s.Turns)
			if err != nil {
				return fmt.Errorf("turn %d: %w", i+1, err)
			}
			d.Turns = append(d.Turns, tv)
		}
		d.MinTurns, d.MaxTurns = len(s.Turns), len(s.Turns)
	case TeacherLabels:
		d.MinTurns, d.MaxTurns = 1, 1
		if d.Dialogue {
			d.MinTurns, d.MaxTurns = 2, 3
		}
	case Extract:
		d.MinTurns, d.MaxTurns = 1, 1
		if d.Dialogue {
			var turns []string
			if err := json.Unmarshal([]byte(text), &turns); err != nil || len(turns) == 0 {
				return errors.New("multi_turn text is not a JSON array of user messages")
			}
			for _, t := range turns {
				q, err := promptJSONText(t)
				if err != nil {
					return err
				}
				d.TextTurns = append(d.TextTurns, q)
			}
			d.MinTurns, d.MaxTurns = len(turns), len(turns)
		}
	}
	return nil
}

func newPromptTool(f *schemas.Function) (promptTool, error) {
	params, err := promptSchema(f.Parameters)
	if err != nil {
		return promptTool{}, fmt.Errorf("function %s: %w", f.Name, err)
	}
	// One line per function: ten indented parameter schemas would double
	// the prompt.
	text, err := promptJSON(params, false)
	if err != nil {
		return promptTool{}, err
	}
	var req []string
	if r, ok := params.get("required").([]any); ok {
		for _, x := range r {
			req = append(req, fmt.Sprint(x))
		}
	}
	effect := map[schemas.MockOp]string{
		schemas.MockRead:   "reads " + f.Mock.Collection,
		schemas.MockCreate: "creates a record in " + f.Mock.Collection,
		schemas.MockUpsert: "changes the record of " + f.Mock.Collection + " named by " + f.Mock.Key,
		schemas.MockDelete: "deletes the record of " + f.Mock.Collection + " named by " + f.Mock.Key,
	}[f.Mock.Op]
	return promptTool{Name: f.Name, Description: f.Description, Params: string(text),
		Required: strings.Join(req, ", "), Effect: effect}, nil
}

// newPromptTurn describes turn i of a label-first dialogue.
func newPromptTurn(cat *schemas.Catalog, i int, tp TurnPlan, all []TurnPlan) (promptTurn, error) {
	tv := promptTurn{N: i + 1, Function: tp.Function}
	var props orderedObject
	if tp.Function != "" {
		f, err := cat.Function(tp.Function)
		if err != nil {
			return tv, err
		}
		tv.FunctionDescription = f.Description
		params, err := promptSchema(f.Parameters)
		if err != nil {
			return tv, err
		}
		props, _ = params.get("properties").(orderedObject)
	}
	describe := func(name string) promptParam {
		pv := promptParam{Name: name}
		if p, ok := props.get(name).(orderedObject); ok {
			pv.Description, _ = p.get("description").(string)
		}
		return pv
	}
	var err error
	if len(tp.Args) > 0 {
		if tv.Args, err = promptJSONText(tp.Args); err != nil {
			return tv, err
		}
	}
	if tp.Invalid != "" {
		pv := describe(tp.Invalid)
		tv.Invalid = &pv
		if tv.InvalidValue, err = promptJSONText(tp.Args[tp.Invalid]); err != nil {
			return tv, err
		}
	}
	for _, name := range tp.Omit {
		tv.Omit = append(tv.Omit, describe(name))
	}
	refs := make([]string, 0, len(tp.Refs))
	for p := range tp.Refs {
		refs = append(refs, p)
	}
	sort.Strings(refs)
	for _, p := range refs {
		j := tp.Refs[p]
		if j < 0 || j >= i {
			return tv, fmt.Errorf("parameter %s refers to turn %d, which is not an earlier turn", p, j+1)
		}
		rv := promptRef{Param: p, Turn: j + 1}
		if f, err := cat.Function(all[j].Function); err == nil {
			rv.Collection = f.Mock.Collection
		}
		tv.Refs = append(tv.Refs, rv)
	}
	if tp.Request != "" {
		if tv.Request, err = promptJSONText(tp.Request); err != nil {
			return tv, err
		}
	}
	return tv, nil
}
