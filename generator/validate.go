package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cyclecore/mlmforge/schemas"
)

// ValidationConfig tunes the validator.
type ValidationConfig struct {
	// MinInputChars and MaxInputChars bound the input's length in characters
	// (for multi-turn inputs, the utterances joined by newlines). Zero means
	// the default, 8 and 4000.
	MinInputChars, MaxInputChars int
	// CheckGrounding requires every target value to be recoverable from the input.
	CheckGrounding bool
}

// DefaultValidationConfig returns the defaults: 8-4000 characters, grounding on.
func DefaultValidationConfig() ValidationConfig {
	return ValidationConfig{MinInputChars: 8, MaxInputChars: 4000, CheckGrounding: true}
}

// Validation records what was checked for a kept example (datasets.Record.Validation).
type Validation struct {
	// Checks are the checks run and passed, in order: json, schema, label,
	// turns, length, leak, mock_execution, grounding.
	Checks []string `json:"checks"`
	// Grounded maps each grounded leaf's path to the normalizer that found it.
	Grounded map[string]string `json:"grounded,omitempty"`
}

// Rejection says why a candidate example was not kept.
type Rejection struct {
	// Reason is the counted category.
	Reason RejectReason `json:"reason"`
	// Detail is a human-readable explanation, e.g. `$.order_id "ORD-1234" not found in input`.
	Detail string `json:"detail"`
}

// Error makes a Rejection usable as an error.
func (r *Rejection) Error() string { return string(r.Reason) + ": " + r.Detail }

