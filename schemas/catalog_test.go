package schemas

import (
	"fmt"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestEmbeddedCatalog checks that the shipped catalog loads and has the sizes
// SLM-Bench asks for.
func TestEmbeddedCatalog(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	s := c.Summary()
	t.Run("edgejson", func(t *testing.T) { checkEmbeddedSchemas(t, c, s) })
	t.Run("edgeintent", func(t *testing.T) { checkEmbeddedTaxonomies(t, c) })
	t.Run("edgefunccall", func(t *testing.T) { checkEmbeddedFunctions(t, c, s) })
}

// checkEmbeddedSchemas wants >= 15 schemas over >= 5 domains, every level present.
func checkEmbeddedSchemas(t *testing.T, c *Catalog, s Summary) {
	if len(c.Schemas) < 15 {
		t.Errorf("got %d schemas, want >= 15", len(c.Schemas))
	}
	if len(s.SchemasByDomain) < 5 {
		t.Errorf("got %d schema domains (%v), want >= 5", len(s.SchemasByDomain), s.SchemasByDomain)
	}
	for _, lvl := range Complexities {
		if s.SchemasByLevel[lvl] == 0 {
			t.Errorf("no %s schema", lvl)
		}
	}
	for _, sc := range c.Schemas {
		if sc.Fields == 0 || sc.File == "" {
			t.Errorf("schema %s: shape or file not filled in (fields %d, file %q)", sc.ID, sc.Fields, sc.File)
		}
		if cs, err := c.CompiledSchema(sc.ID); err != nil || cs == nil {
			t.Errorf("CompiledSchema(%s) = %v, %v", sc.ID, cs, err)
		}
	}
}

// checkEmbeddedTaxonomies wants taxonomies of exactly 50, 100 and 200 classes, each class >= 3 patterns.
func checkEmbeddedTaxonomies(t *testing.T, c *Catalog) {
	var sizes []int
	for _, tx := range c.Taxonomies {
		sizes = append(sizes, len(tx.Classes))
		for _, cl := range tx.Classes {
			if len(cl.Patterns) < 3 {
				t.Errorf("%s class %s: %d patterns, want >= 3", tx.ID, cl.ID, len(cl.Patterns))
			}
		}
	}
	if fmt.Sprint(sizes) != "[50 100 200]" {
		t.Errorf("taxonomy sizes %v, want [50 100 200]", sizes)
	}
}

// checkEmbeddedFunctions wants >= 100 functions in >= 10 domains, each >= 2
// patterns, every parameter type present and >= 30 irrelevant requests.
func checkEmbeddedFunctions(t *testing.T, c *Catalog, s Summary) {
	if len(c.Functions) < 100 {
		t.Errorf("got %d functions, want >= 100", len(c.Functions))
	}
	if len(s.FunctionsByDomain) < 10 {
		t.Errorf("got %d function domains, want >= 10", len(s.FunctionsByDomain))
	}
	for _, f := range c.Functions {
		if len(f.Patterns) < 2 {
			t.Errorf("function %s: %d patterns, want >= 2", f.Name, len(f.Patterns))
		}
		if f.Domain == "" || f.File == "" {
			t.Errorf("function %s: domain %q, file %q not filled in", f.Name, f.Domain, f.File)
		}
		if cp, err := c.CompiledParameters(f.Name); err != nil || cp == nil {
			t.Errorf("CompiledParameters(%s) = %v, %v", f.Name, cp, err)
		}
	}
	for _, typ := range []string{"string", "integer", "number", "boolean", "enum", "array", "date-time", "object"} {
		if s.ParamTypes[typ] == 0 {
			t.Errorf("no parameter of type %s (have %v)", typ, s.ParamTypes)
		}
	}
	if s.Irrelevant < 30 {
		t.Errorf("got %d irrelevant requests, want >= 30", s.Irrelevant)
	}
}

// TestLoadCached checks that Load parses once and shares the result.
func TestLoadCached(t *testing.T) {
	a, errA := Load()
	b, errB := Load()
	if a != b || errA != errB {
		t.Fatalf("Load returned different results: %p %v, %p %v", a, errA, b, errB)
	}
}

// BenchmarkLoad measures a full parse and validation of the embedded catalog.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := loadEmbedded(); err != nil {
			b.Fatal(err)
		}
	}
}

// loadFixture loads the valid fixture catalog of fixture_test.go.
func loadFixture(t *testing.T) *Catalog {
	t.Helper()
	c, err := LoadFS(newFixture(t).fs())
	if err != nil {
		t.Fatalf("LoadFS(fixture): %v", err)
	}
	return c
}

