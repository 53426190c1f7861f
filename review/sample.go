package review

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"

	"github.com/cyclecore/mlmforge/datasets"
)

// SampleRule sizes the review sample. Zero fields take the defaults.
type SampleRule struct {
	// Fraction of each stratum to review, in (0, 1]; default 0.10.
	Fraction float64 `json:"fraction"`
	// MinPerCell is the least a stratum contributes (capped at its size); default 1.
	MinPerCell int `json:"min_per_cell"`
}

// Defaults of SampleRule.
const (
	DefaultFraction   = 0.10
	DefaultMinPerCell = 1
)

func (r SampleRule) withDefaults() SampleRule {
	if r.Fraction <= 0 {
		r.Fraction = DefaultFraction
	}
	if r.Fraction > 1 {
		r.Fraction = 1
	}
	if r.MinPerCell <= 0 {
		r.MinPerCell = DefaultMinPerCell
	}
	return r
}

// Take is how many of a stratum of n records the rule samples:
// ceil(Fraction*n), at least MinPerCell, at most n.
func (r SampleRule) Take(n int) int {
	if n <= 0 {
		return 0
	}
	r = r.withDefaults()
	// 0.07*100 is 7.000000000000001 in floating point: an exact product must not round up.
	k := int(math.Ceil(r.Fraction*float64(n) - 1e-9))
	return min(max(k, r.MinPerCell), n)
}

// SelectSample picks the records to review and returns their ids. Records are
// stratified by (split, cell) so that every cell of every split is seen; each
// stratum of n records gives rule.Take(n) of them. Within a stratum records
// are ranked by the hex sha256 of their id, ascending, and the first are
// taken: the sample is a pseudo-random one that depends only on the ids, not
// on the input order or on any seed, so a rerun of the review picks the same
// records. The ids come sorted by (split, cell, rank). Ids are assumed unique
// within a version; a repeated id is counted once.
func SelectSample(recs []datasets.Record, rule SampleRule) []string {
	type ranked struct{ split, cell, hash, id string }
	seen := make(map[string]bool, len(recs))
	all := make([]ranked, 0, len(recs))
	for _, r := range recs {
		if seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		sum := sha256.Sum256([]byte(r.ID))
		all = append(all, ranked{r.Split, r.Cell, hex.EncodeToString(sum[:]), r.ID})
	}
	slices.SortFunc(all, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(a.split, b.split), cmp.Compare(a.cell, b.cell),
			cmp.Compare(a.hash, b.hash), cmp.Compare(a.id, b.id))
	})
	var ids []string
	for lo := 0; lo < len(all); {
		hi := lo + 1
		for hi < len(all) && all[hi].split == all[lo].split && all[hi].cell == all[lo].cell {
			hi++
		}
		for _, r := range all[lo : lo+rule.Take(hi-lo)] {
			ids = append(ids, r.id)
		}
		lo = hi
	}
	return ids
}
