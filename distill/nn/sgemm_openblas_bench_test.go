//go:build openblas

package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
)

// init adds OpenBLAS (single-threaded by openblas.go) to BenchmarkSGEMM.
func init() {
	sgemms = append(sgemms, sgemmFunc{"openblas", func(tA, tB blas.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
		netlib.Implementation{}.Sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
	}})
}
