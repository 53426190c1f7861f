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
