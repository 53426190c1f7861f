package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/internal/callargs"
	"github.com/cyclecore/mlmforge/schemas"
)

// Config tunes the validator.
type Config struct {
	// MinInputChars and MaxInputChars bound the input's length in characters
	// (for multi-turn inputs, the utterances joined by newlines). Zero means
	// the default, 8 and 4000.
	MinInputChars, MaxInputChars int
	// CheckGrounding requires every target value to be recoverable from the input.
	CheckGrounding bool
}

// DefaultConfig returns the defaults: 8-4000 characters, grounding on.
func DefaultConfig() Config {
	return Config{MinInputChars: 8, MaxInputChars: 4000, CheckGrounding: true}
}

// rejectf builds a Rejection.
func rejectf(reason generator.RejectReason, format string, args ...any) *generator.Rejection {
	return &generator.Rejection{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Validator checks candidate examples. Everything a teacher wrote is
// untrusted: the input may be huge, hostile or off-label, and in
// teacher-labels mode so may the target. A Validator is safe for concurrent use.
type Validator struct {
	cat    *schemas.Catalog
	cfg    Config
	params map[string]funcParams
}

// funcParams is what the scenario checks need of a function's parameters.
type funcParams struct {
	props    map[string]bool
	required map[string]bool
}

// New returns a validator over the catalog. Zero length bounds take
// the defaults.
func New(cat *schemas.Catalog, cfg Config) *Validator {
	def := DefaultConfig()
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
func (v *Validator) Check(s generator.Sample, input string, target json.RawMessage) (generator.Validation, *generator.Rejection) {
	var val generator.Validation
	if !json.Valid(target) {
		return val, rejectf(generator.RejectJSONParse, "target is not valid JSON: %.200s", target)
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
	return val, rejectf(generator.RejectLabel, "cell %q has unknown task %q", s.Cell.Key, s.Cell.Task)
}

// checkJSON validates an EdgeJSON example: the target against its schema,
// then the input, then every non-boolean leaf's grounding.
func (v *Validator) checkJSON(s generator.Sample, input string, target json.RawMessage, val generator.Validation) (generator.Validation, *generator.Rejection) {
	sch, err := v.cat.CompiledSchema(s.Cell.SchemaID)
	if err != nil {
		return val, rejectf(generator.RejectLabel, "cell %q: %v", s.Cell.Key, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(target))
	if err != nil {
		return val, rejectf(generator.RejectJSONParse, "target: %v", err)
	}
	if err := sch.Validate(doc); err != nil {
		return val, rejectf(generator.RejectSchema, "target breaks schema %s: %s", s.Cell.SchemaID, callargs.DescribeSchemaError(err, "field"))
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
func (v *Validator) checkIntent(s generator.Sample, input string, target json.RawMessage, val generator.Validation) (generator.Validation, *generator.Rejection) {
	var it generator.IntentTarget
	if err := decodeStrictJSON(target, &it); err != nil {
		return val, rejectf(generator.RejectSchema, "target is not an intent label: %v", err)
	}
	tax, err := v.cat.Taxonomy(s.Cell.Taxonomy)
	if err != nil {
		return val, rejectf(generator.RejectLabel, "cell %q: %v", s.Cell.Key, err)
	}
	idx := slices.IndexFunc(tax.Classes, func(c schemas.IntentClass) bool { return c.ID == it.Intent })
	if idx < 0 {
		return val, rejectf(generator.RejectLabel, "intent %q is not a class of taxonomy %s", it.Intent, tax.ID)
	}
	if it.Intent != s.Cell.Class {
		return val, rejectf(generator.RejectLabel, "intent %q is not the cell's class %q", it.Intent, s.Cell.Class)
	}
	for _, name := range slices.Sorted(maps.Keys(it.Slots)) {
		if !slices.ContainsFunc(tax.Classes[idx].Slots, func(sl schemas.Slot) bool { return sl.Name == name }) {
			return val, rejectf(generator.RejectLabel, "slot %q is not a slot of class %s", name, it.Intent)
		}
	}
	val.Checks = append(val.Checks, "label")
	if rej := v.checkInput(input, &val); rej != nil {
		return val, rej
	}
	if v.cfg.CheckGrounding {
		var leaves []Leaf
		for _, name := range slices.Sorted(maps.Keys(it.Slots)) {
			leaves = append(leaves, Leaf{Path: "$.slots." + name, Value: it.Slots[name]})
		}
		if rej := groundLeaves(newGroundText(input), leaves, "input", &val); rej != nil {
			return val, rej
		}
		val.Checks = append(val.Checks, "grounding")
	}
	return val, nil
}

// checkInput checks a plain-text input's length and leaks.
func (v *Validator) checkInput(input string, val *generator.Validation) *generator.Rejection {
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
func (v *Validator) checkLength(text string) *generator.Rejection {
	// Counting runes of a huge input is itself work: bytes bound runes from above.
	if len(text) > 4*v.cfg.MaxInputChars {
		return rejectf(generator.RejectLength, "input has %d bytes, more than %d characters", len(text), v.cfg.MaxInputChars)
	}
	n := utf8.RuneCountInString(strings.TrimSpace(text))
	if n < v.cfg.MinInputChars || n > v.cfg.MaxInputChars {
		return rejectf(generator.RejectLength, "input has %d characters, want %d-%d", n, v.cfg.MinInputChars, v.cfg.MaxInputChars)
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
func checkLeak(text string) *generator.Rejection {
	if m := placeholderRe.FindString(text); m != "" {
		return rejectf(generator.RejectLeak, "input contains the template placeholder %q", m)
	}
	for _, re := range leakRes {
		if m := re.FindString(text); m != "" {
			return rejectf(generator.RejectLeak, "input contains prompt text %q", strings.TrimSpace(m))
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

var _ generator.Validator = (*Validator)(nil)
