package infer

import (
	"sync/atomic"

	"github.com/cyclecore/mlmforge/internal/kernels"
)

// tileOut is the number of output features of one task of a matrix product: a
// quantized layer dequantizes tileOut weight rows (tileOut*in floats, L2-sized) and
// multiplies them with every input row.
const tileOut = 64

// linear is one weight matrix W [out, in] (y = x W^T), held either as float32 or as int8
// with one scale per output row.
type linear struct {
	out, in int
	// w is the float32 matrix [out*in]; nil when the layer is quantized.
	w []float32
	// q is the int8 matrix [out*in] and scale its per-row scale [out].
	q     []int8
	scale []float32
}

// row writes row r of W (an embedding lookup) into dst [in].
func (l *linear) row(r int, dst []float32) {
	if l.w != nil {
		copy(dst, l.w[r*l.in:(r+1)*l.in])
		return
	}
	dequantRow(dst[:l.in], l.q[r*l.in:(r+1)*l.in], l.scale[r])
}

// tile computes rows [m0, m1) x features [r0, r1) of y = x W^T (y += x W^T when acc),
// with x [m, in] contiguous and y [m, ldy]. One input row (a decode step, bound by
// memory) is a dot product per weight row, INT8 rows read at one byte per weight; more
// rows are a GEMM, a quantized layer's rows first dequantized into buf (tileOut*in).
func (l *linear) tile(x []float32, m0, m1 int, y []float32, ldy, r0, r1 int, acc bool, buf []float32) {
	in, rows := l.in, r1-r0
	xs := x[m0*in : m1*in]
	ys := y[m0*ldy+r0 : (m1-1)*ldy+r1]
	if m1-m0 == 1 {
		for r := r0; r < r1; r++ {
			var v float32
			if l.w != nil {
				v = kernels.Dot(l.w[r*in:(r+1)*in], xs)
			} else {
				v = kernels.DotInt8(l.q[r*in:(r+1)*in], xs) * l.scale[r]
			}
			if acc {
				v += ys[r-r0]
			}
			ys[r-r0] = v
		}
		return
	}
	var w []float32
	if l.w != nil {
		w = l.w[r0*in : r1*in]
	} else {
		for r := r0; r < r1; r++ {
			kernels.Dequant(buf[(r-r0)*in:(r-r0+1)*in], l.q[r*in:(r+1)*in], l.scale[r])
		}
		w = buf[:rows*in]
	}
	var beta float32
	if acc {
		beta = 1
	}
	kernels.Sgemm(false, true, m1-m0, rows, in, 1, xs, in, w, in, beta, ys, ldy)
}

// dequantRow writes q * scale into dst.
func dequantRow(dst []float32, q []int8, scale float32) { kernels.Dequant(dst, q, scale) }

// engine runs the parallel parts of a forward pass on a team. Its function values are
// created once, so a forward step sends existing funcs to waiting goroutines and
// allocates nothing.
type engine struct {
	team *team
	// bufs[worker] is the dequantization tile of a worker (nil for float models).
	bufs [][]float32

	next  atomic.Int64
	n     int
	body  func(worker, i int)
	runFn func(worker int)

	mm     matmulJob
	mmBody func(worker, i int)
}

// matmulJob is the product being computed by the engine.
type matmulJob struct {
	l        *linear
	x, y     []float32
	m, ldy   int
	acc      bool
	outTiles int
}

// newEngine starts a team of workers (<= 0: one per CPU); maxIn > 0 allocates the
// dequantization tiles a quantized model needs.
func newEngine(workers, maxIn int) *engine {
	e := &engine{team: newTeam(workers)}
	if maxIn > 0 {
		e.bufs = make([][]float32, e.team.size())
		for i := range e.bufs {
			e.bufs[i] = make([]float32, tileOut*maxIn)
		}
	}
	e.runFn = e.loop
	e.mmBody = e.matmulTile
	return e
}

// forEach calls body(worker, i) for i in [0, n), spread over the team.
func (e *engine) forEach(n int, body func(worker, i int)) {
	if n <= 1 || e.team.size() == 1 {
		for i := 0; i < n; i++ {
			body(0, i)
		}
		return
	}
	e.n, e.body = n, body
	e.next.Store(0)
	e.team.run(e.runFn)
	e.body = nil
}

func (e *engine) loop(worker int) {
	for {
		i := int(e.next.Add(1) - 1)
		if i >= e.n {
			return
		}
		e.body(worker, i)
	}
}

// matmul computes y = x W^T (y += x W^T when acc) for x [m, l.in] contiguous and
// y [m, ldy], ldy >= l.out.
//
// A float layer with several rows is one multithreaded SGEMM (kernels.SgemmN packs W
// once for all rows). Otherwise the work is tiles of tileOut features over all rows: a
// decode step's dot products, or a quantized layer's dequantized tile times every row.
func (e *engine) matmul(l *linear, x []float32, m int, y []float32, ldy int, acc bool) {
	if l.w != nil && m > 1 {
		var beta float32
		if acc {
			beta = 1
		}
		kernels.SgemmN(e.team.size(), false, true, m, l.out, l.in, 1, x[:m*l.in], l.in, l.w, l.in, beta, y, ldy)
		return
	}
	outTiles := (l.out + tileOut - 1) / tileOut
	e.mm = matmulJob{l: l, x: x, y: y, m: m, ldy: ldy, acc: acc, outTiles: outTiles}
	e.forEach(outTiles, e.mmBody)
	e.mm = matmulJob{}
}

func (e *engine) matmulTile(worker, i int) {
	j := &e.mm
	r0 := i * tileOut
	var buf []float32
	if e.bufs != nil {
		buf = e.bufs[worker]
	}
	j.l.tile(j.x, 0, j.m, j.y, j.ldy, r0, min(r0+tileOut, j.l.out), j.acc, buf)
}

// close stops the engine's workers.
func (e *engine) close() { e.team.close() }
