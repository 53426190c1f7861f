package schemas

import (
	"strings"
	"testing"
)

// Fixture files, as the fixture stores them (relative to the catalog root).
const (
	contactFile  = "edgejson/shop.contact.json"
	orderFile    = "edgejson/shop.order.json"
	invoiceFile  = "edgejson/shop.invoice.json"
	taxFile      = "edgeintent/assistant-50.json"
	lightsFile   = "edgefunccall/lights.json"
	calendarFile = "edgefunccall/calendar.json"
	irrFile      = "edgefunccall/irrelevant.json"
)

func TestLoadFSValidFixture(t *testing.T) {
	c, err := LoadFS(newFixture(t).fs())
	if err != nil {
		t.Fatalf("LoadFS(valid fixture): %v", err)
	}
	if len(c.Schemas) != 3 || len(c.Taxonomies) != 1 || len(c.Domains) != 2 || len(c.Functions) != 4 || len(c.Irrelevant) != 30 {
		t.Fatalf("loaded %d schemas, %d taxonomies, %d domains, %d functions, %d irrelevant; want 3, 1, 2, 4, 30",
			len(c.Schemas), len(c.Taxonomies), len(c.Domains), len(c.Functions), len(c.Irrelevant))
	}
}

// loadCase breaks one thing in the valid fixture and names the problem that
// must be reported: the file, the JSON path and the specific words.
type loadCase struct {
	name   string
	mutate func(f *fixture)
	want   []string
}

