package generator

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cyclecore/mlmforge/schemas"
)

// Spec is everything that determines a dataset: the same Spec, catalog and
// generator versions give the same examples, ids and files.
type Spec struct {
	// Task is the task to generate.
	Task schemas.Task `json:"task"`
	// Variant selects the label set: for EdgeIntent a taxonomy id or size
	// ("50", "assistant-50"); for EdgeFuncCall the number of functions ("" = all);
	// unused for EdgeJSON.
	Variant string `json:"variant,omitempty"`
	// Counts is the number of examples per split, e.g. {"train": 2000, "test": 1000}.
	Counts map[string]int `json:"counts"`
	// Teacher is "builtin" or "ollama:<model>".
	Teacher string `json:"teacher"`
	// Seed drives every random choice.
	Seed int64 `json:"seed"`
	// Mode is label-first (default) or teacher-labels.
	Mode Mode `json:"mode"`
	// Temperature and MaxTokens are passed to model teachers.
	Temperature float64 `json:"temperature"`
	MaxTokens   int     `json:"max_tokens"`
	// NearDupThreshold is the Jaccard similarity (word shingles) at or above
	// which two inputs count as near duplicates.
	NearDupThreshold float64 `json:"near_dup_threshold"`
	// MinInputChars and MaxInputChars bound input length.
	MinInputChars int `json:"min_input_chars"`
	MaxInputChars int `json:"max_input_chars"`
	// RoundTrip asks the teacher to re-extract each target from its own text.
	RoundTrip bool `json:"round_trip,omitempty"`
	// AttemptFactor caps attempts per cell and split at AttemptFactor x quota + 8.
	AttemptFactor int `json:"attempt_factor"`
	// HoldoutTemplates is the share, in [0, 1), of the builtin teacher's
	// phrasing templates and of the value pools reserved for the test split
	// (0, the default: none). The test split then uses only reserved ones
	// and every other split none, so that a test score measures
	// generalization to unseen phrasings and values, not template recall
	// (docs/holdout.md). Omitted at 0, so older spec hashes stay valid.
	HoldoutTemplates float64 `json:"holdout_templates,omitempty"`
}

// WithDefaults fills unset fields with the defaults.
func (s Spec) WithDefaults() Spec {
	if s.Mode == "" {
		s.Mode = LabelFirst
	}
	if s.Teacher == "" {
		s.Teacher = "builtin"
	}
	if s.NearDupThreshold <= 0 {
		s.NearDupThreshold = 0.8
	}
	if s.MinInputChars <= 0 {
		s.MinInputChars = 8
	}
	if s.MaxInputChars <= 0 {
		s.MaxInputChars = 4000
	}
	if s.MaxTokens <= 0 {
		s.MaxTokens = 512
	}
	if s.AttemptFactor <= 0 {
		s.AttemptFactor = 6
	}
	return s
}

// Validate checks a spec (with defaults applied) and names the bad field.
func (s Spec) Validate() error {
	if _, err := schemas.ParseTask(string(s.Task)); err != nil {
		return fmt.Errorf("task: %w", err)
	}
	if len(s.Counts) == 0 {
		return errors.New("counts: no split has examples")
	}
	// Sorted, so the first bad split named is the same on every replay.
	//workflowcheck:ignore
	for _, split := range slices.Sorted(maps.Keys(s.Counts)) {
		if n := s.Counts[split]; n < 0 {
			return fmt.Errorf("counts: split %s has %d examples", split, n)
		}
	}
	if s.Mode != LabelFirst && s.Mode != TeacherLabels {
		return fmt.Errorf("mode %q: want %s or %s", s.Mode, LabelFirst, TeacherLabels)
	}
	if s.NearDupThreshold > 1 {
		return fmt.Errorf("near_dup_threshold %g: must be in (0, 1]", s.NearDupThreshold)
	}
	if s.MinInputChars > s.MaxInputChars {
		return fmt.Errorf("min_input_chars %d > max_input_chars %d", s.MinInputChars, s.MaxInputChars)
	}
	return s.validateHoldout()
}

