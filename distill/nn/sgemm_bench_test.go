package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cyclecore/mlmforge/internal/kernels"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// sgemmFunc is one SGEMM implementation under comparison (row-major).
type sgemmFunc struct {
	name string
	f    func(tA, tB blas.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int)
}

// sgemms are the implementations BenchmarkSGEMM compares; the openblas build adds
// OpenBLAS (sgemm_openblas_bench_test.go).
var sgemms = []sgemmFunc{
	{"kernels", func(tA, tB blas.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
		kernels.Sgemm(tA == blas.Trans, tB == blas.Trans, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
	}},
	{"gonum", func(tA, tB blas.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
		gonum.Implementation{}.Sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
	}},
}

// BenchmarkSGEMM reports single-thread GFLOP/s of internal/kernels' SGEMM (the
// default build's), gonum's and, with -tags openblas, OpenBLAS's, shape by shape so
// that the three run side by side (M x K x N; NN, and NT/TN as the linear layers'
// forward and weight gradient use them):
//
//	GOMAXPROCS=1 go test -tags openblas -run '^$' -bench SGEMM ./distill/nn/
func BenchmarkSGEMM(b *testing.B) {
	shapes := [][3]int{{1024, 256, 256}, {1024, 256, 1024}, {1024, 1024, 256}, {32, 576, 576}, {1024, 256, 8192}}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tr := range []string{"NN", "NT", "TN"} {
		tA, tB := blas.NoTrans, blas.NoTrans
		if tr == "TN" {
			tA = blas.Trans
		}
		if tr == "NT" {
			tB = blas.Trans
		}
		for _, s := range shapes {
			m, k, n := s[0], s[1], s[2]
			a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
			for i := range a {
				a[i] = rng.Float32()
			}
			for i := range bb {
				bb[i] = rng.Float32()
			}
			lda, ldb := k, n
			if tA == blas.Trans {
				lda = m
			}
			if tB == blas.Trans {
				ldb = k
			}
			for _, impl := range sgemms {
				b.Run(fmt.Sprintf("%s/%dx%dx%d/%s", tr, m, k, n, impl.name), func(b *testing.B) {
					for b.Loop() {
						impl.f(tA, tB, m, n, k, a, lda, bb, ldb, c, n)
					}
					b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
