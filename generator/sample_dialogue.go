package generator

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"

	"github.com/cyclecore/mlmforge/generator/lexicon"
	"github.com/cyclecore/mlmforge/schemas"
)

// Dialogue families, from the most to the least dependent. A multi_turn
// sample first picks a family (by weight, among those its function has), then
// a length, then a shape.
const (
	// familyRecord: a create, then 1-2 calls on the created record, which the
	// user calls "it" (TurnPlan.Refs; the gold argument is its MockID).
	familyRecord = "record"
	// familyKey: calls on one record of a collection keyed by a natural key
	// (a room, a SKU), which every turn states again.
	familyKey = "key"
	// familyWriteRead: a create, then a read of the same collection.
	familyWriteRead = "write-read"
	// familyShared: two calls of one domain that share an argument value
	// (a read first: "what's the balance of Savings" then a transfer from it).
	familyShared = "shared"
)

// familyWeights favour the families whose later turns depend on earlier
// calls: carrying state across turns is what multi_turn tests.
var familyWeights = map[string]float64{familyRecord: 3, familyKey: 2, familyWriteRead: 2, familyShared: 1}

// dialogueShape is one multi_turn dialogue: the function of each turn and how
// its arguments depend on earlier turns.
type dialogueShape struct {
	family string
	steps  []dialogueStep
}

// dialogueStep is one turn of a shape.
type dialogueStep struct {
	fi *funcInfo
	// refs maps a parameter to the earlier turn whose created record it names.
	refs map[string]int
	// share maps a parameter to the earlier turn's argument whose value it repeats.
	share map[string]argSource
}

// argSource names an argument of an earlier turn.
type argSource struct {
	turn  int
	param string
}

// sampleDialogue samples a multi_turn dialogue that calls fi.
func (ts *targetSampler) sampleDialogue(fi *funcInfo, r *rand.Rand, src lexicon.Source) ([]TurnPlan, []GoldTurn, error) {
	sh := chooseShape(fi.dialogues, r)
	n := len(sh.steps)
	plans, gold := make([]TurnPlan, n), make([]GoldTurn, n)
	created := make([]string, n)
	creates := map[string]int{}
	args := make([]map[string]any, n)
	for i, st := range sh.steps {
		preset := map[string]any{}
		for p, t := range st.refs {
			if created[t] == "" {
				return nil, nil, fmt.Errorf("dialogue shape: turn %d refers to turn %d, which creates nothing", i, t)
			}
			preset[p] = created[t]
		}
		for p, src := range st.share {
			if v, ok := args[src.turn][src.param]; ok {
				preset[p] = v
			}
		}
		force := map[string]bool{}
		for p := range st.share {
			force[p] = true
		}
		// A shared argument of turn 0 must exist so that the later turn can repeat it.
		for _, later := range sh.steps[i+1:] {
			for _, src := range later.share {
				if src.turn == i {
					force[src.param] = true
				}
			}
		}
		a, err := ts.sampleArgs(st.fi, r, src, preset, force)
		if err != nil {
			return nil, nil, fmt.Errorf("turn %d: %w", i+1, err)
		}
		args[i] = a
		if m := st.fi.fn.Mock; m.Op == schemas.MockCreate {
			creates[m.Collection]++
			created[i] = MockID(m.Collection, creates[m.Collection])
		}
		stated := maps.Clone(a)
		for p := range st.refs {
			delete(stated, p)
		}
		plans[i] = TurnPlan{Function: st.fi.fn.Name, Args: stated, Refs: maps.Clone(st.refs)}
		gold[i] = GoldTurn{Action: ActionCall, Calls: []Call{{Name: st.fi.fn.Name, Arguments: a}}}
	}
	return plans, gold, nil
}

// chooseShape picks a family by weight, then a length (two turns 60% of the
// time), then a shape.
func chooseShape(shapes []dialogueShape, r *rand.Rand) dialogueShape {
	byFamily := map[string][]dialogueShape{}
	for _, sh := range shapes {
		byFamily[sh.family] = append(byFamily[sh.family], sh)
	}
	families := slices.Sorted(maps.Keys(byFamily))
	total := 0.0
	for _, f := range families {
		total += familyWeights[f]
	}
	x := r.Float64() * total
	fam := families[len(families)-1]
	for _, f := range families {
		if x -= familyWeights[f]; x < 0 {
			fam = f
			break
		}
	}
	cands := byFamily[fam]
	var two, three []dialogueShape
	for _, sh := range cands {
		if len(sh.steps) == 2 {
			two = append(two, sh)
		} else {
			three = append(three, sh)
		}
	}
	if len(two) > 0 && len(three) > 0 {
		cands = three
		if r.Float64() < 0.6 {
			cands = two
		}
	}
	return cands[r.IntN(len(cands))]
}