func TestCatalogLookups(t *testing.T) {
	c := loadFixture(t)
	tests := []struct {
		name    string
		lookup  func() (string, error)
		want    string // the found item's id, or a substring of the error
		wantErr bool
	}{
		{"schema", func() (string, error) { s, err := c.Schema("shop.order"); return idOf(s, err) }, "shop.order", false},
		{"schema typo", func() (string, error) { s, err := c.Schema("shop.ordr"); return idOf(s, err) },
			`unknown schema "shop.ordr": closest are shop.order, `, true},
		{"taxonomy by id", func() (string, error) { tx, err := c.Taxonomy("assistant-50"); return idOf(tx, err) }, "assistant-50", false},
		{"taxonomy by size", func() (string, error) { tx, err := c.Taxonomy(" 50 "); return idOf(tx, err) }, "assistant-50", false},
		{"taxonomy unknown", func() (string, error) { tx, err := c.Taxonomy("100"); return idOf(tx, err) },
			`unknown taxonomy "100": use an id (assistant-50) or a size (50)`, true},
		{"function", func() (string, error) { f, err := c.Function("lights_set"); return idOf(f, err) }, "lights_set", false},
		{"function typo", func() (string, error) { f, err := c.Function("light_set"); return idOf(f, err) },
			`unknown function "light_set": closest are lights_set, `, true},
		{"compiled schema unknown", func() (string, error) { _, err := c.CompiledSchema("nope.nope"); return "", err },
			`unknown schema "nope.nope"`, true},
		{"compiled parameters unknown", func() (string, error) { _, err := c.CompiledParameters("nope"); return "", err },
			`unknown function "nope"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.lookup()
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want one containing %q", err, tt.want)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// idOf returns the identifier of a catalog item, for table tests.
func idOf(v any, err error) (string, error) {
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
	case *JSONSchema:
		return x.ID, nil
	case *Taxonomy:
		return x.ID, nil
	case *Function:
		return x.Name, nil
	}
	return "", nil
}

func TestCatalogFilledIn(t *testing.T) {
	c := loadFixture(t)
	order, _ := c.Schema("shop.order")
	if order.Fields != 10 || order.Nesting != 1 || !order.HasArray || order.File != "catalog/edgejson/shop.order.json" {
		t.Errorf("shop.order: fields %d, nesting %d, hasArray %v, file %q; want 10, 1, true, catalog/edgejson/shop.order.json",
			order.Fields, order.Nesting, order.HasArray, order.File)
	}
	var names []string
	for _, f := range c.Functions {
		names = append(names, f.Domain+"/"+f.Name)
	}
	want := "calendar/calendar_delete_event calendar/calendar_list_events lights/lights_schedule lights/lights_set"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("functions %q, want %q", got, want)
	}
	if c.Schemas[0].ID != "shop.contact" || c.Schemas[2].ID != "shop.order" || c.Domains[0].Domain != "calendar" {
		t.Errorf("lists not sorted: schemas %s..%s, domains %s..", c.Schemas[0].ID, c.Schemas[2].ID, c.Domains[0].Domain)
	}
}

func TestCompiledValidation(t *testing.T) {
	c := loadFixture(t)
	tests := []struct {
		name, item, instance string
		params, ok           bool
	}{
		{"contact ok", "shop.contact", `{"name":"Ann Lee","email":"ann@example.com","phone":"+1 (415) 555-2671"}`, false, true},
		{"contact bad email", "shop.contact", `{"name":"Ann Lee","email":"ann at example"}`, false, false},
		{"contact bad phone", "shop.contact", `{"name":"Ann Lee","email":"ann@example.com","phone":"call me"}`, false, false},
		{"contact extra key", "shop.contact", `{"name":"Ann Lee","email":"ann@example.com","age":3}`, false, false},
		{"lights ok", "lights_set", `{"room":"kitchen","brightness":40}`, true, true},
		{"lights out of range", "lights_set", `{"room":"kitchen","brightness":140}`, true, false},
		{"schedule bad date-time", "lights_schedule", `{"room":"hall","at":"tomorrow"}`, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			get := c.CompiledSchema
			if tt.params {
				get = c.CompiledParameters
			}
			sch, err := get(tt.item)
			if err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.instance))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); (err == nil) != tt.ok {
				t.Errorf("Validate(%s) = %v, want ok=%v", tt.instance, err, tt.ok)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	s := loadFixture(t).Summary()
	got := fmt.Sprintf("%v %v %v %v %v %d", s.SchemasByLevel, s.SchemasByDomain, s.Taxonomies, s.FunctionsByDomain, s.ParamTypes, s.Irrelevant)
	want := "map[complex:1 medium:1 simple:1] map[shop:3] map[assistant-50:50] map[calendar:2 lights:2] " +
		"map[array:1 boolean:1 date-time:1 enum:1 integer:2 number:1 object:1 string:4] 30"
	if got != want {
		t.Errorf("Summary:\n got %s\nwant %s", got, want)
	}
}

func TestCatalogHashTracksContent(t *testing.T) {
	a, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Hash) != 64 {
		t.Fatalf("hash %q", a.Hash)
	}
	b, err := loadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash != b.Hash {
		t.Fatalf("hash not stable across loads: %s vs %s", a.Hash, b.Hash)
	}
}

func TestCatalogHashChangesWithAFile(t *testing.T) {
	f := newFixture(t)
	a, err := LoadFS(f.fs())
	if err != nil {
		t.Fatal(err)
	}
	fsys := f.fs()
	for name, file := range fsys {
		if strings.HasSuffix(name, "irrelevant.json") {
			file.Data = append(append([]byte{}, file.Data...), '\n')
		}
	}
	b, err := LoadFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash == b.Hash {
		t.Fatal("hash unchanged after a catalog file changed")
	}
}
