package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// value is one cell of a table row.
type value struct {
	text string          // the CSV text; for JSON Lines the string's content, or the literal of a number
	raw  json.RawMessage // the JSON Lines value; nil for CSV
	col  int             // 1-based byte column of the value in its line; 0 when unknown
	line int             // the line the value starts on, when not the row's (CSV quoted newlines)
}

// tableRow is one row of a CSV or JSON Lines file.
type tableRow struct {
	line int
	vals map[string]value
}

// tableMeta is the meta column of a table-imported record.
type tableMeta struct {
	// Schema is the row's JSON Schema (EdgeJSON with a schema column).
	Schema json.RawMessage `json:"schema,omitempty"`
	// Columns keeps the values of the columns no field is mapped to.
	Columns map[string]json.RawMessage `json:"columns,omitempty"`
}

// tableImporter turns rows into records.
type tableImporter struct {
	b       *builder
	file    int
	name    string // the file name errors start with
	opts    TableOptions
	m       Mapping
	mapped  map[string]bool // columns some field is mapped to
	schemas map[string]*jsonschema.Schema
}

func newTableImporter(b *builder, file int, name string, opts TableOptions, m Mapping) *tableImporter {
	t := &tableImporter{b: b, file: file, name: name, opts: opts, m: m, mapped: map[string]bool{},
		schemas: map[string]*jsonschema.Schema{}}
	for _, fc := range m.columns() {
		t.mapped[fc[1]] = true
	}
	opts.Mapping = m
	b.d.Options, _ = json.Marshal(opts) // the resolved mapping is what the spec hash must cover
	return t
}

// errAt formats an error at a row's column: "file:line:col: column "c": ...".
func (t *tableImporter) errAt(row tableRow, col, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if v, ok := row.vals[col]; ok && v.col > 0 {
		return fmt.Errorf("%s:%d:%d: column %q: %s", t.name, max(v.line, row.line), v.col, col, msg)
	}
	return fmt.Errorf("%s:%d: column %q: %s", t.name, row.line, col, msg)
}

// str returns a mapped field's value as text: "" when the field is unmapped or
// the row lacks the column (or has null), an error when it is not a string or
// number.
func (t *tableImporter) str(row tableRow, field string) (string, error) {
	col := *t.m.field(field)
	v, ok := row.vals[col]
	if col == "" || !ok {
		return "", nil
	}
	if v.raw != nil && v.text == "" {
		switch v.raw[0] {
		case '"', 'n': // "" or null
		default:
			return "", t.errAt(row, col, "want a string, got %.40s", v.raw)
		}
	}
	return strings.TrimSpace(v.text), nil
}

// required returns a field's value, which must be present and not empty.
func (t *tableImporter) required(row tableRow, field string) (string, error) {
	col := *t.m.field(field)
	if _, ok := row.vals[col]; !ok {
		return "", t.errAt(row, col, "missing (%s column)", field)
	}
	s, err := t.str(row, field)
	if err == nil && s == "" {
		err = t.errAt(row, col, "empty %s", field)
	}
	return s, err
}

// add converts one row into a record.
func (t *tableImporter) add(row tableRow) error {
	r := datasets.Record{Variant: t.opts.Variant, Split: t.opts.DefaultSplit}
	var err error
	if r.Input, err = t.input(row); err != nil {
		return err
	}
	target, info, err := t.target(row)
	if err != nil {
		return err
	}
	r.Target = string(target)
	for _, f := range []struct {
		name string
		dst  *string
	}{{"split", &r.Split}, {"id", &r.ID}, {"cell", &r.Cell}, {"complexity", &r.Complexity},
		{"variant", &r.Variant}, {"scenario", &r.Scenario}, {"function", &r.Function}} {
		s, err := t.str(row, f.name)
		if err != nil {
			return err
		}
		if s != "" {
			*f.dst = s
		}
	}
	if err := t.checkFields(row, &r, info); err != nil {
		return err
	}
	checks := []string{"json", info.check}
	meta := tableMeta{Columns: map[string]json.RawMessage{}}
	if meta.Schema, err = t.schema(row, target); err != nil {
		return err
	} else if meta.Schema != nil {
		checks = append(checks, "schema")
	}
	for col, v := range row.vals {
		if t.mapped[col] {
			continue
		}
		if meta.Columns[col] = v.raw; v.raw == nil {
			meta.Columns[col], _ = json.Marshal(v.text)
		}
	}
	if len(meta.Columns) > 0 || meta.Schema != nil {
		if r.Meta, err = mustJSON(meta); err != nil {
			return fmt.Errorf("%s:%d: meta: %w", t.name, row.line, err)
		}
	}
	r.Validation = validation(checks...)
	return t.b.add(r, t.file, fmt.Sprintf("line %d", row.line))
}