// rejectf builds a Rejection.
func rejectf(reason RejectReason, format string, args ...any) *Rejection {
	return &Rejection{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Validator checks candidate examples. Everything a teacher wrote is
// untrusted: the input may be huge, hostile or off-label, and in
// teacher-labels mode so may the target. A Validator is safe for concurrent use.
type Validator struct {
	cat    *schemas.Catalog
	cfg    ValidationConfig
	params map[string]funcParams
}

// funcParams is what the scenario checks need of a function's parameters.
type funcParams struct {
	props    map[string]bool
	required map[string]bool
}

// NewValidator returns a validator over the catalog. Zero length bounds take
// the defaults.
func NewValidator(cat *schemas.Catalog, cfg ValidationConfig) *Validator {
	def := DefaultValidationConfig()
	if cfg.MinInputChars <= 0 {
		cfg.MinInputChars = def.MinInputChars
	}
	if cfg.MaxInputChars <= 0 {
		cfg.MaxInputChars = def.MaxInputChars
	}
	v := &Validator{cat: cat, cfg: cfg, params: map[string]funcParams{}}
	for _, f := range cat.Functions {
		var p struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		}
		// The catalog validated every parameter schema when it loaded.
		_ = json.Unmarshal(f.Parameters, &p)
		fp := funcParams{props: map[string]bool{}, required: map[string]bool{}}
		for k := range p.Properties {
			fp.props[k] = true
		}
		for _, k := range p.Required {
			fp.required[k] = true
		}
		v.params[f.Name] = fp
	}
	return v
}

// Check validates one candidate: the sample it was written for, the teacher's
// input and the target (the sampled one, or the teacher's in teacher-labels
// mode). It returns the checks passed, or the first failure. Checks run
// cheapest-first on the target, then on the input: json, schema/label,
// length, turns, leak, mock_execution, grounding.
func (v *Validator) Check(s Sample, input string, target json.RawMessage) (Validation, *Rejection) {
	var val Validation
	if !json.Valid(target) {
		return val, rejectf(RejectJSONParse, "target is not valid JSON: %.200s", target)
	}
	val.Checks = append(val.Checks, "json")
	switch s.Cell.Task {
	case schemas.EdgeJSON:
		return v.checkJSON(s, input, target, val)
	case schemas.EdgeIntent:
		return v.checkIntent(s, input, target, val)
	case schemas.EdgeFuncCall:
		return v.checkFuncCall(s, input, target, val)
	}
	return val, rejectf(RejectLabel, "cell %q has unknown task %q", s.Cell.Key, s.Cell.Task)
}

// checkJSON validates an EdgeJSON example: the target against its schema,
// then the input, then every non-boolean leaf's grounding.
func (v *Validator) checkJSON(s Sample, input string, target json.RawMessage, val Validation) (Validation, *Rejection) {
	sch, err := v.cat.CompiledSchema(s.Cell.SchemaID)
	if err != nil {
		return val, rejectf(RejectLabel, "cell %q: %v", s.Cell.Key, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(target))
	if err != nil {
		return val, rejectf(RejectJSONParse, "target: %v", err)
	}
	if err := sch.Validate(doc); err != nil {
		return val, rejectf(RejectSchema, "target breaks schema %s: %s", s.Cell.SchemaID, describeSchemaError(err, "field"))
	}
	val.Checks = append(val.Checks, "schema")
	if rej := v.checkInput(input, &val); rej != nil {
		return val, rej
	}
	if v.cfg.CheckGrounding {
		if rej := groundLeaves(newGroundText(input), Leaves(doc), "input", &val); rej != nil {
			return val, rej
		}
		val.Checks = append(val.Checks, "grounding")
	}
	return val, nil
}

// checkIntent validates an EdgeIntent example: the label is a class of the
// cell's taxonomy and the cell's own class, slots are the class's slots, and
// every slot value is in the input.
func (v *Validator) checkIntent(s Sample, input string, target json.RawMessage, val Validation) (Validation, *Rejection) {
	var it IntentTarget
	if err := decodeStrictJSON(target, &it); err != nil {
		return val, rejectf(RejectSchema, "target is not an intent label: %v", err)
	}
	tax, err := v.cat.Taxonomy(s.Cell.Taxonomy)
	if err != nil {
		return val, rejectf(RejectLabel, "cell %q: %v", s.Cell.Key, err)
	}
	idx := slices.IndexFunc(tax.Classes, func(c schemas.IntentClass) bool { return c.ID == it.Intent })
	if idx < 0 {
		return val, rejectf(RejectLabel, "intent %q is not a class of taxonomy %s", it.Intent, tax.ID)
	}
	if it.Intent != s.Cell.Class {
		return val, rejectf(RejectLabel, "intent %q is not the cell's class %q", it.Intent, s.Cell.Class)
	}
	for _, name := range sortedMapKeys(it.Slots) {
		if !slices.ContainsFunc(tax.Classes[idx].Slots, func(sl schemas.Slot) bool { return sl.Name == name }) {
			return val, rejectf(RejectLabel, "slot %q is not a slot of class %s", name, it.Intent)
		}
	}
	val.Checks = append(val.Checks, "label")
	if rej := v.checkInput(input, &val); rej != nil {
		return val, rej
	}
	if v.cfg.CheckGrounding {
		var leaves []Leaf
		for _, name := range sortedMapKeys(it.Slots) {
			leaves = append(leaves, Leaf{Path: "$.slots." + name, Value: it.Slots[name]})
		}
		if rej := groundLeaves(newGroundText(input), leaves, "input", &val); rej != nil {
			return val, rej
		}
		val.Checks = append(val.Checks, "grounding")
	}
	return val, nil
}

// checkFuncCall validates an EdgeFuncCall example: every gold call against
// its function, the scenario's shape, the input (one JSON string per turn for
// multi_turn), the gold calls against the mock, and each turn's stated
// arguments against that turn's text.
func (v *Validator) checkFuncCall(s Sample, input string, target json.RawMessage, val Validation) (Validation, *Rejection) {
	var ft FuncCallTarget
	if err := decodeStrictJSON(target, &ft); err != nil {
		return val, rejectf(RejectSchema, "target is not a function-calling label: %v", err)
	}
	calls := 0
	for i, turn := range ft.Turns {
		for j, c := range turn.Calls {
			calls++
			sch, err := v.cat.CompiledParameters(c.Name)
			if err != nil {
				return val, rejectf(RejectSchema, "turn %d call %d: %v", i+1, j+1, err)
			}
			args, err := canonicalArgs(c.Arguments)
			if err == nil {
				err = sch.Validate(args)
			}
			if err != nil {
				return val, rejectf(RejectSchema, "turn %d call %d %s: %v", i+1, j+1, c.Name, describeArgError(err))
			}
		}
	}
	val.Checks = append(val.Checks, "schema")
	if rej := v.checkScenario(s, ft); rej != nil {
		return val, rej
	}
	val.Checks = append(val.Checks, "label")
	texts, rej := v.turnTexts(s, input, len(ft.Turns), &val)
	if rej != nil {
		return val, rej
	}
	if calls > 0 {
		state, _, err := ExecuteTarget(v.cat, ft)
		if err != nil {
			return val, rejectf(RejectMockExecution, "%v", err)
		}
		if len(ft.FinalState) > 0 && !sameJSONValue(ft.FinalState, state) {
			return val, rejectf(RejectMockExecution, "final_state %.200s differs from the executed state %.200s", ft.FinalState, state)
		}
		val.Checks = append(val.Checks, "mock_execution")
	}
	if v.cfg.CheckGrounding {
		if rej := v.groundFuncCall(s, ft, texts, &val); rej != nil {
			return val, rej
		}
		val.Checks = append(val.Checks, "grounding")
	}
	return val, nil
}

// checkScenario checks the target's shape against the cell's scenario:
// single_turn and multi_turn call the cell's function, missing_param and
// invalid_value ask about real parameters of it, irrelevant makes no call.
func (v *Validator) checkScenario(s Sample, ft FuncCallTarget) *Rejection {
	c := s.Cell
	if ft.Scenario != c.Scenario {
		return rejectf(RejectLabel, "target scenario %q is not the cell's %q", ft.Scenario, c.Scenario)
	}
	n := len(ft.Turns)
	if (c.Scenario == schemas.MultiTurn && (n < 2 || n > 3)) || (c.Scenario != schemas.MultiTurn && n != 1) {
		return rejectf(RejectLabel, "scenario %s cannot have %d turns", c.Scenario, n)
	}
	if len(s.Turns) > 0 && len(s.Turns) != n {
		return rejectf(RejectLabel, "sample has %d turn plans for %d gold turns", len(s.Turns), n)
	}
	called := false
	for i, t := range ft.Turns {
		fn := c.Function
		if i < len(s.Turns) && s.Turns[i].Function != "" {
			fn = s.Turns[i].Function
		}
		if rej := v.checkTurnShape(i, t, fn); rej != nil {
			return rej
		}
		called = called || slices.ContainsFunc(t.Calls, func(call Call) bool { return call.Name == c.Function })
	}
	t := ft.Turns[0]
	want := map[schemas.Scenario]string{schemas.SingleTurn: ActionCall, schemas.MissingParam: ActionAsk,
		schemas.InvalidValue: ActionAsk, schemas.Irrelevant: ActionNone}
	switch c.Scenario {
	case schemas.SingleTurn, schemas.MultiTurn:
		if !called {
			return rejectf(RejectLabel, "no gold call of the cell's function %q", c.Function)
		}
		for i, t := range ft.Turns {
			if t.Action == ActionNone {
				return rejectf(RejectLabel, "turn %d of a %s dialogue makes no call and asks nothing", i+1, c.Scenario)
			}
		}
	case schemas.MissingParam:
		if len(t.Missing) == 0 || len(t.Invalid) > 0 {
			return rejectf(RejectLabel, "missing_param must ask for missing parameters only (missing %v, invalid %v)", t.Missing, t.Invalid)
		}
		if len(s.Turns) == 1 && s.Turns[0].Omit != nil && !sameSet(s.Turns[0].Omit, t.Missing) {
			return rejectf(RejectLabel, "gold asks for %v but the user omits %v", t.Missing, s.Turns[0].Omit)
		}
	case schemas.InvalidValue:
		if len(t.Invalid) == 0 {
			return rejectf(RejectLabel, "invalid_value must name the invalid parameters")
		}
		if len(s.Turns) == 1 && s.Turns[0].Invalid != "" {
			p := s.Turns[0]
			if !slices.Contains(t.Invalid, p.Invalid) {
				return rejectf(RejectLabel, "gold names invalid %v but the user's invalid value is %q", t.Invalid, p.Invalid)
			}
			if _, ok := p.Args[p.Invalid]; !ok {
				return rejectf(RejectLabel, "the turn plan has no value for the invalid parameter %q", p.Invalid)
			}
		}
	case schemas.Irrelevant:
		if c.Function != "" {
			return rejectf(RejectLabel, "irrelevant cell %q names function %q", c.Key, c.Function)
		}
	default:
		return rejectf(RejectLabel, "unknown scenario %q", c.Scenario)
	}
	if w, ok := want[c.Scenario]; ok && t.Action != w {
		return rejectf(RejectLabel, "scenario %s wants action %q, target has %q", c.Scenario, w, t.Action)
	}
	return nil
}

// checkTurnShape checks one gold turn: a known action with what it needs,
// and asks that name parameters of fn (missing ones must be required).
func (v *Validator) checkTurnShape(i int, t GoldTurn, fn string) *Rejection {
	asks := len(t.Missing) + len(t.Invalid)
	switch t.Action {
	case ActionCall:
		if len(t.Calls) == 0 || asks > 0 {
			return rejectf(RejectLabel, "turn %d: action call needs calls and no missing/invalid", i+1)
		}
	case ActionNone:
		if len(t.Calls) > 0 || asks > 0 {
			return rejectf(RejectLabel, "turn %d: action none has calls or asks", i+1)
		}
	case ActionAsk:
		if len(t.Calls) > 0 || asks == 0 {
			return rejectf(RejectLabel, "turn %d: action ask needs missing or invalid parameters and no calls", i+1)
		}
		fp, ok := v.params[fn]
		if !ok {
			return rejectf(RejectLabel, "turn %d asks about unknown function %q", i+1, fn)
		}
		for _, m := range t.Missing {
			if !fp.required[m] {
				return rejectf(RejectLabel, "turn %d: missing %q is not a required parameter of %s", i+1, m, fn)
			}
		}
		for _, p := range t.Invalid {
			if !fp.props[p] {
				return rejectf(RejectLabel, "turn %d: invalid %q is not a parameter of %s", i+1, p, fn)
			}
		}
	default:
		return rejectf(RejectLabel, "turn %d: unknown action %q", i+1, t.Action)
	}
	return nil
}

// turnTexts checks the input and returns the text of each turn: the input
// itself, or for multi_turn the utterances of its JSON array, one per turn.
func (v *Validator) turnTexts(s Sample, input string, turns int, val *Validation) ([]string, *Rejection) {
	if s.Cell.Scenario != schemas.MultiTurn {
		return []string{input}, v.checkInput(input, val)
	}
	if len(input) > 4*v.cfg.MaxInputChars {
		return nil, v.checkLength(input) // do not parse a huge input
	}
	var utts []string
	if err := json.Unmarshal([]byte(input), &utts); err != nil {
		return nil, rejectf(RejectJSONParse, "multi_turn input must be a JSON array of %d strings: %v", turns, err)
	}
	if len(utts) != turns {
		return nil, rejectf(RejectJSONParse, "multi_turn input has %d utterances for %d turns", len(utts), turns)
	}
	for i, u := range utts {
		if strings.TrimSpace(u) == "" {
			return nil, rejectf(RejectJSONParse, "multi_turn utterance %d is empty", i+1)
		}
	}
	val.Checks = append(val.Checks, "turns")
	return utts, v.checkInput(strings.Join(utts, "\n"), val)
}

// groundFuncCall grounds each turn's stated arguments in that turn's text.
// With turn plans (label-first) the stated arguments are the plan's Args,
// less the Refs the user says "it" for; the invalid value of invalid_value
// must be stated too. Without plans (teacher-labels) they are the gold
// calls' arguments, less mock ids. Omitted parameters are not checked for
// absence: a paraphrase can state a value in ways no normalizer reads.
func (v *Validator) groundFuncCall(s Sample, ft FuncCallTarget, texts []string, val *Validation) *Rejection {
	for i := range ft.Turns {
		g := newGroundText(texts[i])
		where := "input"
		if len(texts) > 1 {
			where = fmt.Sprintf("turn %d", i+1)
		}
		var leaves []Leaf
		if len(s.Turns) == len(ft.Turns) {
			p := s.Turns[i]
			for _, name := range sortedMapKeys(p.Args) {
				if _, ref := p.Refs[name]; ref {
					continue
				}
				leaves = append(leaves, prefixLeaves(fmt.Sprintf("$.turns[%d].args.%s", i, name), p.Args[name])...)
			}
			if rej := groundLeaves(g, leaves, where, val); rej != nil {
				if p.Invalid != "" && strings.HasPrefix(rej.Detail, fmt.Sprintf("$.turns[%d].args.%s", i, p.Invalid)) {
					rej.Detail = "invalid value " + rej.Detail
				}
				return rej
			}
			continue
		}
		for j, c := range ft.Turns[i].Calls {
			for _, name := range sortedMapKeys(c.Arguments) {
				if mockIDCollection(v.cat, c.Arguments[name]) != "" {
					continue
				}
				leaves = append(leaves, prefixLeaves(fmt.Sprintf("$.turns[%d].calls[%d].arguments.%s", i, j, name), c.Arguments[name])...)
			}
		}
		if rej := groundLeaves(g, leaves, where, val); rej != nil {
			return rej
		}
	}
	return nil
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// checkInput checks a plain-text input's length and leaks.
func (v *Validator) checkInput(input string, val *Validation) *Rejection {
	if rej := v.checkLength(input); rej != nil {
		return rej
	}
	val.Checks = append(val.Checks, "length")
	if rej := checkLeak(input); rej != nil {
		return rej
	}
	val.Checks = append(val.Checks, "leak")
	return nil
}

// checkLength bounds the input's length in characters.
func (v *Validator) checkLength(text string) *Rejection {
	// Counting runes of a huge input is itself work: bytes bound runes from above.
	if len(text) > 4*v.cfg.MaxInputChars {
		return rejectf(RejectLength, "input has %d bytes, more than %d characters", len(text), v.cfg.MaxInputChars)
	}
	n := utf8.RuneCountInString(strings.TrimSpace(text))
	if n < v.cfg.MinInputChars || n > v.cfg.MaxInputChars {
		return rejectf(RejectLength, "input has %d characters, want %d-%d", n, v.cfg.MinInputChars, v.cfg.MaxInputChars)
	}
	return nil
}

var (
	// placeholderRe finds unfilled template slots: {city}, {{city}}, {location.name}.
	placeholderRe = regexp.MustCompile(`\{\{?\s*[A-Za-z_][A-Za-z0-9_.]*\s*\}\}?`)
	// leakRes find a teacher talking about its task instead of doing it.
	leakRes = []*regexp.Regexp{
		regexp.MustCompile("```"),
		regexp.MustCompile(`(?i)\bas an? (ai|language model)\b`),
		regexp.MustCompile(`(?i)\b(i am|i'm) (an ai|a language model)\b`),
		regexp.MustCompile(`(?i)<\|[a-z_]+\|>|\[/?inst\]`),
		regexp.MustCompile(`(?im)^\s*(user|assistant|system|utterance)\s*:`),
		// "Here is the utterance: ...", "Here's a rewritten version": not "here is my address".
		regexp.MustCompile(`(?i)\bhere(?: is|'s|’s) (?:(?:a|an|the|your|one|my)\s+)?(?:\w+\s+)?(example|utterance|sentence|text|request|input|output|json|response|rewrite|version|paraphrase|query)s?\b`),
	}
)

// checkLeak rejects inputs with template placeholders or prompt text. HTML,
// code-like text and other markup are the input's business, not a leak.
func checkLeak(text string) *Rejection {
	if m := placeholderRe.FindString(text); m != "" {
		return rejectf(RejectLeak, "input contains the template placeholder %q", m)
	}
	for _, re := range leakRes {
		if m := re.FindString(text); m != "" {
			return rejectf(RejectLeak, "input contains prompt text %q", strings.TrimSpace(m))
		}
	}
	return nil
}

// decodeStrictJSON decodes JSON into out, refusing unknown fields and trailing data.
func decodeStrictJSON(data []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// sortedMapKeys returns a map's keys in order.
func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
