package generator

import (
	"encoding/json"
	"sort"

	"github.com/cyclecore/mlmforge/datasets"
)

// sortRecords orders records for the merge: round, split order (test first),
// cell order in the plan, then attempt. Earlier rounds come first, so a record
// kept once is never displaced by a later near duplicate.
func sortRecords(p *Plan, recs []datasets.Record) {
	cellOf := p.CellIndex()
	cellIdx := func(r datasets.Record) int { i, _ := cellOf(r.Cell, r.Split); return i }
	splitIdx := map[string]int{}
	for i, s := range p.Spec.Splits() {
		splitIdx[s] = i
	}
	metas := make(map[string]ExampleMeta, len(recs))
	for _, r := range recs {
		var m ExampleMeta
		_ = json.Unmarshal([]byte(r.Meta), &m)
		metas[r.ID] = m
	}
	sort.SliceStable(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		ma, mb := metas[a.ID], metas[b.ID]
		switch {
		case ma.Round != mb.Round:
			return ma.Round < mb.Round
		case splitIdx[a.Split] != splitIdx[b.Split]:
			return splitIdx[a.Split] < splitIdx[b.Split]
		case cellIdx(a) != cellIdx(b):
			return cellIdx(a) < cellIdx(b)
		}
		return ma.Attempt < mb.Attempt
	})
}

// Selection is the outcome of merging every shard of a run.
type Selection struct {
	// Records are the kept examples in merge order.
	Records []datasets.Record
	// Kept counts kept examples per cell index and split.
	Kept []map[string]int
	// Stats counts the duplicates dropped across batches.
	Stats Stats
}

// Select merges the candidates of all batches: it drops exact and near
// duplicates across the whole run (across splits too, so train and test never
// share a near duplicate) and keeps at most each cell's quota per split. It is
// deterministic: the same candidates give the same selection.
func Select(p *Plan, candidates []datasets.Record) Selection {
	recs := append([]datasets.Record(nil), candidates...)
	sortRecords(p, recs)
	cellOf := p.CellIndex()
	sel := Selection{Kept: make([]map[string]int, len(p.Cells))}
	for i := range sel.Kept {
		sel.Kept[i] = map[string]int{}
	}
	dedup := NewDeduper(p.Spec.NearDupThreshold, uint64(p.Spec.Seed))
	seen := map[string]bool{}
	for _, r := range recs {
		ci, ok := cellOf(r.Cell, r.Split)
		if !ok || seen[r.ID] || sel.Kept[ci][r.Split] >= p.Cells[ci].Quota[r.Split] {
			continue // unknown cell, a retried batch's copy, or surplus over the quota
		}
		if dup, reason := dedup.Check(r.Input); reason != "" {
			sel.Stats.reject(RejectSample{Cell: r.Cell, Reason: reason, Detail: "duplicate of " + dup + " in another batch", Raw: r.Input})
			continue
		}
		seen[r.ID] = true
		dedup.Add(r.ID, r.Input)
		sel.Kept[ci][r.Split]++
		sel.Records = append(sel.Records, r)
	}
	return sel
}

// Deficits lists the cells and splits still short of their quota.
func (s Selection) Deficits(p *Plan) []Item {
	var out []Item
	for i, c := range p.Cells {
		for _, split := range p.Spec.Splits() {
			if need := c.Quota[split] - s.Kept[i][split]; need > 0 {
				out = append(out, Item{Cell: i, Split: split, Need: need})
			}
		}
	}
	return out
}
