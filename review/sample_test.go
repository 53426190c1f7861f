package review

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
)

// stratum builds n records of one (split, cell).
func stratum(split, cell string, n int) []datasets.Record {
	out := make([]datasets.Record, n)
	for i := range out {
		out[i] = datasets.Record{ID: fmt.Sprintf("%s-%s-%04d", split, cell, i), Task: "edgeintent", Split: split, Cell: cell,
			Input: fmt.Sprintf("input %d", i), Target: `{"intent":"` + cell + `"}`}
	}
	return out
}

// countBy counts sampled ids by (split, cell) using the records' own columns.
func countBy(recs []datasets.Record, ids []string) map[[2]string]int {
	byID := map[string]datasets.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	out := map[[2]string]int{}
	for _, id := range ids {
		r := byID[id]
		out[[2]string{r.Split, r.Cell}]++
	}
	return out
}

func hashOf(id string) string {
	s := sha256.Sum256([]byte(id))
	return hex.EncodeToString(s[:])
}

func TestSampleRuleTake(t *testing.T) {
	tests := []struct {
		rule SampleRule
		n    int
		want int
	}{
		{SampleRule{}, 0, 0},
		{SampleRule{}, 1, 1},
		{SampleRule{}, 9, 1},
		{SampleRule{}, 10, 1},
		{SampleRule{}, 11, 2},
		{SampleRule{}, 30, 3},
		{SampleRule{Fraction: 0.07}, 100, 7}, // 0.07*100 is 7.000000000000001 in floating point
		{SampleRule{Fraction: 0.07}, 101, 8},
		{SampleRule{}, 95, 10},
		{SampleRule{}, 100, 10},
		{SampleRule{Fraction: 0.25}, 1, 1},
		{SampleRule{Fraction: 0.25}, 4, 1},
		{SampleRule{Fraction: 0.25}, 8, 2},
		{SampleRule{Fraction: 0.25}, 9, 3},
		{SampleRule{Fraction: 0.25}, 10, 3},
		{SampleRule{MinPerCell: 3}, 2, 2},
		{SampleRule{MinPerCell: 3}, 20, 3},
		{SampleRule{MinPerCell: 3}, 50, 5},
		{SampleRule{Fraction: 2}, 7, 7},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v/n=%d", tc.rule, tc.n), func(t *testing.T) {
			if got := tc.rule.Take(tc.n); got != tc.want {
				t.Fatalf("Take(%d) = %d, want %d", tc.n, got, tc.want)
			}
		})
	}
}

func TestSelectSampleCounts(t *testing.T) {
	sizes := map[[2]string]int{
		{"test", "a"}: 1, {"test", "b"}: 9, {"test", "c"}: 10, {"train", "a"}: 11, {"train", "b"}: 95, {"train", "c"}: 30,
	}
	var recs []datasets.Record
	var keys [][2]string
	for k := range sizes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		recs = append(recs, stratum(k[0], k[1], sizes[k])...)
	}
	tests := []struct {
		name string
		rule SampleRule
		want map[[2]string]int
	}{
		{"default 10%", SampleRule{}, map[[2]string]int{
			{"test", "a"}: 1, {"test", "b"}: 1, {"test", "c"}: 1, {"train", "a"}: 2, {"train", "b"}: 10, {"train", "c"}: 3}},
		{"25%", SampleRule{Fraction: 0.25}, map[[2]string]int{
			{"test", "a"}: 1, {"test", "b"}: 3, {"test", "c"}: 3, {"train", "a"}: 3, {"train", "b"}: 24, {"train", "c"}: 8}},
		{"min 2 per cell", SampleRule{MinPerCell: 2}, map[[2]string]int{
			{"test", "a"}: 1, {"test", "b"}: 2, {"test", "c"}: 2, {"train", "a"}: 2, {"train", "b"}: 10, {"train", "c"}: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids := SelectSample(recs, tc.rule)
			got := countBy(recs, ids)
			for _, k := range keys {
				if got[k] != tc.want[k] {
					t.Errorf("stratum %v: %d sampled, want %d", k, got[k], tc.want[k])
				}
				if got[k] == 0 {
					t.Errorf("stratum %v is not represented", k)
				}
			}
			if len(got) != len(keys) {
				t.Errorf("%d strata sampled, want %d", len(got), len(keys))
			}
		})
	}
}

func TestSelectSampleDeterministicRankAndOrder(t *testing.T) {
	recs := append(append(stratum("train", "b", 40), stratum("test", "z", 25)...), stratum("train", "a", 12)...)
	ids := SelectSample(recs, SampleRule{Fraction: 0.25})

	t.Run("same input same ids", func(t *testing.T) {
		if again := SelectSample(recs, SampleRule{Fraction: 0.25}); !slices.Equal(ids, again) {
			t.Fatalf("second run differs:\n%v\n%v", ids, again)
		}
	})
	t.Run("input order does not matter", func(t *testing.T) {
		for seed := range uint64(5) {
			shuffled := slices.Clone(recs)
			rand.New(rand.NewPCG(seed, 7)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if got := SelectSample(shuffled, SampleRule{Fraction: 0.25}); !slices.Equal(ids, got) {
				t.Fatalf("shuffle %d: ids differ:\n%v\n%v", seed, ids, got)
			}
		}
	})
	t.Run("lowest sha256 of each stratum", func(t *testing.T) {
		st := stratum("train", "b", 40)
		hashes := make([]string, len(st))
		for i, r := range st {
			hashes[i] = hashOf(r.ID)
		}
		slices.Sort(hashes)
		var got []string
		for _, id := range ids {
			if id[:len("train-b-")] == "train-b-" {
				got = append(got, hashOf(id))
			}
		}
		if !slices.Equal(got, hashes[:10]) {
			t.Fatalf("train/b sample hashes %v, want the 10 lowest %v", got, hashes[:10])
		}
	})
	t.Run("sorted by split, cell, rank", func(t *testing.T) {
		byID := map[string]datasets.Record{}
		for _, r := range recs {
			byID[r.ID] = r
		}
		key := func(id string) string { r := byID[id]; return r.Split + "\x00" + r.Cell + "\x00" + hashOf(id) }
		if !slices.IsSortedFunc(ids, func(a, b string) int { return strings.Compare(key(a), key(b)) }) {
			t.Fatalf("ids not sorted by (split, cell, rank): %v", ids)
		}
		if first := byID[ids[0]]; first.Split != "test" {
			t.Fatalf("first id %s is from split %s, want test", ids[0], first.Split)
		}
	})
	t.Run("repeated id counted once", func(t *testing.T) {
		dup := append(slices.Clone(recs), recs[0], recs[1])
		if got := SelectSample(dup, SampleRule{Fraction: 0.25}); !slices.Equal(ids, got) {
			t.Fatalf("duplicates changed the sample:\n%v\n%v", ids, got)
		}
	})
	t.Run("empty", func(t *testing.T) {
		if got := SelectSample(nil, SampleRule{}); len(got) != 0 {
			t.Fatalf("sample of nothing: %v", got)
		}
	})
}
