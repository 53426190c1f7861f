package importer

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
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

// tableImporter turns the rows of one file into records.
type tableImporter struct {
	b       *builder
	file    int
	name    string     // the file name errors start with
	lines   *lineIndex // the file's text, for columns in characters
	split   string     // the split the file was given as ("" if none)
	opts    TableOptions
	m       Mapping
	mapped  map[string]bool // columns some field is mapped to
	schemas map[string]*jsonschema.Schema
	cat     *schemas.Catalog // for EdgeJSON rows without a schema of their own
}

func newTableImporter(b *builder, file int, name string, data []byte, opts TableOptions, m Mapping) *tableImporter {
	t := &tableImporter{b: b, file: file, name: name, lines: &lineIndex{data: data}, opts: opts, m: m,
		mapped: map[string]bool{}, schemas: map[string]*jsonschema.Schema{}}
	for _, fc := range m.columns() {
		t.mapped[fc[1]] = true
	}
	return t
}

// errAt is a *RowError at a row's column: "file:line:col: column "c": ...",
// the column counted in characters.
func (t *tableImporter) errAt(row tableRow, col, format string, args ...any) error {
	msg := fmt.Sprintf("column %q: %s", col, fmt.Sprintf(format, args...))
	if v, ok := row.vals[col]; ok && v.col > 0 {
		line := max(v.line, row.line)
		return rowErr(t.name, line, charColumn(t.lines.line(line), v.col), "%s", msg)
	}
	return rowErr(t.name, row.line, 0, "%s", msg)
}

// str returns a mapped field's value as trimmed text: "" when the field is
// unmapped or the row lacks the column (or has null), an error when it is not
// a string or number.
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

// add converts one row into a record; a bad row is a *RowError.
func (t *tableImporter) add(row tableRow) error {
	r := datasets.Record{Variant: t.opts.Variant, Split: cmp.Or(t.split, t.opts.DefaultSplit)}
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
	if meta.Schema, err = t.schema(row, &r, target); err != nil {
		return err
	}
	if meta.Schema != nil || t.opts.Task == schemas.EdgeJSON {
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
			return rowErr(t.name, row.line, 0, "meta: %v", err)
		}
	}
	r.Validation = validation(checks...)
	return t.b.add(r, t.file, row.line, fmt.Sprintf("line %d", row.line))
}

// input returns the input as written (not trimmed: leading and trailing
// spaces are part of what a model reads), or in JSON Lines an array of
// strings (the user turns of a multi-turn EdgeFuncCall example) as compact
// JSON. Blank input is an error.
func (t *tableImporter) input(row tableRow) (string, error) {
	v, ok := row.vals[t.m.Input]
	switch {
	case !ok:
		return "", t.errAt(row, t.m.Input, "missing (input column)")
	case v.raw != nil && v.raw[0] == '[':
		var turns []string
		if err := json.Unmarshal(v.raw, &turns); err != nil || len(turns) == 0 {
			return "", t.errAt(row, t.m.Input, "want a string or a non-empty array of strings")
		}
		b, _ := json.Marshal(turns)
		return string(b), nil
	case v.raw != nil && v.raw[0] != '"':
		return "", t.errAt(row, t.m.Input, "want a string, got %.40s", v.raw)
	case strings.TrimSpace(v.text) == "":
		return "", t.errAt(row, t.m.Input, "empty input")
	}
	return v.text, nil
}

