package kernels

//go:generate go run gen_sgemm.go

import (
	"fmt"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Block sizes of the packed GEMM (the Goto/BLIS scheme). A K block of blockK rows of
// B and blockN of its columns, packed, is ~512 KiB: it stays in L2 while every row
// panel of A passes over it. One micro-panel of A (at most 12 rows x blockK) stays in
// L1 while the packed B micro-panels stream past it.
const (
	blockK = 256
	blockN = 512
	// directRows: up to this many rows of C, a non-transposed B is read in place
	// instead of packed, because the copy would cost as much as the few row panels
	// that reuse it.
	directRows = 64
	// parallelFlops is the work below which a product runs on one goroutine.
	parallelFlops = 1 << 21
)

// microKernel is one generated kernel and the number of rows of A it reads.
type microKernel struct {
	mr int
	fn func(k int, a *float32, ars, aps int, b *float32, bs int, c *float32, ldc, mr, nr int, alpha float32, acc bool)
}

// kernelSet is the micro-kernels of one instruction set: all compute nr columns, and
// byRows holds one kernel per row count, fewest rows first.
type kernelSet struct {
	name   string
	nr     int
	byRows []microKernel
}

// forRows is the smallest kernel that covers mr rows.
func (s *kernelSet) forRows(mr int) microKernel {
	for _, k := range s.byRows {
		if k.mr >= mr {
			return k
		}
	}
	return s.byRows[len(s.byRows)-1]
}

func (s *kernelSet) maxRows() int { return s.byRows[len(s.byRows)-1].mr }

// active is the kernel set of this CPU (nil: gonum's SGEMM).
var active = detect()

// Implementation names the SGEMM in use: "avx512", "avx2", "go" (the purego build or
// another architecture) or "gonum" (an amd64 CPU without AVX2 and FMA).
func Implementation() string {
	if active == nil {
		return "gonum"
	}
	return active.name
}

// Sgemm computes C = alpha op(A) op(B) + beta C on one goroutine, where op(X) is X or
// X^T as tA and tB say, op(A) is m x k, op(B) k x n and C m x n, all row-major with
// leading dimensions lda, ldb and ldc. beta 0 overwrites C (NaNs in C do not survive).
// It panics on inconsistent dimensions, as BLAS does.
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	SgemmN(1, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmN is Sgemm on up to threads goroutines (threads <= 0: GOMAXPROCS). Each
// goroutine computes its own tiles of C, so the result does not depend on threads.
func SgemmN(threads int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmWith(active, threads, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemmWith is SgemmN with the given kernel set (nil: gonum).
func sgemmWith(ks *kernelSet, threads int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if ks == nil {
		gonumSgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if beta != 0 && beta != 1 {
		scaleC(m, n, beta, c, ldc)
		beta = 1
	}
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if 2*m*n*k < parallelFlops {
		threads = 1
	}
	g := gemm{ks: ks, tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
		c: c, ldc: ldc, accumulate: beta == 1, threads: threads}
	g.run()
}

func gonumSgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	gonum.Implementation{}.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// checkGemm panics unless the slices hold the matrices their dimensions describe.
func checkGemm(tA, tB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: sgemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	checkMatrix("A", ar, ac, la, lda)
	checkMatrix("B", br, bc, lb, ldb)
	checkMatrix("C", m, n, lc, ldc)
}

func checkMatrix(name string, rows, cols, length, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("kernels: sgemm: leading dimension of %s is %d, want >= %d", name, ld, max(1, cols)))
	}
	if rows > 0 && cols > 0 && length < (rows-1)*ld+cols {
		panic(fmt.Sprintf("kernels: sgemm: %s has %d values, a %dx%d matrix with stride %d needs %d",
			name, length, rows, cols, ld, (rows-1)*ld+cols))
	}
}

// scaleC multiplies C by beta; beta 0 clears it.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// gemm is one product being computed.
type gemm struct {
	ks           *kernelSet
	tA, tB       bool
	m, n, k      int
	alpha        float32
	a, b, c      []float32
	lda, ldb     int
	ldc, threads int
	accumulate   bool // C += ... (beta was 1)
}

// block is one K x N block of B: rows [pc, pc+kc), columns [jc, jc+nc).
type block struct {
	pc, kc, jc, nc int
	packed         []float32 // kc x nr per micro-panel, micro-panel s at s*kc*nr
	direct         bool      // full micro-panels are read in place
}

var packPool = sync.Pool{New: func() any { return new([]float32) }}

func (g *gemm) run() {
	nr := g.ks.nr
	kBlocks := (g.k + blockK - 1) / blockK
	kc := (g.k + kBlocks - 1) / kBlocks
	nBlocks := (g.n + blockN - 1) / blockN
	nc := ((g.n+nBlocks-1)/nBlocks + nr - 1) / nr * nr
	buf := packPool.Get().(*[]float32)
	if need := kc * nc; cap(*buf) < need {
		*buf = make([]float32, need)
	}
	defer packPool.Put(buf)
	for pc := 0; pc < g.k; pc += kc {
		for jc := 0; jc < g.n; jc += nc {
			blk := block{pc: pc, kc: min(kc, g.k-pc), jc: jc, nc: min(nc, g.n-jc), packed: *buf,
				direct: !g.tB && g.m <= directRows}
			g.runBlock(&blk)
		}
	}
}

// runBlock packs one block of B and multiplies every row panel of A with it, split
// over the goroutines by contiguous runs of tiles (row panel major, so a goroutine
// reuses its A micro-panel across the B micro-panels of a row).
func (g *gemm) runBlock(blk *block) {
	nr, mr := g.ks.nr, g.ks.maxRows()
	panels := (blk.nc + nr - 1) / nr
	tiles := (g.m + mr - 1) / mr * panels
	w := max(1, min(g.threads, tiles))
	parallel(w, func(id int) {
		for s := id * panels / w; s < (id+1)*panels/w; s++ {
			if nrS := min(nr, blk.nc-s*nr); !blk.direct || nrS < nr {
				g.packB(blk, s)
			}
		}
	})
	parallel(w, func(id int) {
		var ap aPanel
		for t := id * tiles / w; t < (id+1)*tiles/w; t++ {
			g.tile(blk, &ap, t/panels, t%panels)
		}
	})
}

// parallel runs f(0..w-1) on w goroutines (the caller is one) and waits.
func parallel(w int, f func(id int)) {
	if w == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	wg.Add(w - 1)
	for id := 1; id < w; id++ {
		go func() {
			defer wg.Done()
			f(id)
		}()
	}
	f(0)
	wg.Wait()
}

// aPanel is a goroutine's padded copy of a partial row panel of A.
type aPanel struct {
	buf        []float32
	row0, pc   int
	rows, cols int
}

// tile computes C rows of row panel ir times B micro-panel s of the block.
func (g *gemm) tile(blk *block, ap *aPanel, ir, s int) {
	maxMR, nr := g.ks.maxRows(), g.ks.nr
	i0, j0 := ir*maxMR, blk.jc+s*nr
	mr, nrS := min(maxMR, g.m-i0), min(nr, g.n-j0)
	kern := g.ks.forRows(mr)
	var aPtr *float32
	ars, aps := g.lda, 1
	if g.tA {
		ars, aps = 1, g.lda
	}
	if kern.mr == mr {
		if g.tA {
			aPtr = &g.a[blk.pc*g.lda+i0]
		} else {
			aPtr = &g.a[i0*g.lda+blk.pc]
		}
	} else {
		g.packA(ap, i0, mr, kern.mr, blk)
		aPtr, ars, aps = &ap.buf[0], blk.kc, 1
	}
	var bPtr *float32
	bs := nr
	if blk.direct && nrS == nr {
		bPtr, bs = &g.b[blk.pc*g.ldb+j0], g.ldb
	} else {
		bPtr = &blk.packed[s*blk.kc*nr]
	}
	kern.fn(blk.kc, aPtr, ars, aps, bPtr, bs, &g.c[i0*g.ldc+j0], g.ldc, mr, nrS,
		g.alpha, g.accumulate || blk.pc > 0)
}