var schemaCases = []loadCase{
	{"syntax error with line:col", func(f *fixture) {
		delete(f.docs, contactFile)
		f.raw[contactFile] = "{\n  \"id\": \"shop.contact\",\n  \"domain\": \n}\n"
	}, []string{"catalog/edgejson/shop.contact.json:4:1:", "invalid JSON", "looking for beginning of value"}},
	{"duplicate JSON key", func(f *fixture) {
		delete(f.docs, irrFile)
		f.raw[irrFile] = `{"requests": [], "requests": []}`
	}, []string{"catalog/edgefunccall/irrelevant.json: $:", `duplicate key "requests"`}},
	{"unknown metadata key", func(f *fixture) { f.set(contactFile, "x", "owner") },
		[]string{"catalog/edgejson/shop.contact.json: $.owner:", `unknown key "owner"`, "allowed: complexity, description"}},
	{"wrong JSON type in metadata", func(f *fixture) { f.set(contactFile, 3, "title") },
		[]string{"catalog/edgejson/shop.contact.json: $.title:", "want a string, got a number"}},
	{"duplicate schema id", func(f *fixture) { f.docs["edgejson/shop.contact_copy.json"] = f.get(contactFile) },
		[]string{"catalog/edgejson/shop.contact_copy.json: $.id:", `duplicate schema id "shop.contact"`, "catalog/edgejson/shop.contact.json"}},
	{"bad schema id form", func(f *fixture) { f.set(contactFile, "shop-contact", "id") },
		[]string{"catalog/edgejson/shop.contact.json: $.id:", `schema id "shop-contact" must be "<domain>.<name>"`}},
	{"schema id not of its domain", func(f *fixture) { f.set(contactFile, "crm", "domain") },
		[]string{"catalog/edgejson/shop.contact.json: $.id:", `must start with its domain "crm"`}},
	{"empty title", func(f *fixture) { f.set(orderFile, " ", "title") },
		[]string{"catalog/edgejson/shop.order.json: $.title:", `"title" is required`}},
	{"schema does not compile", func(f *fixture) { f.set(contactFile, -1, "schema", "properties", "name", "minLength") },
		[]string{"catalog/edgejson/shop.contact.json: $.schema.properties.name.minLength:", "not a valid JSON Schema", "minimum"}},
	{"bad regex does not compile", func(f *fixture) { f.set(invoiceFile, "^INV-[0-9", "schema", "properties", "invoice_id", "pattern") },
		[]string{"catalog/edgejson/shop.invoice.json: $.schema.properties.invoice_id.pattern:", "not a valid JSON Schema", "regex"}},
	{"missing description", func(f *fixture) {
		f.del(invoiceFile, "schema", "properties", "seller", "properties", "address", "properties", "city", "description")
	}, []string{"catalog/edgejson/shop.invoice.json: $.schema.properties.seller.properties.address.properties.city:", `property "city" needs a non-empty "description"`}},
	{"string leaf without generator", func(f *fixture) { f.del(orderFile, "schema", "properties", "order_id", "x-gen") },
		[]string{"catalog/edgejson/shop.order.json: $.schema.properties.order_id:", "string needs a value generator"}},
	{"unknown x-gen", func(f *fixture) { f.set(contactFile, "personname", "schema", "properties", "name", "x-gen") },
		[]string{`catalog/edgejson/shop.contact.json: $.schema.properties.name["x-gen"]:`, `unknown generator "personname" (see schemas/generators.go)`}},
	{"unsupported format", func(f *fixture) { f.set(contactFile, "hostname", "schema", "properties", "email", "format") },
		[]string{"catalog/edgejson/shop.contact.json: $.schema.properties.email.format:", `format "hostname" has no value generator`}},
	{"number without range", func(f *fixture) { f.del(orderFile, "schema", "properties", "total", "maximum") },
		[]string{"catalog/edgejson/shop.order.json: $.schema.properties.total:", `number needs "minimum" and "maximum"`}},
	{"minimum above maximum", func(f *fixture) { f.set(orderFile, 20000, "schema", "properties", "total", "minimum") },
		[]string{"catalog/edgejson/shop.order.json: $.schema.properties.total.minimum:", `"minimum" 20000 is greater than "maximum" 10000`}},
	{"array without maxItems", func(f *fixture) { f.del(orderFile, "schema", "properties", "items", "maxItems") },
		[]string{"catalog/edgejson/shop.order.json: $.schema.properties.items:", `array needs "maxItems"`}},
	{"minItems above maxItems", func(f *fixture) { f.set(orderFile, 11, "schema", "properties", "items", "minItems") },
		[]string{"catalog/edgejson/shop.order.json: $.schema.properties.items.minItems:", `"minItems" 11 is greater than "maxItems" 10`}},
	{"enum value of the wrong type", func(f *fixture) { f.set(orderFile, []any{"open", 2}, "schema", "properties", "status", "enum") },
		[]string{"catalog/edgejson/shop.order.json: $.schema.properties.status.enum[1]:", `enum value 2 is a number, not of type "string"`}},
	{"missing additionalProperties false", func(f *fixture) { f.del(orderFile, "schema", "properties", "customer", "additionalProperties") },
		[]string{"catalog/edgejson/shop.order.json: $.schema.properties.customer:", `needs "additionalProperties": false`}},
	{"additionalProperties true in array items", func(f *fixture) {
		f.set(orderFile, true, "schema", "properties", "items", "items", "additionalProperties")
	},
		[]string{"catalog/edgejson/shop.order.json: $.schema.properties.items.items:", `needs "additionalProperties": false`}},
	{"required names missing property", func(f *fixture) { f.set(contactFile, []any{"name", "email", "fax"}, "schema", "required") },
		[]string{"catalog/edgejson/shop.contact.json: $.schema.required[2]:", `required names "fax", which is not a property`}},
	{"root not an object", func(f *fixture) { f.set(contactFile, "array", "schema", "type") },
		[]string{"catalog/edgejson/shop.contact.json: $.schema:", `root schema must have "type": "object"`}},
	{"complexity simple mismatch", func(f *fixture) {
		f.set(contactFile, map[string]any{"type": "object", "description": "Address", "additionalProperties": false,
			"properties": map[string]any{"city": map[string]any{"type": "string", "description": "City", "x-gen": "city"}}},
			"schema", "properties", "address")
		f.set(contactFile, map[string]any{"type": "string", "description": "Note", "x-gen": "note_text"}, "schema", "properties", "note")
	}, []string{"catalog/edgejson/shop.contact.json: $.complexity:", `complexity "simple" needs 3-5 fields, nesting 0, no arrays; measured 7 fields, nesting 1, arrays: no`}},
	{"complexity medium mismatch", func(f *fixture) { f.del(orderFile, "schema", "properties", "items") },
		[]string{"catalog/edgejson/shop.order.json: $.complexity:", `complexity "medium" needs 8-12 fields, nesting 1-2, at least one array; measured 7 fields, nesting 1, arrays: no`}},
	{"complexity complex mismatch", func(f *fixture) {
		f.del(invoiceFile, "schema", "properties", "seller", "properties", "address", "properties", "geo")
	}, []string{"catalog/edgejson/shop.invoice.json: $.complexity:", `complexity "complex" needs 15+ fields, nesting 3+, at least one array; measured 12 fields, nesting 2, arrays: yes`}},
	{"unknown complexity", func(f *fixture) { f.set(invoiceFile, "hard", "complexity") },
		[]string{"catalog/edgejson/shop.invoice.json: $.complexity:", `complexity "hard" must be simple, medium or complex`}},
}

