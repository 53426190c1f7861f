package constrain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/internal/testutil"
	"github.com/cyclecore/mlmforge/internal/testutil/records"
	"github.com/cyclecore/mlmforge/schemas"
)

// goldCase is a schema and a gold answer that must satisfy it.
type goldCase struct {
	name   string
	schema json.RawMessage
	answer string
}

// goldCases returns the answers of builtin records of the three tasks with
// the schemas a student decodes them under: the catalog schema (EdgeJSON),
// IntentSchema over the taxonomy, FuncCallSchema over every function.
func goldCases(t testing.TB, n int) []goldCase {
	t.Helper()
	cat := testutil.Catalog(t)
	var out []goldCase
	for _, r := range records.Builtin(t, schemas.EdgeJSON, "", n) {
		s, err := cat.Schema(r.Cell)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, goldCase{r.ID, s.Schema, compact(t, r.Target)})
	}
	for _, variant := range []string{"assistant-50", "ecommerce-100", "enterprise-200"} {
		tax, err := cat.Taxonomy(variant)
		if err != nil {
			t.Fatal(err)
		}
		var labels []string
		for _, c := range tax.Classes {
			labels = append(labels, c.ID)
		}
		withSlots, err := IntentSchema(labels, true)
		if err != nil {
			t.Fatal(err)
		}
		bare, err := IntentSchema(labels, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range records.Builtin(t, schemas.EdgeIntent, variant, n/2) {
			out = append(out, goldCase{r.ID, withSlots, compact(t, r.Target)},
				goldCase{r.ID + "/bare", bare, fmt.Sprintf(`{"intent":%q}`, r.Intent)})
		}
	}
	fc := funcCallSchema(t)
	for _, r := range records.Builtin(t, schemas.EdgeFuncCall, "", n) {
		var target generator.FuncCallTarget
		if err := json.Unmarshal([]byte(r.Target), &target); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(map[string]any{"turns": target.Turns})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, goldCase{r.ID, fc, string(b)})
	}
	return out
}

// funcCallSchema is FuncCallSchema over the whole function catalog.
func funcCallSchema(t testing.TB) json.RawMessage {
	t.Helper()
	s, err := FuncCallSchema(testutil.Catalog(t).Functions)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func compact(t testing.TB, s string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		t.Fatalf("compact %q: %v", s, err)
	}
	return buf.String()
}

// validators caches reference validators by schema text.
var validators sync.Map // string -> *jsonschema.Schema

// validate checks an answer with the reference validator (santhosh-tekuri
// jsonschema, draft 2020-12, formats as annotations, as Compile ignores them).
func validate(t testing.TB, schema json.RawMessage, answer string) error {
	t.Helper()
	v, ok := validators.Load(string(schema))
	if !ok {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		if err := c.AddResource("mem://schema.json", doc); err != nil {
			t.Fatal(err)
		}
		sch, err := c.Compile("mem://schema.json")
		if err != nil {
			t.Fatalf("reference compile: %v", err)
		}
		v, _ = validators.LoadOrStore(string(schema), sch)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(answer))
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	return v.(*jsonschema.Schema).Validate(inst)
}

// compileT compiles a schema or fails the test.
func compileT(t testing.TB, schema string) *Schema {
	t.Helper()
	sc, err := Compile(json.RawMessage(schema))
	if err != nil {
		t.Fatalf("compile %s: %v", schema, err)
	}
	return sc
}
