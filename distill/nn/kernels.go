package nn

import (
	"math"
	"runtime"
	"sync"

	"github.com/cyclecore/mlmforge/internal/kernels"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// float is the element type of every kernel: float32 for training, float64 for the
// finite-difference gradient checks, which need the extra precision.
type float interface{ ~float32 | ~float64 }

// gemm computes c = alpha * op(a) op(b) + beta * c on row-major slices with leading
// dimensions, where op transposes when the flag is set, on the calling goroutine. The
// transposes are flags of the packed kernel, never copies: this is why the ops keep
// weights in the [out, in] layout.
func gemm[T float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch av := any(a).(type) {
	case []float32:
		sgemm(1, tA, tB, m, n, k, float32(alpha), av, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		dgemm(tA, tB, m, n, k, float64(alpha), av, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// sgemm is the float32 GEMM on up to threads goroutines: internal/kernels' packed
// AVX-512/AVX2 SGEMM by default, OpenBLAS in the openblas build (openblas.go).
var sgemm = kernels.SgemmN

// sgemmName names sgemm for GEMMImplementation.
var sgemmName = kernels.Implementation()

// GEMMImplementation names the float32 GEMM the ops run on: "avx512", "avx2", "go",
// "gonum" (see kernels.Implementation) or "openblas".
func GEMMImplementation() string { return sgemmName }

// dgemm is gonum's float64 GEMM, used only by the finite-difference gradient checks.
func dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	blas64.Implementation().Dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmRows is gemm on every worker: float32 products go to the multithreaded SGEMM,
// which splits its tiles of c over the workers; float64 ones split the rows of c.
func gemmRows[T float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if av, ok := any(a).([]float32); ok {
		sgemm(workers(m), tA, tB, m, n, k, float32(alpha), av, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
		return
	}
	splitRows(gemm[T], tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// splitRows runs one gemm per block of the m rows of c, one block per worker.
func splitRows[T float](f func(tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int),
	tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	w := workers(m / 32)
	if w == 1 {
		f(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	var wg sync.WaitGroup
	chunk := (m + w - 1) / w
	for lo := 0; lo < m; lo += chunk {
		hi := min(m, lo+chunk)
		off := lo * lda // row lo of a
		if tA {
			off = lo // column lo of the stored a
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(tA, tB, hi-lo, n, k, alpha, a[off:], lda, b, ldb, beta, c[lo*ldc:], ldc)
		}()
	}
	wg.Wait()
}

// expInPlace replaces every x by e^x: float32 through the vectorized kernels.Exp
// polynomial (about 1 ulp), float64 (gradient checks) through math.Exp.
func expInPlace[T float](x []T) { expSub(x, x, 0) }

// expSub writes e^(src - sub) into dst (which may be src) and returns the sum, the
// exponentials of a softmax row after subtracting its maximum.
func expSub[T float](dst, src []T, sub T) float64 {
	if d, ok := any(dst).([]float32); ok {
		return kernels.ExpSub(d, any(src).([]float32), float32(sub))
	}
	var sum float64
	for i, v := range src[:len(dst)] {
		e := T(math.Exp(float64(v - sub)))
		dst[i] = e
		sum += float64(e)
	}
	return sum
}

// sigmoidInto writes 1/(1+e^-x) of src into dst, vectorized for float32.
func sigmoidInto[T float](dst, src []T) {
	if d, ok := any(dst).([]float32); ok {
		kernels.Sigmoid(d, any(src).([]float32))
		return
	}
	for i, v := range src[:len(dst)] {
		dst[i] = T(1 / (1 + math.Exp(-float64(v))))
	}
}

// logT is the natural logarithm at the element type.
func logT[T float](x T) T { return T(math.Log(float64(x))) }

// parallelFor runs f(i) for i in [0, n) on up to GOMAXPROCS goroutines; worker is the
// index of the goroutine (0 <= worker < workers), for per-worker scratch buffers.
func parallelFor(n int, f func(worker, i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(0, i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				f(w, i)
			}
		}(w)
	}
	wg.Wait()
}

// workers is the number of goroutines parallelFor uses for n items.
func workers(n int) int { return max(1, min(runtime.GOMAXPROCS(0), n)) }

// parallelRows splits rows [0, n) into one contiguous chunk per worker, for kernels
// whose per-row work is too small to schedule one by one.
func parallelRows(n int, f func(lo, hi int)) {
	w := workers(n)
	if n < 64 || w == 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + w - 1) / w
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, min(n, lo+chunk))
	}
	wg.Wait()
}