// checkFields checks the split and fills the task's defaults from the target.
func (t *tableImporter) checkFields(row tableRow, r *datasets.Record, info targetInfo) error {
	if !slices.Contains(t.opts.Splits, r.Split) {
		return t.errAt(row, t.m.Split, "unknown split %q: allowed splits are %s", r.Split, strings.Join(t.opts.Splits, ", "))
	}
	if t.split != "" && r.Split != t.split {
		return t.errAt(row, t.m.Split, "split %q, but the file was given as split %s", r.Split, t.split)
	}
	if r.ID == "" {
		// A content hash: ids do not shift when rows are added, removed or skipped.
		h := sha256.Sum256([]byte(r.Split + "\x00" + r.Input + "\x00" + r.Target))
		r.ID = t.opts.IDPrefix + "-" + hex.EncodeToString(h[:6])
	}
	if err := t.complexity(row, r); err != nil {
		return err
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

// complexity checks an EdgeJSON row's complexity: a level name, or a nesting
// depth mapped to a level (DepthLevel); a row given a depth and no cell goes
// to cell "depth-<N>", so the report scores each depth.
func (t *tableImporter) complexity(row tableRow, r *datasets.Record) error {
	if r.Complexity == "" || t.opts.Task != schemas.EdgeJSON || slices.Contains(schemas.Complexities, schemas.Complexity(r.Complexity)) {
		return nil
	}
	n, err := strconv.Atoi(r.Complexity)
	if err != nil || n < 0 {
		return t.errAt(row, t.m.Complexity, "unknown complexity %q: want simple, medium, complex or a nesting depth (0, 1, 2, ...)", r.Complexity)
	}
	if r.Cell == "" {
		r.Cell = fmt.Sprintf("depth-%d", n)
	}
	r.Complexity = string(DepthLevel(n))
	return nil
}

// DepthLevel maps a schema's nesting depth (object levels below the root, as
// the catalog measures it) to a complexity level with the catalog's bounds:
// 0 simple, 1-2 medium, 3 and more complex.
func DepthLevel(depth int) schemas.Complexity {
	switch {
	case depth <= 0:
		return schemas.Simple
	case depth <= 2:
		return schemas.Medium
	}
	return schemas.Complex
}

// schema returns the row's own JSON Schema (its schema column), checking
// the target against it. An EdgeJSON row without one must name a catalog
// schema in its cell and match it; a null or empty schema is a bad row.
func (t *tableImporter) schema(row tableRow, r *datasets.Record, target json.RawMessage) (json.RawMessage, error) {
	col := t.m.Schema
	v, ok := row.vals[col]
	if !ok && !t.mapped["meta"] {
		// A file from `mlmforge datasets export` keeps the schema in its meta.
		if mv, has := row.vals["meta"]; has && mv.raw != nil {
			var m struct {
				Schema json.RawMessage `json:"schema"`
			}
			text := []byte(mv.raw)
			if mv.raw[0] == '"' {
				text = []byte(mv.text) // the record's meta column: JSON text in a string
			}
			if json.Unmarshal(text, &m) == nil && len(m.Schema) > 0 {
				col, v, ok = "meta", value{raw: m.Schema, col: mv.col}, true
			}
		}
	}
	if col != "" && ok && (string(v.raw) == "null" || (v.raw == nil || v.raw[0] == '"') && strings.TrimSpace(v.text) == "") {
		return nil, t.errAt(row, col, "empty schema: give the row's JSON Schema, or leave the column out and name a catalog schema in its cell")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(target))
	if err != nil {
		return nil, t.errAt(row, t.m.Target, "%v", err)
	}
	if col == "" || !ok {
		if t.opts.Task != schemas.EdgeJSON {
			return nil, nil
		}
		return nil, t.catalogSchema(row, r, inst)
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
	if err := sch.Validate(inst); err != nil {
		return nil, t.errAt(row, t.m.Target, "does not match the schema column: %v", err)
	}
	return raw, nil
}

// catalogSchema checks an EdgeJSON row without a schema of its own: its
// cell must name a catalog schema, which its target must match.
func (t *tableImporter) catalogSchema(row tableRow, r *datasets.Record, inst any) error {
	if t.cat == nil {
		cat, err := schemas.Load()
		if err != nil {
			return fmt.Errorf("load the schema catalog: %w", err)
		}
		t.cat = cat
	}
	sch, err := t.cat.CompiledSchema(r.Cell)
	if err != nil {
		return t.errAt(row, cmp.Or(t.m.Schema, "schema"), "no schema: the row has none and its cell %q is not a catalog schema", r.Cell)
	}
	if err := sch.Validate(inst); err != nil {
		return t.errAt(row, t.m.Target, "does not match catalog schema %s: %v", r.Cell, err)
	}
	return nil
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

// jsonValue returns a cell as compact JSON with its object keys in the
// order written (a schema's property order is the order a decoder writes the
// fields) and numbers as written: a JSON Lines value as is, or the JSON text
// held by a string (CSV cells, and JSON Lines strings).
func jsonValue(v value) (json.RawMessage, error) {
	text := []byte(v.text)
	if v.raw != nil && v.raw[0] != '"' {
		text = v.raw
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("not valid JSON: %v: %.60q", err, text)
	}
	if dec.More() {
		return nil, fmt.Errorf("not valid JSON: text after the value: %.60q", text)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, bytes.TrimSpace(text)); err != nil {
		return nil, fmt.Errorf("not valid JSON: %v: %.60q", err, text)
	}
	return json.RawMessage(buf.Bytes()), nil
}
