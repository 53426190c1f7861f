package generator

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/cyclecore/mlmforge/generator/lexicon"
)

// slotP is the probability that an intent slot is mentioned in an utterance.
const slotP = 0.7

// sampleIntent samples an EdgeIntent target: the cell's class and values for
// a random subset of its slots. The teacher picks the wording (and may use a
// pattern); the sampler only decides what the utterance must mention.
//
// In a held-out run values come from the side's part of the lexicon lists
// and of the class's slot value lists.
func (ts *targetSampler) sampleIntent(cell Cell, r *rand.Rand, src lexicon.Source) (Sample, error) {
	tax, err := ts.cat.Taxonomy(cell.Taxonomy)
	if err != nil {
		return Sample{}, err
	}
	var slots map[string]string
	found := false
	for _, c := range tax.Classes {
		if c.ID != cell.Class {
			continue
		}
		found = true
		for _, s := range c.Slots {
			if r.Float64() >= slotP {
				continue
			}
			var v string
			if s.Gen != "" {
				if v, err = src.Value(s.Gen, r); err != nil {
					return Sample{}, fmt.Errorf("class %s slot %s: %w", c.ID, s.Name, err)
				}
			} else if len(s.Values) > 0 {
				v = src.Pick(r, lexicon.NSValue, "slot-value:"+tax.ID+"/"+c.ID+"/"+s.Name, s.Values)
			} else {
				continue
			}
			if slots == nil {
				slots = map[string]string{}
			}
			slots[s.Name] = v
		}
		break
	}
	if !found {
		return Sample{}, fmt.Errorf("taxonomy %s has no class %q", tax.ID, cell.Class)
	}
	b, err := json.Marshal(IntentTarget{Intent: cell.Class, Slots: slots})
	if err != nil {
		return Sample{}, fmt.Errorf("encode intent target: %w", err)
	}
	return Sample{Cell: cell, Target: b, Slots: slots}, nil
}
