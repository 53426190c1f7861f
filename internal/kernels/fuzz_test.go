package kernels

import "testing"

// FuzzSgemm checks every kernel set against the float64 reference on fuzzed shapes,
// transposes, paddings, alpha/beta and thread counts. The seed corpus is in
// testdata/fuzz/FuzzSgemm; run more with
//
//	go test -run '^$' -fuzz FuzzSgemm -fuzztime 60s ./internal/kernels/
func FuzzSgemm(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(1), uint8(0), uint8(0), int8(1), int8(0), uint16(1))
	f.Add(uint8(13), uint8(33), uint8(7), uint8(3), uint8(5), int8(2), int8(1), uint16(2))
	f.Fuzz(func(t *testing.T, m, n, k, flags, pad uint8, alpha, beta int8, seed uint16) {
		g := gemmCase{
			tA: flags&1 != 0, tB: flags&2 != 0,
			m: int(m % 80), n: int(n%80) + int(flags>>6)*200, k: int(k % 100),
			padA: int(pad & 3), padB: int(pad >> 2 & 3), padC: int(pad >> 4 & 3),
			alpha: float32(alpha) / 4, beta: float32(beta) / 4,
			threads: 1 + int(flags>>2&3), seed: int(seed),
		}
		g.nanC = g.beta == 0 && flags&16 != 0
		g.check(t, supported()...)
	})
}