// input returns the input: text, or in JSON Lines an array of strings (the
// user turns of a multi-turn EdgeFuncCall example) as compact JSON.
func (t *tableImporter) input(row tableRow) (string, error) {
	v, ok := row.vals[t.m.Input]
	if ok && v.raw != nil && v.raw[0] == '[' {
		var turns []string
		if err := json.Unmarshal(v.raw, &turns); err != nil || len(turns) == 0 {
			return "", t.errAt(row, t.m.Input, "want a string or a non-empty array of strings")
		}
		b, _ := json.Marshal(turns)
		return string(b), nil
	}
	return t.required(row, "input")
}

// checkFields checks the split and fills the task's defaults from the target.
func (t *tableImporter) checkFields(row tableRow, r *datasets.Record, info targetInfo) error {
	if !slices.Contains(t.opts.Splits, r.Split) {
		return t.errAt(row, t.m.Split, "unknown split %q: allowed splits are %s", r.Split, strings.Join(t.opts.Splits, ", "))
	}
	if r.ID == "" {
		r.ID = fmt.Sprintf("%s-%d", t.opts.IDPrefix, row.line)
	}
	if r.Complexity != "" && t.opts.Task == schemas.EdgeJSON && !slices.Contains(schemas.Complexities, schemas.Complexity(r.Complexity)) {
		return t.errAt(row, t.m.Complexity, "unknown complexity %q: want simple, medium or complex", r.Complexity)
	}
	r.Intent = info.intent
	if r.Function == "" {
		r.Function = info.function
	}
	if r.Scenario == "" {
		r.Scenario = info.scenario
	}
	if r.Cell == "" {
		r.Cell = info.cell
		if r.Cell == "" {
			r.Cell = r.Variant
		}
	}
	return nil
}

// schema compiles the row's schema column, if any, and validates target with it.
func (t *tableImporter) schema(row tableRow, target json.RawMessage) (json.RawMessage, error) {
	col := t.m.Schema
	v, ok := row.vals[col]
	if col == "" || !ok || string(v.raw) == "null" || (v.raw == nil && strings.TrimSpace(v.text) == "") {
		return nil, nil
	}
	raw, err := jsonValue(v)
	if err != nil {
		return nil, t.errAt(row, col, "%v", err)
	}
	sch, ok := t.schemas[string(raw)]
	if !ok {
		if sch, err = compileSchema(fmt.Sprintf("%s-line-%d", t.opts.IDPrefix, row.line), raw); err != nil {
			return nil, t.errAt(row, col, "not a valid JSON Schema: %v", err)
		}
		t.schemas[string(raw)] = sch
	}
	var inst any
	if err := json.Unmarshal(target, &inst); err != nil {
		return nil, t.errAt(row, t.m.Target, "%v", err)
	}
	if err := validateJSON(sch, inst); err != nil {
		return nil, t.errAt(row, t.m.Target, "does not match the schema column: %v", err)
	}
	return raw, nil
}

// targetInfo is what a target says about the record's fields.
type targetInfo struct {
	intent, function, scenario, cell string
	check                            string // the validation check that passed
}

// target returns the row's target as compact JSON.
func (t *tableImporter) target(row tableRow) (json.RawMessage, targetInfo, error) {
	if t.m.Label != "" {
		label, err := t.required(row, "label")
		if err != nil {
			return nil, targetInfo{}, err
		}
		b, err := mustJSON(generator.IntentTarget{Intent: label})
		return json.RawMessage(b), targetInfo{intent: label, cell: label, check: "label"}, err
	}
	v, ok := row.vals[t.m.Target]
	if !ok {
		return nil, targetInfo{}, t.errAt(row, t.m.Target, "missing (target column)")
	}
	raw, err := jsonValue(v)
	if err != nil {
		return nil, targetInfo{}, t.errAt(row, t.m.Target, "%v", err)
	}
	info, err := checkTarget(t.opts.Task, raw)
	if err != nil {
		return nil, targetInfo{}, t.errAt(row, t.m.Target, "%v", err)
	}
	return raw, info, nil
}

// jsonValue returns a cell as compact JSON: a JSON Lines value as is, or the
// JSON text held by a string (CSV cells, and JSON Lines strings).
func jsonValue(v value) (json.RawMessage, error) {
	text := []byte(v.text)
	if v.raw != nil && v.raw[0] != '"' {
		text = v.raw
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber() // keep 12345678901234567890 as written
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("not valid JSON: %v: %.60q", err, text)
	}
	if dec.More() {
		return nil, fmt.Errorf("not valid JSON: text after the value: %.60q", text)
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return nil, err
	}
	return json.RawMessage(strings.TrimSuffix(buf.String(), "\n")), nil
}
