package generator

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/cyclecore/mlmforge/generator/internal/words"
)

// dedupVocab is a synthetic vocabulary big enough that random texts share
// almost no 3-word shingles.
func dedupVocab(n int) []string {
	words := make([]string, n)
	for i := range words {
		words[i] = fmt.Sprintf("w%dx", i)
	}
	return words
}

// randomText draws n words from vocab.
func randomText(rng *rand.Rand, vocab []string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = vocab[rng.IntN(len(vocab))]
	}
	return out
}

// trueJaccard is the exact shingle Jaccard the Deduper confirms with.
func trueJaccard(a, b string) float64 {
	return jaccard(shingleHashes(words.Tokens(a)), shingleHashes(words.Tokens(b)))
}

// editWords replaces k words of base at distinct random positions.
func editWords(rng *rand.Rand, vocab, base []string, k int) []string {
	out := append([]string(nil), base...)
	for _, p := range rng.Perm(len(out))[:k] {
		out[p] = vocab[rng.IntN(len(vocab))]
	}
	return out
}

func TestDedupPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := dedupVocab(5000)
	base := randomText(rng, vocab, 60)
	// One edit in 60 words: 58 shingles, 3 changed, J = 55/61 = 0.90.
	near := editWords(rng, vocab, base, 1)
	// The last third rewritten: 38 shingles shared of 58, J = 38/78 = 0.49.
	far := append(append([]string(nil), base[:40]...), randomText(rng, vocab, 20)...)
	baseText, nearText, farText := strings.Join(base, " "), strings.Join(near, " "), strings.Join(far, " ")
	jNear, jFar := trueJaccard(baseText, nearText), trueJaccard(baseText, farText)
	if jNear < 0.85 || jNear > 0.92 || jFar < 0.45 || jFar > 0.55 {
		t.Fatalf("fixture Jaccards %.2f and %.2f, want ~0.88 and ~0.5", jNear, jFar)
	}
	tests := []struct {
		name      string
		threshold float64
		text      string
		want      RejectReason
	}{
		{"exact after normalization", 0, "  " + strings.ToUpper(baseText) + "!!", RejectExactDup},
		{fmt.Sprintf("near at %.2f", jNear), 0, nearText, RejectNearDup},
		{fmt.Sprintf("far at %.2f", jFar), 0, farText, ""},
		{"unrelated", 0, strings.Join(randomText(rng, vocab, 60), " "), ""},
		{"far flagged at threshold 0.45", 0.45, farText, RejectNearDup},
		{"near not flagged at threshold 0.95", 0.95, nearText, ""},
		{"short texts: exact only", 0, "turn on the light", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDeduper(tc.threshold, 7)
			d.Add("base", baseText)
			d.Add("short", "turn on the lights")
			dup, reason := d.Check(tc.text)
			if reason != tc.want || (reason != "" && dup != "base") {
				t.Errorf("Check = %q, %q; want base, %q", dup, reason, tc.want)
			}
		})
	}
}

func TestDedupRecall(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vocab := dedupVocab(20000)
	d := NewDeduper(0.8, 42)
	type pair struct {
		id, variant string
	}
	var pairs []pair
	for i := 0; len(pairs) < 1000; i++ {
		base := randomText(rng, vocab, 40+rng.IntN(40))
		variant := editWords(rng, vocab, base, 1+rng.IntN(2))
		b, v := strings.Join(base, " "), strings.Join(variant, " ")
		if trueJaccard(b, v) < 0.85 {
			continue
		}
		id := fmt.Sprintf("b%d", i)
		d.Add(id, b)
		pairs = append(pairs, pair{id, v})
	}
	found := 0
	for _, p := range pairs {
		if dup, reason := d.Check(p.variant); reason == RejectNearDup && dup == p.id {
			found++
		}
	}
	if recall := float64(found) / float64(len(pairs)); recall < 0.98 {
		t.Errorf("recall %.3f (%d/%d) at true Jaccard >= 0.85, want >= 0.98", recall, found, len(pairs))
	}
	if d.Len() != 1000 {
		t.Errorf("Len = %d, want 1000", d.Len())
	}
}

