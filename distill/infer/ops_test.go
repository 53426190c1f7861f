package infer

import (
	"math/rand/v2"
	"testing"
)

// TestRopeTableApply checks the vectorized rotation against the scalar loop it
// replaced, bit for bit, at every position of a table, with head widths whose halves
// take the vector loop, its tail, or both, and the values after the heads untouched.
func TestRopeTableApply(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, hd := range []int{4, 18, 32, 64, 80} {
		const heads, maxSeq = 3, 40
		tab := newRopeTable(maxSeq, hd, 10000)
		half := hd / 2
		for pos := 0; pos < maxSeq; pos++ {
			v := make([]float32, heads*hd+5)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			want := append([]float32(nil), v...)
			for h := 0; h < heads; h++ {
				for i := 0; i < half; i++ {
					c, s := tab.cos[pos*half+i], tab.sin[pos*half+i]
					a, b := want[h*hd+i], want[h*hd+half+i]
					want[h*hd+i] = float32(a*c) - float32(b*s)
					want[h*hd+half+i] = float32(b*c) + float32(a*s)
				}
			}
			tab.apply(v, heads, pos)
			for i := range v {
				if v[i] != want[i] {
					t.Fatalf("hd %d pos %d: v[%d] = %v, want %v", hd, pos, i, v[i], want[i])
				}
			}
		}
	}
}