// Hash is the spec hash: sha256 over the spec, the catalog and the generator
// versions, so any change to what would be generated changes it.
func (s Spec) Hash(catalogHash string) string {
	b, _ := json.Marshal(struct {
		Spec      Spec   `json:"spec"`
		Catalog   string `json:"catalog"`
		Generator string `json:"generator"`
	}{s, catalogHash, GeneratorVersion})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// GeneratorVersion changes when sampling, validation or id derivation change
// (gen-v2: two properties of one object no longer share a string value).
const GeneratorVersion = "gen-v2"

// Splits returns the spec's split names with a positive count, test first (so
// that the held-out split claims its examples before train), then by name.
func (s Spec) Splits() []string {
	var out []string
	for k, n := range s.Counts {
		if n > 0 {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i] == "test") != (out[j] == "test") {
			return out[i] == "test"
		}
		return out[i] < out[j]
	})
	return out
}

// CellQuota is a cell with its target count per split.
type CellQuota struct {
	Cell  Cell           `json:"cell"`
	Quota map[string]int `json:"quota"`
}

// Plan lists a spec's cells and quotas.
type Plan struct {
	Spec     Spec        `json:"spec"`
	SpecHash string      `json:"spec_hash"`
	Variant  string      `json:"variant"`
	Cells    []CellQuota `json:"cells"`
}

// Total is the number of examples a split needs.
func (p *Plan) Total(split string) int {
	n := 0
	for _, c := range p.Cells {
		n += c.Quota[split]
	}
	return n
}

// NewPlan resolves the spec's cells from the catalog and spreads each split's
// count over them: evenly, with the remainder going to cells in a seeded order.
func NewPlan(cat *schemas.Catalog, spec Spec) (*Plan, error) {
	spec = spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	var (
		cells   []Cell
		weights []float64
		variant string
		err     error
	)
	switch spec.Task {
	case schemas.EdgeJSON:
		cells, variant, err = jsonCells(cat, spec.Variant)
	case schemas.EdgeIntent:
		cells, variant, err = intentCells(cat, spec.Variant)
	case schemas.EdgeFuncCall:
		cells, weights, variant, err = funcCells(cat, spec.Variant, spec.Seed)
	}
	if err != nil {
		return nil, err
	}
	p := &Plan{Spec: spec, SpecHash: spec.Hash(cat.Hash), Variant: variant}
	for _, c := range cells {
		p.Cells = append(p.Cells, CellQuota{Cell: c, Quota: map[string]int{}})
	}
	for _, split := range spec.Splits() {
		counts := spread(spec.Counts[split], weights, len(cells), seedFor(spec.Seed, "quota", split))
		for i, n := range counts {
			p.Cells[i].Quota[split] = n
		}
	}
	if spec.HoldoutTemplates > 0 {
		p.Cells = holdoutCells(p.Cells, spec.HoldoutTemplates)
	}
	return p, nil
}

// jsonCells lists the EdgeJSON schemas of a variant: "" (every level) or one
// complexity level ("simple", "medium", "complex"), e.g. for the seed's
// EdgeJSON-simple student.
func jsonCells(cat *schemas.Catalog, level string) ([]Cell, string, error) {
	variant := "edgejson"
	switch level {
	case "", "all":
		level = ""
	case string(schemas.Simple), string(schemas.Medium), string(schemas.Complex):
		variant += "-" + level
	default:
		return nil, "", fmt.Errorf("variant %q: want simple, medium, complex or empty (all levels)", level)
	}
	var cells []Cell
	for _, s := range cat.Schemas {
		if level == "" || string(s.Complexity) == level {
			cells = append(cells, Cell{Key: s.ID, Task: schemas.EdgeJSON, Variant: variant, SchemaID: s.ID, Complexity: s.Complexity})
		}
	}
	return cells, variant, nil
}

func intentCells(cat *schemas.Catalog, variant string) ([]Cell, string, error) {
	if variant == "" {
		variant = "50"
	}
	tax, err := cat.Taxonomy(variant)
	if err != nil {
		return nil, "", fmt.Errorf("variant: %w", err)
	}
	var cells []Cell
	for _, c := range tax.Classes {
		cells = append(cells, Cell{Key: c.ID, Task: schemas.EdgeIntent, Variant: tax.ID, Taxonomy: tax.ID, Class: c.ID})
	}
	return cells, tax.ID, nil
}

// scenarioWeights is the EdgeFuncCall mix: most examples are plain calls, the
// rest exercise dialogue state and error recovery.
var scenarioWeights = map[schemas.Scenario]float64{
	schemas.SingleTurn:   0.40,
	schemas.MultiTurn:    0.20,
	schemas.MissingParam: 0.15,
	schemas.InvalidValue: 0.15,
	schemas.Irrelevant:   0.10,
}

