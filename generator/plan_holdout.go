package generator

import (
	"fmt"
	"maps"
	"math"

	"github.com/cyclecore/mlmforge/generator/lexicon"
)

// HoldoutSplit is the split that uses only the reserved templates and values
// of a held-out run (Spec.HoldoutTemplates).
const HoldoutSplit = "test"

// TestSplitStandard is TestSplitKind of a run without held-out templates: its
// test split comes from the same templates and value pools as train.
const TestSplitStandard = "standard"

// validateHoldout checks Spec.HoldoutTemplates.
func (s Spec) validateHoldout() error {
	h := s.HoldoutTemplates
	switch {
	case h == 0:
		return nil
	case math.IsNaN(h) || h < 0 || h >= 1:
		return fmt.Errorf("holdout_templates %g: must be in [0, 1) (0.25 reserves a quarter of the templates and values for the test split)", h)
	case s.Counts[HoldoutSplit] <= 0:
		return fmt.Errorf("holdout_templates %g: the spec has no %s split to hold them out for (counts.%s)", h, HoldoutSplit, HoldoutSplit)
	case s.Mode != LabelFirst:
		return fmt.Errorf("holdout_templates %g: needs mode %s (with %s the teacher picks the values)", h, LabelFirst, s.Mode)
	}
	return nil
}

// TestSplitKind names the kind of a spec's test split, for the dataset
// manifest (datasets.Manifest.TestSplit) and the reports that quote a test
// score: "standard" (same templates and values as train), "template-held-out
// 25%" (the builtin teacher: templates and values held out) or
// "value-held-out 25%" (a model teacher, whose phrasing is its own: only the
// value pools are held out). It is "" for a spec without a test split.
func TestSplitKind(s Spec) string {
	switch {
	case s.Counts[HoldoutSplit] <= 0:
		return ""
	case s.HoldoutTemplates <= 0:
		return TestSplitStandard
	case s.WithDefaults().Teacher == "builtin":
		return fmt.Sprintf("template-held-out %.3g%%", 100*s.HoldoutTemplates)
	}
	return fmt.Sprintf("value-held-out %.3g%%", 100*s.HoldoutTemplates)
}

// holdoutCells gives every cell of a held-out run a twin: the cell keeps the
// quotas of every split but the test split and never uses a reserved
// template or value; the twin (HeldOut) holds the test quota and uses only
// reserved ones. Both keep the cell's Key, so records name their cell as in
// any other run; Plan.CellIndex tells them apart by split.
func holdoutCells(cells []CellQuota, share float64) []CellQuota {
	out := make([]CellQuota, 0, 2*len(cells))
	for _, c := range cells {
		open := CellQuota{Cell: c.Cell, Quota: maps.Clone(c.Quota)}
		open.Cell.Holdout = share
		delete(open.Quota, HoldoutSplit)
		held := CellQuota{Cell: c.Cell, Quota: map[string]int{HoldoutSplit: c.Quota[HoldoutSplit]}}
		held.Cell.Holdout, held.Cell.HeldOut = share, true
		out = append(out, open, held)
	}
	return out
}

// CellIndex returns a lookup from a record's cell key and split to the index
// of its cell in p.Cells (false when no cell has the key). A key names one
// cell, except in a held-out run, where it names two: the HeldOut twin for
// the test split and the other for every other split.
func (p *Plan) CellIndex() func(key, split string) (int, bool) {
	byKey := make(map[string]int, len(p.Cells))
	held := map[string]int{}
	for i, c := range p.Cells {
		if c.Cell.HeldOut {
			held[c.Cell.Key] = i
			continue
		}
		byKey[c.Cell.Key] = i
	}
	return func(key, split string) (int, bool) {
		if i, ok := held[key]; ok && split == HoldoutSplit {
			return i, true
		}
		i, ok := byKey[key]
		return i, ok
	}
}

// HoldoutSource returns the side of a held-out split the cell writes for: a
// source that draws values and templates from the side's part of every list.
// Teachers draw their templates from it so that the test split's phrasings stay
// unseen in training; trace, if set, sees every draw (holdout audits).
func (c Cell) HoldoutSource(trace func(lexicon.Draw)) lexicon.Source {
	return lexicon.Source{Holdout: lexicon.Holdout{Share: c.Holdout, Test: c.HeldOut}, Trace: trace}
}
