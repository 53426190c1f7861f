package generator

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/cyclecore/mlmforge/generator/lexicon"
	"github.com/cyclecore/mlmforge/schemas"
)

// ErrScenarioNotApplicable is returned (wrapped) by SampleTarget for a
// function-calling cell whose scenario the function cannot have: missing_param
// without required parameters, invalid_value without a constrained one,
// multi_turn without a coherent dialogue. ScenarioApplicable gives the same
// answer without sampling, so that plans never contain such cells.
var ErrScenarioNotApplicable = errors.New("scenario not applicable")

// SampleTarget samples the gold target of one example of cell (label first)
// and what a teacher needs to write its input. All randomness comes from r,
// so a seeded r gives byte-identical samples. Every sampled target is
// validated against the catalog before it is returned; a failure there is a
// sampler bug, not bad luck.
//
// A cell of a held-out run (Cell.Holdout) draws values from the side's part
// of every value list: reserved values for the test split's cells
// (Cell.HeldOut), the others otherwise; irrelevant requests likewise.
func SampleTarget(cat *schemas.Catalog, cell Cell, r *rand.Rand) (Sample, error) {
	return SampleTargetTrace(cat, cell, r, nil)
}

// SampleTargetTrace samples as SampleTarget does; trace, if set, sees every
// value and request drawn from a list (holdout audits replay records with it).
func SampleTargetTrace(cat *schemas.Catalog, cell Cell, r *rand.Rand, trace func(lexicon.Draw)) (Sample, error) {
	ts, err := samplerFor(cat)
	if err != nil {
		return Sample{}, err
	}
	src := cell.HoldoutSource(trace)
	switch cell.Task {
	case schemas.EdgeJSON:
		return ts.sampleJSON(cell, r, src)
	case schemas.EdgeIntent:
		return ts.sampleIntent(cell, r, src)
	case schemas.EdgeFuncCall:
		return ts.sampleFuncCall(cell, r, src)
	}
	return Sample{}, fmt.Errorf("cell %q: unknown task %q", cell.Key, cell.Task)
}

// ScenarioApplicable reports whether SampleTarget can sample the scenario sc
// for function (empty for irrelevant, which needs no function). It agrees with
// SampleTarget: true means no ErrScenarioNotApplicable.
func ScenarioApplicable(cat *schemas.Catalog, function string, sc schemas.Scenario) bool {
	ts, err := samplerFor(cat)
	if err != nil {
		return false
	}
	if sc == schemas.Irrelevant {
		return function == "" && len(cat.Irrelevant) > 0
	}
	fi, ok := ts.funcs[function]
	if !ok {
		return false
	}
	switch sc {
	case schemas.SingleTurn:
		return true
	case schemas.MissingParam:
		return len(fi.required) > 0
	case schemas.InvalidValue:
		return len(fi.breakable) > 0
	case schemas.MultiTurn:
		return len(fi.dialogues) > 0
	}
	return false
}

// targetSampler holds a catalog's schemas parsed for sampling and the
// dialogue shapes of every function, built once per catalog.
type targetSampler struct {
	cat     *schemas.Catalog
	schemas map[string]*valueNode
	funcs   map[string]*funcInfo
}

// funcInfo is a catalog function prepared for sampling.
type funcInfo struct {
	fn     *schemas.Function
	params *valueNode
	// required lists the required top-level parameters, sorted.
	required []string
	// breakable lists the top-level parameters a stated value can break, sorted.
	breakable []string
	// dialogues are the multi_turn shapes that call fn.
	dialogues []dialogueShape
}

// targetSamplers caches one sampler per catalog; catalogs are read-only once
// loaded and schemas.Load shares one, so the cache stays small.
var targetSamplers sync.Map // *schemas.Catalog -> func() (*targetSampler, error)

func samplerFor(cat *schemas.Catalog) (*targetSampler, error) {
	if cat == nil {
		return nil, errors.New("sample target: nil catalog")
	}
	v, ok := targetSamplers.Load(cat)
	if !ok {
		v, _ = targetSamplers.LoadOrStore(cat, sync.OnceValues(func() (*targetSampler, error) { return newTargetSampler(cat) }))
	}
	return v.(func() (*targetSampler, error))()
}

func newTargetSampler(cat *schemas.Catalog) (*targetSampler, error) {
	ts := &targetSampler{cat: cat, schemas: map[string]*valueNode{}, funcs: map[string]*funcInfo{}}
	for _, s := range cat.Schemas {
		n, err := parseValueNode(s.Schema)
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", s.ID, err)
		}
		ts.schemas[s.ID] = n
	}
	for _, f := range cat.Functions {
		n, err := parseValueNode(f.Parameters)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		}
		fi := &funcInfo{fn: f, params: n, required: n.requiredNames()}
		for _, p := range n.props {
			if breakable(p) {
				fi.breakable = append(fi.breakable, p.name)
			}
		}
		ts.funcs[f.Name] = fi
	}
	ts.planDialogues()
	return ts, nil
}
