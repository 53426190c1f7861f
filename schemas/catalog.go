package schemas

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Catalog is the loaded, validated set of all three task catalogs. A Catalog
// is read-only once loaded: Load shares one between all callers, so it is safe
// for concurrent use and must not be modified.
type Catalog struct {
	// Schemas are the EdgeJSON schemas, sorted by ID.
	Schemas []*JSONSchema
	// Taxonomies are the EdgeIntent taxonomies, sorted by number of classes (50, 100, 200).
	Taxonomies []*Taxonomy
	// Domains are the EdgeFuncCall function domains, sorted by Domain.
	Domains []*FunctionDomain
	// Functions are all functions of all domains, sorted by Name, with Domain and File filled in.
	Functions []*Function
	// Irrelevant are the EdgeFuncCall requests that no function serves.
	Irrelevant []string
	// Hash is the sha256 (hex) over every catalog file's path and content: it
	// changes whenever any catalog file does, so it goes into dataset spec hashes.
	Hash string

	schemaByID      map[string]*JSONSchema
	taxonomyByID    map[string]*Taxonomy
	functionByName  map[string]*Function
	compiledSchemas map[string]*jsonschema.Schema
	compiledParams  map[string]*jsonschema.Schema
	// paramKinds holds each function's Summary.ParamTypes categories, one per parameter.
	paramKinds map[string][]string
}

// newCatalog returns an empty catalog for the loader to fill.
func newCatalog() *Catalog {
	return &Catalog{
		compiledSchemas: map[string]*jsonschema.Schema{},
		compiledParams:  map[string]*jsonschema.Schema{},
		paramKinds:      map[string][]string{},
	}
}

// index sorts the catalog's lists and builds its lookup maps.
func (c *Catalog) index() {
	sort.Slice(c.Schemas, func(i, j int) bool { return c.Schemas[i].ID < c.Schemas[j].ID })
	sort.Slice(c.Taxonomies, func(i, j int) bool { return len(c.Taxonomies[i].Classes) < len(c.Taxonomies[j].Classes) })
	sort.Slice(c.Domains, func(i, j int) bool { return c.Domains[i].Domain < c.Domains[j].Domain })
	sort.Slice(c.Functions, func(i, j int) bool { return c.Functions[i].Name < c.Functions[j].Name })
	c.schemaByID = map[string]*JSONSchema{}
	for _, s := range c.Schemas {
		c.schemaByID[s.ID] = s
	}
	c.taxonomyByID = map[string]*Taxonomy{}
	for _, t := range c.Taxonomies {
		c.taxonomyByID[t.ID] = t
	}
	c.functionByName = map[string]*Function{}
	for _, f := range c.Functions {
		c.functionByName[f.Name] = f
	}
}

// Schema returns the EdgeJSON schema with the given id, e.g. "ecommerce.order_summary".
func (c *Catalog) Schema(id string) (*JSONSchema, error) {
	if s, ok := c.schemaByID[id]; ok {
		return s, nil
	}
	return nil, unknownName("schema", id, slices.Sorted(maps.Keys(c.schemaByID)))
}

// Taxonomy returns an EdgeIntent taxonomy by id ("assistant-50") or by size ("50").
func (c *Catalog) Taxonomy(ref string) (*Taxonomy, error) {
	ref = strings.TrimSpace(ref)
	if t, ok := c.taxonomyByID[ref]; ok {
		return t, nil
	}
	if n, err := strconv.Atoi(ref); err == nil {
		for _, t := range c.Taxonomies {
			if len(t.Classes) == n {
				return t, nil
			}
		}
	}
	ids := make([]string, len(c.Taxonomies))
	sizes := make([]string, len(c.Taxonomies))
	for i, t := range c.Taxonomies {
		ids[i], sizes[i] = t.ID, strconv.Itoa(len(t.Classes))
	}
	return nil, fmt.Errorf("unknown taxonomy %q: use an id (%s) or a size (%s)",
		ref, strings.Join(ids, ", "), strings.Join(sizes, ", "))
}

