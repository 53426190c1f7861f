//go:build openblas

package nn

// Linking OpenBLAS here means `go build -tags openblas` needs no CGO_LDFLAGS; the
// Debian package is libopenblas-dev.

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int num_threads);
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// init routes every GEMM of the ops (and the rest of gonum in this binary) to OpenBLAS
// through gonum's cgo bindings, single-threaded: OpenBLAS's own threads busy-wait, and
// on a 2-core machine running two of them beside the ops' goroutines (attention runs
// one GEMM per head on each core) made a step several times slower. The ops split
// their large GEMMs across goroutines instead (gemmRows).
func init() {
	C.openblas_set_num_threads(1)
	blas32.Use(netlib.Implementation{})
	blas64.Use(netlib.Implementation{})
}
