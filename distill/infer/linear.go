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
	// corr is 128 * the sum of each int8 row, the zero-point correction of the integer
	// kernels (kernels.Int8Corr); nil for float layers.
	corr []int32
	// floatActs keeps this quantized layer on float32 activations even with intActs.
	floatActs bool
}

// intActs says whether quantized layers multiply m rows with the integer kernels:
// activations quantized per row to 8 bits, u8 x s8 products summed in int32
// (kernels.GemmU8S8). It is kernels.Int8Fast, true where those kernels beat the float
// path on this CPU: every m with AVX-512 VNNI; with AVX2 alone, 2 to 32 rows (short
// prompts), while decode steps and larger batches stay on float32. The float path keeps
// float32 activations (one-row steps dot int8 rows widened in registers, more rows
// dequantize a tile for the float SGEMM) and is exact to the dequantized weights. Tests
// and benchmarks replace it to run one path.
var intActs = kernels.Int8Fast

// actPasses is 1 (activations in 8 bits) or 2 (a second pass over the 8-bit residual).
var actPasses = 2

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

	// The last matmul's input, for matmulAgain; with intActs(m), qx [m, in] and qs [m] hold
	// it quantized (kernels.QuantizeActs), filled in parallel by quantBody.
	lastX        []float32
	lastM, lastK int
	qValid       bool
	qx, qx2      []uint8
	qs, qs2      []float32
	qBody        func(worker, i int)
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
	e.qBody = e.quantTile
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
// quantized layer's integer products against x quantized once (intActs(m)), a decode
// step's dot products, or a quantized layer's dequantized tile times every row.
func (e *engine) matmul(l *linear, x []float32, m int, y []float32, ldy int, acc bool) {
	e.lastX, e.lastM, e.lastK, e.qValid = x, m, l.in, false
	if l.q != nil && intActs(m) && !l.floatActs {
		e.quantize(x, m, l.in)
	}
	e.product(l, x, m, y, ldy, acc)
}

// matmulAgain is matmul with the input of the previous matmul call, unchanged since
// (q, k and v of one normalized input, gate and up): a quantized layer reuses its
// quantized rows.
func (e *engine) matmulAgain(l *linear, y []float32, ldy int, acc bool) {
	if l.in != e.lastK {
		panic("infer: matmulAgain with another input width")
	}
	if l.q != nil && intActs(e.lastM) && !l.floatActs && !e.qValid {
		e.quantize(e.lastX, e.lastM, l.in)
	}
	e.product(l, e.lastX, e.lastM, y, ldy, acc)
}

func (e *engine) product(l *linear, x []float32, m int, y []float32, ldy int, acc bool) {
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

// quantRows is the number of rows of one quantization task.
const quantRows = 16

// quantize fills e.qx and e.qs with x [m, k] quantized per row.
func (e *engine) quantize(x []float32, m, k int) {
	if cap(e.qx) < m*k {
		e.qx = make([]uint8, m*k)
	}
	if cap(e.qs) < m {
		e.qs = make([]float32, m)
	}
	e.qx, e.qs = e.qx[:m*k], e.qs[:m]
	if actPasses > 1 {
		if cap(e.qx2) < m*k {
			e.qx2 = make([]uint8, m*k)
		}
		if cap(e.qs2) < m {
			e.qs2 = make([]float32, m)
		}
		e.qx2, e.qs2 = e.qx2[:m*k], e.qs2[:m]
	}
	e.lastX, e.lastM, e.lastK = x, m, k
	e.forEach((m+quantRows-1)/quantRows, e.qBody)
	e.qValid = true
}

func (e *engine) quantTile(_, i int) {
	k := e.lastK
	r0, r1 := i*quantRows, min((i+1)*quantRows, e.lastM)
	kernels.QuantizeActs(e.qx[r0*k:r1*k], e.qs[r0:r1], e.lastX[r0*k:r1*k], r1-r0, k)
	if actPasses > 1 {
		kernels.QuantizeResidual(e.qx2[r0*k:r1*k], e.qs2[r0:r1], e.lastX[r0*k:r1*k], e.qx[r0*k:r1*k], e.qs[r0:r1], r1-r0, k)
	}
}

func (e *engine) matmulTile(worker, i int) {
	j := &e.mm
	r0 := i * tileOut
	r1 := min(r0+tileOut, j.l.out)
	if l := j.l; l.q != nil && intActs(j.m) && !l.floatActs {
		in := l.in
		q, scale, corr := l.q[r0*in:r1*in], l.scale[r0:r1], l.corr[r0:r1]
		if actPasses > 1 {
			kernels.GemmU8S8Res(j.m, r1-r0, in, e.qx, e.qs, e.qx2, e.qs2, q, scale, corr, j.y[r0:], j.ldy, j.acc)
		} else {
			kernels.GemmU8S8(j.m, r1-r0, in, e.qx, e.qs, q, scale, corr, j.y[r0:], j.ldy, j.acc)
		}
		return
	}
	var buf []float32
	if e.bufs != nil {
		buf = e.bufs[worker]
	}
	j.l.tile(j.x, 0, j.m, j.y, j.ldy, r0, r1, j.acc, buf)
}

// close stops the engine's workers.
func (e *engine) close() { e.team.close() }
