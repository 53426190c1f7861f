package generator

import (
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/cyclecore/mlmforge/generator/internal/words"
)

// NormalizeText is the exact-duplicate key of a text: lowercased, diacritics
// removed, apostrophes dropped and every run of whitespace or punctuation
// collapsed to one space. "Turn ON the lights!" and "turn on the lights" share it.
func NormalizeText(s string) string { return strings.Join(words.Tokens(s), " ") }

// MinHash parameters. 128 hash functions estimate Jaccard similarity within
// about ±0.04; shingles of 3 words make a one-word edit in a 20-word text
// drop the similarity to about 0.7, so paraphrases survive and copies do not.
const (
	numPerms    = 128
	shingleSize = 3
	// lshRecall is the probability that a pair at exactly the threshold shares
	// a band and becomes a candidate; pairs above it are found more often still.
	lshRecall = 0.99
)

// Deduper finds exact and near duplicates among texts. Near duplicates are
// pairs whose sets of word 3-gram shingles have Jaccard similarity >= the
// threshold. MinHash signatures and LSH banding propose candidates in about
// constant time per text; each candidate is confirmed with the exact Jaccard
// of the two shingle sets (64-bit shingle hashes), so a reported near
// duplicate is never a hashing accident. Texts of fewer than three words
// form one shingle of all their words: they are near duplicates only when
// their words are identical, which the exact key already catches.
//
// It is deterministic for a seed and safe for concurrent use.
type Deduper struct {
	mu        sync.Mutex
	threshold float64
	rows      int // rows per band
	bands     int
	mulA      [numPerms]uint64 // hash function i is x -> mulA[i]*x + addB[i] (mod 2^64)
	addB      [numPerms]uint64
	exact     map[string]int32
	buckets   map[uint64]int32 // band key -> newest slot (doc*bands + band) in that bucket
	next      []int32          // next[slot]: the previous slot of the same bucket, or -1
	ids       []string
	shingles  [][]uint64 // sorted distinct shingle hashes per document
	stamp     []uint32   // stamp[doc] == epoch: already a candidate in this Check
	epoch     uint32
	last      dedupSketch // the sketch of the text last checked, reused by Add
}

// dedupSketch is everything a Deduper computes from one text.
type dedupSketch struct {
	text, key string
	shingles  []uint64
	bandKeys  []uint64
}

// NewDeduper returns an empty deduper. threshold is the Jaccard similarity at
// which a text is a near duplicate (0.8 if <= 0); seed picks the hash functions.
func NewDeduper(threshold float64, seed uint64) *Deduper {
	if threshold <= 0 {
		threshold = 0.8
	}
	threshold = math.Min(threshold, 1)
	d := &Deduper{threshold: threshold, exact: map[string]int32{}, buckets: map[uint64]int32{}}
	d.rows, d.bands = lshBands(threshold)
	state := seed ^ 0x6a09e667f3bcc909
	for i := range numPerms {
		d.mulA[i] = splitmix64(&state) | 1
		d.addB[i] = splitmix64(&state)
	}
	return d
}

// lshBands picks the banding for a threshold: the most rows per band (the
// fewest false candidates) such that a pair at the threshold still becomes a
// candidate with probability lshRecall, 1-(1-t^r)^b with b = 128/r bands.
// For 0.8 that is 21 bands of 6 rows: 0.998 at 0.8, 0.99996 at 0.85.
func lshBands(t float64) (rows, bands int) {
	for r := numPerms; r >= 1; r-- {
		b := numPerms / r
		if 1-math.Pow(1-math.Pow(t, float64(r)), float64(b)) >= lshRecall {
			return r, b
		}
	}
	return 1, numPerms
}

// Len returns the number of texts added.
func (d *Deduper) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.ids)
}

