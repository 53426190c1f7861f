//go:build openblas

package nn

// Linking OpenBLAS here means `go build -tags openblas` needs no CGO_LDFLAGS; the
// Debian package is libopenblas-dev.

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int num_threads);
import "C"

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// init routes every GEMM of the ops (and the rest of gonum in this binary) to OpenBLAS
// through gonum's cgo bindings, single-threaded: OpenBLAS's own threads busy-wait, and
// on a 2-core machine running two of them beside the ops' goroutines (attention runs
// one GEMM per head on each core) made a step several times slower. The large GEMMs
// are split across goroutines by rows of c instead (splitRows).
func init() {
	C.openblas_set_num_threads(1)
	blas32.Use(netlib.Implementation{})
	blas64.Use(netlib.Implementation{})
	sgemm, sgemmName = openblasSgemm, "openblas"
}

// openblasSgemm has the signature of kernels.SgemmN: one OpenBLAS call per block of
// rows when threads > 1.
func openblasSgemm(threads int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	one := func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		ta, tb := blas.NoTrans, blas.NoTrans
		if tA {
			ta = blas.Trans
		}
		if tB {
			tb = blas.Trans
		}
		blas32.Implementation().Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	if threads <= 1 {
		one(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	splitRows(one, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