// Function returns the EdgeFuncCall function with the given name.
func (c *Catalog) Function(name string) (*Function, error) {
	if f, ok := c.functionByName[name]; ok {
		return f, nil
	}
	return nil, unknownName("function", name, slices.Sorted(maps.Keys(c.functionByName)))
}

// CompiledSchema returns the compiled JSON Schema of an EdgeJSON schema, ready
// to validate extracted objects.
func (c *Catalog) CompiledSchema(id string) (*jsonschema.Schema, error) {
	if _, err := c.Schema(id); err != nil {
		return nil, err
	}
	return c.compiledSchemas[id], nil
}

// CompiledParameters returns the compiled parameter schema of a function,
// ready to validate call arguments.
func (c *Catalog) CompiledParameters(name string) (*jsonschema.Schema, error) {
	if _, err := c.Function(name); err != nil {
		return nil, err
	}
	return c.compiledParams[name], nil
}

// Summary counts a catalog's contents for `mlmforge catalog ls`.
type Summary struct {
	// SchemasByLevel counts EdgeJSON schemas per complexity level.
	SchemasByLevel map[Complexity]int
	// SchemasByDomain counts EdgeJSON schemas per domain.
	SchemasByDomain map[string]int
	// Taxonomies maps each taxonomy id to its number of classes.
	Taxonomies map[string]int
	// FunctionsByDomain counts functions per function domain.
	FunctionsByDomain map[string]int
	// ParamTypes counts function parameters (at every level) by kind: string,
	// integer, number, boolean, enum, array, date-time and object. Enums count as
	// "enum" whatever their type, strings with format date-time as "date-time".
	ParamTypes map[string]int
	// Irrelevant is the number of irrelevant requests.
	Irrelevant int
}

// Summary counts the catalog's contents.
func (c *Catalog) Summary() Summary {
	s := Summary{
		SchemasByLevel:    map[Complexity]int{},
		SchemasByDomain:   map[string]int{},
		Taxonomies:        map[string]int{},
		FunctionsByDomain: map[string]int{},
		ParamTypes:        map[string]int{},
		Irrelevant:        len(c.Irrelevant),
	}
	for _, sc := range c.Schemas {
		s.SchemasByLevel[sc.Complexity]++
		s.SchemasByDomain[sc.Domain]++
	}
	for _, t := range c.Taxonomies {
		s.Taxonomies[t.ID] = len(t.Classes)
	}
	for _, f := range c.Functions {
		s.FunctionsByDomain[f.Domain]++
		for _, k := range c.paramKinds[f.Name] {
			s.ParamTypes[k]++
		}
	}
	return s
}

// unknownName builds the error for a name that is not in the catalog: it
// lists the closest valid names so that a typo is fixed without a second look-up.
func unknownName(kind, name string, valid []string) error {
	if len(valid) == 0 {
		return fmt.Errorf("unknown %s %q: the catalog has none", kind, name)
	}
	const shown = 5
	closest := slices.Clone(valid)
	sort.SliceStable(closest, func(i, j int) bool {
		return similarity(name, closest[i]) < similarity(name, closest[j])
	})
	if len(closest) > shown {
		closest = closest[:shown]
	}
	return fmt.Errorf("unknown %s %q: closest are %s (%d in all, see `mlmforge catalog ls`)",
		kind, name, strings.Join(closest, ", "), len(valid))
}

// similarity ranks a candidate for a mistyped name: substring matches first,
// then by edit distance.
func similarity(name, cand string) int {
	d := levenshtein(strings.ToLower(name), strings.ToLower(cand))
	if name != "" && strings.Contains(cand, name) {
		d -= 1000
	}
	return d
}

// EditDistance is the Levenshtein distance between a and b, counted in bytes
// (the names it compares are ASCII); "did you mean" hints use it.
func EditDistance(a, b string) int { return levenshtein(a, b) }

// levenshtein is the edit distance between a and b (bytes; names are ASCII).
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