var layoutCases = []loadCase{
	{"stray file in a task directory", func(f *fixture) { f.raw["edgejson/notes.txt"] = "todo" },
		[]string{"catalog/edgejson/notes.txt:", "unexpected file", "only .json catalog files"}},
	{"stray file at the root", func(f *fixture) { f.raw["README.md"] = "# catalog" },
		[]string{"catalog/README.md:", "unexpected file", "the catalog root holds only"}},
	{"nested directory", func(f *fixture) { f.raw["edgeintent/old/assistant-50.json"] = "{}" },
		[]string{"catalog/edgeintent/old:", "unexpected directory"}},
	{"missing task directory", func(f *fixture) {
		for _, file := range []string{contactFile, orderFile, invoiceFile} {
			delete(f.docs, file)
		}
	}, []string{"catalog/edgejson:", "missing directory"}},
	{"missing irrelevant.json", func(f *fixture) { delete(f.docs, irrFile) },
		[]string{"catalog/edgefunccall/irrelevant.json:", "missing file"}},
}

func TestLoadFSBroken(t *testing.T) {
	groups := map[string][]loadCase{"edgejson": schemaCases, "edgeintent": intentCases, "edgefunccall": funcCases, "layout": layoutCases}
	for group, cases := range groups {
		for _, tc := range cases {
			t.Run(group+"/"+tc.name, func(t *testing.T) {
				f := newFixture(t)
				tc.mutate(f)
				c, err := LoadFS(f.fs())
				if err == nil {
					t.Fatalf("LoadFS succeeded (%d schemas), want a problem containing %q", len(c.Schemas), tc.want)
				}
				if findProblem(err, tc.want...) == nil {
					t.Fatalf("no problem contains all of %q; got:\n%v", tc.want, err)
				}
			})
		}
	}
}

// TestLoadFSCollectsAll checks that problems of several files come back
// together, sorted by file and then by path in numeric order.
func TestLoadFSCollectsAll(t *testing.T) {
	f := newFixture(t)
	f.set(taxFile, "", "classes", 10, "description")
	f.set(taxFile, "", "classes", 2, "description")
	f.set(lightsFile, "update", "functions", 0, "mock", "op")
	f.del(contactFile, "schema", "properties", "vip", "description")
	_, err := LoadFS(f.fs())
	ps := problemsOf(err)
	var got []string
	for _, p := range ps {
		got = append(got, p.File+" "+p.Path)
	}
	want := []string{
		"catalog/edgefunccall/lights.json $.functions[0].mock.op",
		"catalog/edgeintent/assistant-50.json $.classes[2].description",
		"catalog/edgeintent/assistant-50.json $.classes[10].description",
		"catalog/edgejson/shop.contact.json $.schema.properties.vip",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s\nerror: %v", strings.Join(got, "\n"), strings.Join(want, "\n"), err)
	}
	if !strings.HasPrefix(err.Error(), "catalog has 4 problems:\n") {
		t.Errorf("error does not start with the count: %q", err.Error())
	}
}
