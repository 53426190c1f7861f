package kernels

import (
	"fmt"
	"testing"
)

// benchShapes are the M x K x N products of the table: the student's linear
// layers at batch*seq = 1024 rows (d 256, ff 1024, vocab 8192) and a 32-row product at
// d = 576.
var benchShapes = [][3]int{{1024, 256, 256}, {1024, 256, 1024}, {1024, 1024, 256}, {32, 576, 576}, {1024, 256, 8192}}

// BenchmarkSgemm reports single-thread GFLOP/s of each kernel set and gonum (NN, and
// NT/TN for the linear layers' forward and weight gradient):
//
//	go test -run '^$' -bench Sgemm ./internal/kernels/
func BenchmarkSgemm(b *testing.B) {
	for _, tr := range []string{"NN", "NT", "TN"} {
		for _, s := range benchShapes {
			for _, ks := range allSets() {
				m, k, n := s[0], s[1], s[2]
				b.Run(fmt.Sprintf("%s/%dx%dx%d/%s", tr, m, k, n, name(ks)), func(b *testing.B) {
					g := gemmCase{tA: tr == "TN", tB: tr == "NT", m: m, n: n, k: k, alpha: 1}
					a, lda, bb, ldb, c, ldc := g.operands()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						sgemmWith(ks, 1, g.tA, g.tB, m, n, k, 1, a, lda, bb, ldb, 0, c, ldc)
					}
					b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkAdamW compares the AVX2 AdamW update with the scalar loop on 1M values.
func BenchmarkAdamW(b *testing.B) {
	n := 1 << 20
	p, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range p {
		p[i], g[i], v[i] = 1, float32(i%7)-3, 0.5
	}
	h := AdamWParams{Beta1: 0.9, C1: 0.1, Beta2: 0.999, C2: 0.001, Decay: 0.9999, StepSize: 1e-3, InvBC2: 1, Eps: 1e-8}
	for _, vec := range []bool{true, false} {
		b.Run(fmt.Sprintf("vector=%t", vec), func(b *testing.B) {
			defer func(old bool) { setVec(old) }(setVec(vec))
			for i := 0; i < b.N; i++ {
				AdamW(p, g, m, v, h)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/value")
		})
	}
}

// BenchmarkExpSub compares the vector and scalar exponentials on a vocabulary row.
func BenchmarkExpSub(b *testing.B) {
	x := make([]float32, 8192)
	for i := range x {
		x[i] = float32(i%100) / 10
	}
	for _, vec := range []bool{true, false} {
		b.Run(fmt.Sprintf("vector=%t", vec), func(b *testing.B) {
			defer func(old bool) { setVec(old) }(setVec(vec))
			for i := 0; i < b.N; i++ {
				ExpSub(x, x, 0.001)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/value")
		})
	}
}