func TestDedupFalsePositives(t *testing.T) {
	// Pairs just under the threshold share an LSH band almost always (at 0.45
	// with 42 bands of 3 rows, 98% of them); the exact Jaccard confirmation
	// must turn every one of them down.
	rng := rand.New(rand.NewPCG(5, 6))
	vocab := dedupVocab(20000)
	d := NewDeduper(0.5, 1)
	var variants []string
	for i := range 500 {
		base := randomText(rng, vocab, 60)
		// 38 words kept: 36 of 58 shingles shared, J = 36/80 = 0.45.
		variant := append(append([]string(nil), base[:38]...), randomText(rng, vocab, 22)...)
		d.Add(fmt.Sprint("b", i), strings.Join(base, " "))
		variants = append(variants, strings.Join(variant, " "))
	}
	for i, v := range variants {
		if dup, reason := d.Check(v); reason != "" {
			t.Fatalf("variant %d reported as %s of %s at Jaccard 0.45 (threshold 0.5)", i, reason, dup)
		}
	}
}

func TestDedupDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	vocab := dedupVocab(300)
	var texts []string
	for range 3000 {
		texts = append(texts, strings.Join(randomText(rng, vocab, 8+rng.IntN(8)), " "))
	}
	run := func(seed uint64) string {
		d := NewDeduper(0.5, seed)
		var log strings.Builder
		for i, text := range texts {
			dup, reason := d.Check(text)
			fmt.Fprintf(&log, "%s:%s;", dup, reason)
			if reason == "" {
				d.Add(fmt.Sprint(i), text)
			}
		}
		return log.String()
	}
	if run(11) != run(11) {
		t.Error("same seed, different results")
	}
}

func TestDedupConcurrent(t *testing.T) {
	d := NewDeduper(0.8, 1)
	texts := benchTexts(400)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(texts); i += 4 {
				if _, reason := d.Check(texts[i]); reason == "" {
					d.Add(fmt.Sprint(i), texts[i])
				}
			}
		})
	}
	wg.Wait()
	// benchTexts makes every tenth text a near duplicate of the one before, so
	// at most 360 are kept; which ones depends on the interleaving.
	if n := d.Len(); n < 300 || n > 400 {
		t.Errorf("Len = %d after concurrent use, want 300-400", n)
	}
}

func TestDedupBands(t *testing.T) {
	tests := []struct {
		threshold   float64
		rows, bands int
	}{
		{0.8, 6, 21},
		{0.5, 3, 42},
		{0.95, 16, 8},
		{1, 128, 1},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.threshold), func(t *testing.T) {
			if r, b := lshBands(tc.threshold); r != tc.rows || b != tc.bands {
				t.Errorf("lshBands(%v) = %d rows x %d bands, want %d x %d", tc.threshold, r, b, tc.rows, tc.bands)
			}
		})
	}
}

// benchTexts makes n short texts in the shape of generated inputs: templated
// requests with slot values, a few of them near duplicates.
func benchTexts(n int) []string {
	rng := rand.New(rand.NewPCG(9, 10))
	vocab := dedupVocab(3000)
	out := make([]string, n)
	for i := range out {
		out[i] = "please " + strings.Join(randomText(rng, vocab, 8+rng.IntN(12)), " ") + fmt.Sprintf(" at %d:%02d", rng.IntN(12)+1, rng.IntN(60))
		if i > 0 && i%10 == 0 {
			out[i] = out[i-1] + " thanks"
		}
	}
	return out
}

func BenchmarkDeduper(b *testing.B) {
	const n = 100_000
	texts := benchTexts(n)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint("ex", i)
	}
	for b.Loop() {
		d := NewDeduper(0.8, 1)
		for i, text := range texts {
			if _, reason := d.Check(text); reason == "" {
				d.Add(ids[i], text)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/text")
}

func TestNormalizeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Turn ON the lights!", "turn on the lights"},
		{"  turn   on\tthe\nlights ", "turn on the lights"},
		{"Don't  stop", "dont stop"},
		{"Don’t stop", "dont stop"},
		{"Café — Zürich", "cafe zurich"},
		{"STRASSE vs Straße", "strasse vs strasse"},
		{"$19.99, please...", "19 99 please"},
		{"", ""},
		{"!!!", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := NormalizeText(tc.in); got != tc.want {
				t.Errorf("NormalizeText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
