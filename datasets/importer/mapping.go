package importer

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/schemas"
)

// Mapping names the source column (CSV header name, JSON Lines key) of each
// record field. An empty name means "the column named like the field, when the
// file has one", except Label, which is only used when named.
type Mapping struct {
	// Input is the column holding the input text (default "input"). In JSON Lines
	// it may also be an array of strings: a multi-turn EdgeFuncCall input.
	Input string `json:"input,omitempty"`
	// Target is the column holding the target as JSON (default "target"); in JSON
	// Lines either a JSON value or a string of JSON text.
	Target string `json:"target,omitempty"`
	// Label is the column holding an EdgeIntent class id; the target becomes
	// {"intent": label}. Label and Target exclude each other.
	Label string `json:"label,omitempty"`
	// Split is the column holding the split name (default "split").
	Split string `json:"split,omitempty"`
	// ID is the column holding the example id (default "id").
	ID string `json:"id,omitempty"`
	// Cell, Complexity, Variant, Scenario and Function fill the record fields of
	// the same name (defaults "cell", "complexity", ...).
	Cell       string `json:"cell,omitempty"`
	Complexity string `json:"complexity,omitempty"`
	Variant    string `json:"variant,omitempty"`
	Scenario   string `json:"scenario,omitempty"`
	Function   string `json:"function,omitempty"`
	// Schema is the column holding an EdgeJSON row's JSON Schema (default
	// "schema"); the target is validated against it and the schema kept in Meta
	// (see RecordSchema).
	Schema string `json:"schema,omitempty"`
}

// MappingFields are the field names ParseMapping accepts, in Mapping order.
var MappingFields = []string{"input", "target", "label", "split", "id", "cell", "complexity", "variant", "scenario", "function", "schema"}

// field returns a pointer to the mapping entry of a field name.
func (m *Mapping) field(name string) *string {
	switch name {
	case "input":
		return &m.Input
	case "target":
		return &m.Target
	case "label":
		return &m.Label
	case "split":
		return &m.Split
	case "id":
		return &m.ID
	case "cell":
		return &m.Cell
	case "complexity":
		return &m.Complexity
	case "variant":
		return &m.Variant
	case "scenario":
		return &m.Scenario
	case "function":
		return &m.Function
	case "schema":
		return &m.Schema
	}
	return nil
}

// ParseMapping parses "field=column,field=column", e.g. "input=text,label=intent".
func ParseMapping(s string) (Mapping, error) {
	var m Mapping
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		p := m.field(k)
		switch {
		case !ok || v == "":
			return Mapping{}, fmt.Errorf("mapping %q: want field=column", part)
		case p == nil:
			return Mapping{}, fmt.Errorf("mapping %q: unknown field %q: fields are %s", part, k, strings.Join(MappingFields, ", "))
		case *p != "":
			return Mapping{}, fmt.Errorf("mapping %q: field %q mapped twice", part, k)
		}
		*p = v
	}
	return m, nil
}

// resolve fills the unnamed fields with their defaults: "input", "target" (unless
// Label is named), and the same-named column for the others when has reports
// that the file has one.
func (m Mapping) resolve(task schemas.Task, has func(col string) bool) (Mapping, error) {
	if m.Label != "" && m.Target != "" {
		return Mapping{}, fmt.Errorf("mapping: label=%s and target=%s exclude each other", m.Label, m.Target)
	}
	if m.Label != "" && task != schemas.EdgeIntent {
		return Mapping{}, fmt.Errorf("mapping: label=%s needs task edgeintent (task is %s): map target instead", m.Label, task)
	}
	out := m
	for _, f := range MappingFields {
		p := out.field(f)
		switch {
		case f == "label" || *p != "":
		case f == "input":
			*p = "input"
		case f == "target" && m.Label == "":
			*p = "target"
		case f != "target" && has(f):
			*p = f
		}
	}
	return out, nil
}

// columns returns the mapped (field, column) pairs.
func (m Mapping) columns() [][2]string {
	var out [][2]string
	for _, f := range MappingFields {
		if c := *m.field(f); c != "" {
			out = append(out, [2]string{f, c})
		}
	}
	return out
}

// TableOptions are the options of ImportCSV and ImportJSONL.
type TableOptions struct {
	// Task is the task of every row (required).
	Task schemas.Task `json:"task"`
	// Mapping names the columns.
	Mapping Mapping `json:"mapping"`
	// Splits are the allowed split names; empty means DefaultSplits. DefaultSplit
	// is always allowed.
	Splits []string `json:"splits,omitempty"`
	// DefaultSplit is the split of rows without a split column; "" means "test",
	// since users mostly bring their own test sets.
	DefaultSplit string `json:"default_split,omitempty"`
	// Variant is the variant of rows without a variant column; "" means "imported".
	Variant string `json:"variant,omitempty"`
	// IDPrefix starts the ids of rows without an id column,
	// "<prefix>-<content hash>"; "" means the file's base name without extension.
	IDPrefix string `json:"id_prefix,omitempty"`
	// Strict stops at the first bad row instead of skipping it.
	Strict bool `json:"-"`
}

// DefaultSplits are the split names a table import allows unless told otherwise.
var DefaultSplits = []string{"train", "val", "test"}

var idPrefixRE = regexp.MustCompile(`[^a-z0-9_.-]+`)

// normalize checks the options and fills the defaults; base is the file's name.
func (o TableOptions) normalize(base string) (TableOptions, error) {
	if err := checkTask(o.Task); err != nil {
		return o, err
	}
	if len(o.Splits) == 0 {
		o.Splits = DefaultSplits
	}
	for _, s := range o.Splits {
		if err := datasets.ValidateSplit(s); err != nil {
			return o, err
		}
	}
	if o.DefaultSplit == "" {
		o.DefaultSplit = "test"
	}
	if err := datasets.ValidateSplit(o.DefaultSplit); err != nil {
		return o, fmt.Errorf("default split: %w", err)
	}
	if !slices.Contains(o.Splits, o.DefaultSplit) {
		o.Splits = append(slices.Clone(o.Splits), o.DefaultSplit)
	}
	if o.Variant == "" {
		o.Variant = "imported"
	}
	if o.IDPrefix == "" {
		name := strings.TrimSuffix(base, filepath.Ext(base))
		o.IDPrefix = strings.Trim(idPrefixRE.ReplaceAllString(strings.ToLower(name), "_"), "_.-")
		if o.IDPrefix == "" {
			o.IDPrefix = "row"
		}
	}
	return o, nil
}

// checkTask refuses an empty or non-canonical task.
func checkTask(t schemas.Task) error {
	if t == "" {
		return fmt.Errorf("no task: want one of edgejson, edgeintent, edgefunccall")
	}
	p, err := schemas.ParseTask(string(t))
	if err != nil {
		return err
	}
	if p != t {
		return fmt.Errorf("task %q: want the lower-case name %q", t, p)
	}
	return nil
}
