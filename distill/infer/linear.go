package infer

import (
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Tile sizes of a matrix product. A tile is at most tileOut output features times
// tileRows input rows: small enough that gonum's Sgemm runs it serially (it would spawn
// its own goroutines from 4 blocks of 64x64 on) and that the weight rows of the tile stay
// in L2 while the input rows stream past them.
const (
	tileOut  = 64
	tileRows = 64
)

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
// with x [m, in] contiguous and y [m, ldy]. buf (tileOut*in values) holds the dequantized
// weight rows of a quantized layer; the float layer never touches it.
func (l *linear) tile(x []float32, m0, m1 int, y []float32, ldy, r0, r1 int, acc bool, buf []float32) {
	in, rows := l.in, r1-r0
	var beta float32
	if acc {
		beta = 1
	}
	xs := x[m0*in : m1*in]
	ys := y[m0*ldy+r0 : (m1-1)*ldy+r1]
	if l.w == nil && m1-m0 == 1 {
		// One input row: an int8 dot product per weight row reads 4x fewer bytes than
		// dequantizing the tile first, and a decode step is bound by memory.
		for r := r0; r < r1; r++ {
			v := dotInt8(l.q[r*in:(r+1)*in], xs) * l.scale[r]
			if acc {
				v += ys[r-r0]
			}
			ys[r-r0] = v
		}
		return
	}
	w := l.w
	off := r0 * in
	if w == nil {
		for r := r0; r < r1; r++ {
			dequantRow(buf[(r-r0)*in:(r-r0+1)*in], l.q[r*in:(r+1)*in], l.scale[r])
		}
		w, off = buf, 0
	}
	wt := blas32.General{Rows: rows, Cols: in, Stride: in, Data: w[off : off+rows*in]}
	if m1-m0 == 1 {
		blas32.Gemv(blas.NoTrans, 1, wt, blas32.Vector{N: in, Inc: 1, Data: xs},
			beta, blas32.Vector{N: rows, Inc: 1, Data: ys})
		return
	}
	blas32.Gemm(blas.NoTrans, blas.Trans, 1,
		blas32.General{Rows: m1 - m0, Cols: in, Stride: in, Data: xs}, wt,
		beta, blas32.General{Rows: m1 - m0, Cols: rows, Stride: ldy, Data: ys})
}

// int8Float maps the bits of an int8 to its float32 value: a table lookup is ~15% faster
// than the int-to-float conversion instruction in these scalar loops.
var int8Float = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(int8(uint8(i)))
	}
	return t
}()

// dequantRow writes q * scale into dst.
func dequantRow(dst []float32, q []int8, scale float32) {
	dst = dst[:len(q)]
	for i, v := range q {
		dst[i] = int8Float[uint8(v)] * scale
	}
}

// dotInt8 is sum q[i]*x[i] with four independent accumulators (the dependency chain of a
// single one would bound the loop at one add per 4 cycles).
func dotInt8(q []int8, x []float32) float32 {
	x = x[:len(q)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(q); i += 4 {
		s0 += int8Float[uint8(q[i])] * x[i]
		s1 += int8Float[uint8(q[i+1])] * x[i+1]
		s2 += int8Float[uint8(q[i+2])] * x[i+2]
		s3 += int8Float[uint8(q[i+3])] * x[i+3]
	}
	for ; i < len(q); i++ {
		s0 += int8Float[uint8(q[i])] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

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
func (e *engine) matmul(l *linear, x []float32, m int, y []float32, ldy int, acc bool) {
	outTiles := (l.out + tileOut - 1) / tileOut
	e.mm = matmulJob{l: l, x: x, y: y, m: m, ldy: ldy, acc: acc, outTiles: outTiles}
	e.forEach(outTiles*((m+tileRows-1)/tileRows), e.mmBody)
	e.mm = matmulJob{}
}

func (e *engine) matmulTile(worker, i int) {
	j := &e.mm
	r0 := (i % j.outTiles) * tileOut
	m0 := (i / j.outTiles) * tileRows
	var buf []float32
	if e.bufs != nil {
		buf = e.bufs[worker]
	}
	j.l.tile(j.x, m0, min(m0+tileRows, j.m), j.y, j.ldy, r0, min(r0+tileOut, j.l.out), j.acc, buf)
}

// close stops the engine's workers.
func (e *engine) close() { e.team.close() }