// Check returns the id of a text already added that text duplicates, and
// RejectExactDup or RejectNearDup; ("", "") when text is unique. Among
// several near duplicates it names the most similar, the earliest on ties.
func (d *Deduper) Check(text string) (dupOf string, reason RejectReason) {
	d.mu.Lock()
	defer d.mu.Unlock()
	sk := d.sketch(text)
	if i, ok := d.exact[sk.key]; ok {
		return d.ids[i], RejectExactDup
	}
	d.epoch++
	if d.epoch == 0 { // wrapped: old stamps could collide with new epochs
		clear(d.stamp)
		d.epoch = 1
	}
	best, bestJ := int32(-1), -1.0
	for _, key := range sk.bandKeys {
		for slot, ok := d.buckets[key]; ok && slot >= 0; slot = d.next[slot] {
			doc := slot / int32(d.bands)
			if d.stamp[doc] == d.epoch {
				continue
			}
			d.stamp[doc] = d.epoch
			j := jaccard(sk.shingles, d.shingles[doc])
			if j >= d.threshold-1e-12 && (j > bestJ || (j == bestJ && doc < best)) {
				best, bestJ = doc, j
			}
		}
	}
	if best < 0 {
		return "", ""
	}
	return d.ids[best], RejectNearDup
}

// Add records text under id. Adding does not check: call Check first.
func (d *Deduper) Add(id, text string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	sk := d.sketch(text)
	doc := int32(len(d.ids))
	d.ids = append(d.ids, id)
	d.shingles = append(d.shingles, sk.shingles)
	d.stamp = append(d.stamp, 0)
	if _, dup := d.exact[sk.key]; !dup {
		d.exact[sk.key] = doc
	}
	for band, key := range sk.bandKeys {
		slot := doc*int32(d.bands) + int32(band)
		head, ok := d.buckets[key]
		if !ok {
			head = -1
		}
		d.next = append(d.next, head)
		d.buckets[key] = slot
	}
}

// sketch computes (or reuses, for Check then Add of the same text) the
// exact key, shingle set and band keys of a text. Empty texts have no
// shingles and no band keys: they can only be exact duplicates.
func (d *Deduper) sketch(text string) dedupSketch {
	if d.last.bandKeys != nil && d.last.text == text {
		return d.last
	}
	toks := words.Tokens(text)
	sk := dedupSketch{text: text, key: strings.Join(toks, " "), shingles: shingleHashes(toks), bandKeys: []uint64{}}
	if len(sk.shingles) > 0 {
		var sig [numPerms]uint64
		for i := range sig {
			sig[i] = math.MaxUint64
		}
		for _, x := range sk.shingles {
			for i := range sig {
				if h := d.mulA[i]*x + d.addB[i]; h < sig[i] {
					sig[i] = h
				}
			}
		}
		sk.bandKeys = make([]uint64, d.bands)
		for b := range d.bands {
			h := uint64(b+1) * 0x9e3779b97f4a7c15
			for _, v := range sig[b*d.rows : (b+1)*d.rows] {
				h = mix64(h ^ v)
			}
			sk.bandKeys[b] = h
		}
	}
	d.last = sk
	return sk
}

// shingleHashes hashes the word 3-grams of toks (one shingle of all words
// when there are fewer than three), sorted and distinct.
func shingleHashes(toks []string) []uint64 {
	if len(toks) == 0 {
		return nil
	}
	n := min(shingleSize, len(toks))
	out := make([]uint64, 0, len(toks)-n+1)
	for i := 0; i+n <= len(toks); i++ {
		h := uint64(14695981039346656037) // FNV-1a offset basis
		for _, t := range toks[i : i+n] {
			for j := 0; j < len(t); j++ {
				h = (h ^ uint64(t[j])) * 1099511628211
			}
			h = (h ^ 0x1f) * 1099511628211 // word separator
		}
		out = append(out, mix64(h))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// jaccard is |a ∩ b| / |a ∪ b| of two sorted distinct sets.
func jaccard(a, b []uint64) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// mix64 is the splitmix64 finalizer: a cheap bijection that spreads every
// input bit over the output, so FNV's weak low bits do not bias MinHash.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// splitmix64 draws the next value of a seeded sequence.
func splitmix64(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	return mix64(*state)
}