// funcCells makes one cell per applicable (function, scenario) pair plus one
// irrelevant cell; weights spread each scenario's share evenly over its cells.
func funcCells(cat *schemas.Catalog, variant string, seed int64) ([]Cell, []float64, string, error) {
	fns := make([]string, len(cat.Functions))
	for i, f := range cat.Functions {
		fns[i] = f.Name
	}
	if variant != "" {
		n, err := strconv.Atoi(variant)
		if err != nil || n < 1 || n > len(fns) {
			return nil, nil, "", fmt.Errorf("variant %q: EdgeFuncCall takes a number of functions (1-%d)", variant, len(fns))
		}
		if n < len(fns) {
			r := rand.New(rand.NewPCG(uint64(seedFor(seed, "functions", "")), 0))
			r.Shuffle(len(fns), func(i, j int) { fns[i], fns[j] = fns[j], fns[i] })
			fns = fns[:n]
			sort.Strings(fns)
		}
	}
	label := fmt.Sprintf("funccall-%d", len(fns))
	byScenario := map[schemas.Scenario][]Cell{}
	for _, sc := range schemas.Scenarios {
		if sc == schemas.Irrelevant {
			byScenario[sc] = []Cell{{Key: "irrelevant", Task: schemas.EdgeFuncCall, Variant: label, Scenario: sc}}
			continue
		}
		for _, fn := range fns {
			if ScenarioApplicable(cat, fn, sc) {
				byScenario[sc] = append(byScenario[sc], Cell{Key: fn + "/" + string(sc), Task: schemas.EdgeFuncCall,
					Variant: label, Function: fn, Scenario: sc})
			}
		}
	}
	var cells []Cell
	var weights []float64
	for _, sc := range schemas.Scenarios {
		for _, c := range byScenario[sc] {
			cells = append(cells, c)
			weights = append(weights, scenarioWeights[sc]/float64(len(byScenario[sc])))
		}
	}
	return cells, weights, label, nil
}

// spread divides total over n cells in proportion to weights (nil = equal) by
// largest remainder; ties go to cells in a seeded order, so quotas are exact,
// deterministic and never favour the catalog's first entries.
func spread(total int, weights []float64, n int, seed int64) []int {
	if n == 0 {
		return nil
	}
	if weights == nil {
		weights = make([]float64, n)
		for i := range weights {
			weights[i] = 1
		}
	}
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	out := make([]int, n)
	rem := make([]float64, n)
	given := 0
	for i, w := range weights {
		exact := float64(total) * w / sum
		out[i] = int(exact)
		rem[i] = exact - float64(out[i])
		given += out[i]
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	r.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case rem[a] > rem[b]+1e-12:
			return -1
		case rem[b] > rem[a]+1e-12:
			return 1
		}
		return 0
	})
	for k := 0; given < total; k++ {
		out[order[k%n]]++
		given++
	}
	return out
}

// seedFor derives a sub-seed from the run seed and labels, so every cell,
// split and attempt has its own reproducible stream.
func seedFor(seed int64, labels ...string) int64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(strings.Join(labels, "\x00")))
	return int64(binary.LittleEndian.Uint64(h.Sum(nil)[:8]))
}

// AttemptSeed is the seed of one attempt at one cell and split.
func AttemptSeed(spec Spec, cell, split string, attempt int) int64 {
	return seedFor(spec.Seed, "attempt", cell, split, strconv.Itoa(attempt))
}

// ExampleID derives an example's id from the spec hash, cell, split and
// attempt: a retried or resumed batch rewrites the same ids.
func ExampleID(specHash, cell, split string, attempt int) string {
	sum := sha256.Sum256([]byte(specHash + "\x00" + cell + "\x00" + split + "\x00" + strconv.Itoa(attempt)))
	return hex.EncodeToString(sum[:10])
}

// QuotaItems is one batch item per cell and split with a quota, each allowed
// AttemptFactor tries per record (plus 8): the whole plan as a single round.
func (p *Plan) QuotaItems() []Item {
	var items []Item
	for i, c := range p.Cells {
		for _, split := range p.Spec.Splits() {
			if q := c.Quota[split]; q > 0 {
				items = append(items, Item{Cell: i, Split: split, Need: q, MaxAttempt: p.Spec.AttemptFactor*q + 8})
			}
		}
	}
	return items
}
