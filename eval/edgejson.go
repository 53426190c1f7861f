package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/schemas"
)

// JSONScores are the EdgeJSON metrics of a group of examples; every value is
// a mean over the group's examples (see docs/metrics.md).
type JSONScores struct {
	// N is the number of examples.
	N int `json:"n"`
	// ParseFailures counts outputs that were not one JSON value.
	ParseFailures int `json:"parse_failures"`
	// JSONExact is the share of outputs equal to the gold after canonicalization.
	JSONExact float64 `json:"json_exact"`
	// FieldPrecision, FieldRecall and FieldF1 compare flattened leaf paths.
	FieldPrecision float64 `json:"field_precision"`
	FieldRecall    float64 `json:"field_recall"`
	FieldF1        float64 `json:"field_f1"`
	// SchemaCompliance is the share of outputs that parse and validate
	// against the record's schema.
	SchemaCompliance float64 `json:"schema_compliance"`
}

// JSONMetrics are the EdgeJSON metrics overall, per complexity level and per cell.
type JSONMetrics struct {
	JSONScores
	// ByComplexity holds the same metrics per level (simple, medium, complex).
	ByComplexity map[string]JSONScores `json:"by_complexity"`
	// ByCell holds them per record cell: the schema id of generated data, an
	// import's cell column, or "depth-<N>" for an import that gave depths.
	ByCell map[string]JSONScores `json:"by_cell,omitempty"`
}

// jsonAcc sums per-example values.
type jsonAcc struct {
	n, parseFail             int
	exact, p, r, f, complies float64
}

func (a *jsonAcc) add(parseFail bool, exact, complies bool, m prf) {
	a.n++
	if parseFail {
		a.parseFail++
	}
	a.exact += b2f(exact)
	a.complies += b2f(complies)
	a.p += m.p
	a.r += m.r
	a.f += m.f
}

func (a *jsonAcc) scores() JSONScores {
	return JSONScores{N: a.n, ParseFailures: a.parseFail, JSONExact: ratio(a.exact, a.n),
		FieldPrecision: ratio(a.p, a.n), FieldRecall: ratio(a.r, a.n), FieldF1: ratio(a.f, a.n),
		SchemaCompliance: ratio(a.complies, a.n)}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// jsonScorer scores EdgeJSON examples.
type jsonScorer struct {
	cat      *schemas.Catalog
	all      jsonAcc
	level    map[string]*jsonAcc
	cell     map[string]*jsonAcc
	imported map[string]*jsonschema.Schema // compiled Meta.schema by its text
}

func newJSONScorer(cat *schemas.Catalog) *jsonScorer {
	return &jsonScorer{cat: cat, level: map[string]*jsonAcc{}, cell: map[string]*jsonAcc{}}
}

// schema is the record's JSON schema (RecordSchema): the schema an importer
// stored in Meta.schema, compiled once per distinct schema, else the catalog
// schema its cell names.
func (s *jsonScorer) schema(rec *datasets.Record) (*jsonschema.Schema, error) {
	raw, ok := metaSchema(rec)
	if !ok {
		sch, err := s.cat.CompiledSchema(rec.Cell)
		if err != nil {
			return nil, fmt.Errorf("record %q: no schema: meta has none and field cell: %w", rec.ID, err)
		}
		return sch, nil
	}
	key := string(raw)
	if c, ok := s.imported[key]; ok {
		return c, nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("record %q: field meta.schema: %w", rec.ID, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("meta.json", doc); err != nil {
		return nil, fmt.Errorf("record %q: field meta.schema: %w", rec.ID, err)
	}
	compiled, err := c.Compile("meta.json")
	if err != nil {
		return nil, fmt.Errorf("record %q: field meta.schema: %w", rec.ID, err)
	}
	if s.imported == nil {
		s.imported = map[string]*jsonschema.Schema{}
	}
	s.imported[key] = compiled
	return compiled, nil
}

// score scores one example; errors are reserved for broken gold records.
func (s *jsonScorer) score(rec *datasets.Record, res *ExampleResult) error {
	gold, err := decodeJSON(rec.Target)
	if err != nil {
		return fmt.Errorf("record %q: field target: %w", rec.ID, err)
	}
	sch, err := s.schema(rec)
	if err != nil {
		return err
	}
	level := rec.Complexity
	if level == "" {
		if js, err := s.cat.Schema(rec.Cell); err == nil {
			level = string(js.Complexity)
		}
	}
	var pred any
	if res.ParseError == "" {
		var text string
		if pred, text, err = extractJSONText(res.Raw); err != nil {
			res.ParseError = parseErrorText(res, err)
		} else {
			// The answer's own text keeps its key order; a byte-level student
			// can emit half a UTF-8 sequence inside a string, which JSON readers
			// other than Go's reject, so invalid bytes become U+FFFD.
			res.Parsed = json.RawMessage(strings.ToValidUTF8(text, "\uFFFD"))
		}
	}
	failed := res.ParseError != ""
	var (
		exact, complies bool
		m               prf
	)
	if !failed {
		exact = canonical(pred, false) == canonical(gold, false)
		complies = sch.Validate(pred) == nil
		m = jsonFieldPRF(pred, gold)
	}
	s.all.add(failed, exact, complies, m)
	acc := s.level[level]
	if acc == nil {
		acc = &jsonAcc{}
		s.level[level] = acc
	}
	acc.add(failed, exact, complies, m)
	cacc := s.cell[rec.Cell]
	if cacc == nil {
		cacc = &jsonAcc{}
		s.cell[rec.Cell] = cacc
	}
	cacc.add(failed, exact, complies, m)
	res.Correct = exact
	res.Metrics = map[string]float64{"json_exact": b2f(exact), "field_precision": m.p, "field_recall": m.r,
		"field_f1": m.f, "schema_compliance": b2f(complies)}
	return nil
}

func (s *jsonScorer) metrics() *JSONMetrics {
	out := &JSONMetrics{JSONScores: s.all.scores(), ByComplexity: map[string]JSONScores{}}
	levels := make([]string, 0, len(s.level))
	for l := range s.level {
		levels = append(levels, l)
	}
	sort.Strings(levels)
	for _, l := range levels {
		out.ByComplexity[l] = s.level[l].scores()
	}
	out.ByCell = make(map[string]JSONScores, len(s.cell))
	for c, a := range s.cell {
		out.ByCell[c] = a.scores()
	}
	return out
}

// parseErrorText describes a parse failure, naming truncation when the
// runner reported it.
func parseErrorText(p *ExampleResult, err error) string {
	if p.Truncated {
		return "output truncated at the token limit: " + err.Error()
	}
	return err.Error()
}
