package nn

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// opIDs numbers op instances. Every op carries its own id in its hash because ops own
// their output buffers and some keep per-run state (log-sum-exps) for their backward
// op: gorgonia merges nodes with equal hashes and children, which must never happen to
// two of ours.
var opIDs atomic.Uint64

// baseOp is the gorgonia.Op boilerplate shared by every op of this package: the type
// signature (all inputs and the output share one float dtype), shape inference, the
// hash, and the op-owned output buffer. The tape machine clears its registers on every
// Reset, so an op that allocated its output in Do would allocate every step; owning
// the buffer makes a step allocation-free. Gorgonia may still overwrite a buffer in
// place once the node is dead, which is harmless because Do rewrites it every run.
type baseOp struct {
	name    string
	id      uint64
	inDims  []int // dimensions of each input; 0 is a scalar
	outDims int
	shape   func(in []tensor.Shape) (tensor.Shape, error)
	buf     *tensor.Dense
}

func newBase(name string, outDims int, shape func([]tensor.Shape) (tensor.Shape, error), inDims ...int) baseOp {
	return baseOp{name: name, id: opIDs.Add(1), inDims: inDims, outDims: outDims, shape: shape}
}

// Arity is the number of inputs.
func (o *baseOp) Arity() int { return len(o.inDims) }

// Type is a → ... → a over tensors of the declared ranks.
func (o *baseOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	of := func(d int) hm.Type {
		if d == 0 {
			return a
		}
		return gorgonia.TensorType{Dims: d, Of: a}
	}
	ts := make([]hm.Type, 0, len(o.inDims)+1)
	for _, d := range o.inDims {
		ts = append(ts, of(d))
	}
	return hm.NewFnType(append(ts, of(o.outDims))...)
}

// InferShape computes the output shape from the input shapes.
func (o *baseOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	shapes, err := gorgonia.DimSizersToShapes(ds)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.name, err)
	}
	if len(shapes) != len(o.inDims) {
		return nil, fmt.Errorf("%s: %d inputs, want %d", o.name, len(shapes), len(o.inDims))
	}
	for i, s := range shapes {
		if o.inDims[i] > 0 && s.Dims() != o.inDims[i] {
			return nil, fmt.Errorf("%s: input %d has shape %v, want %d dims", o.name, i, s, o.inDims[i])
		}
	}
	return o.shape(shapes)
}

// ReturnsPtr is false: outputs are never views of inputs.
func (o *baseOp) ReturnsPtr() bool { return false }

// CallsExtern is false even for BLAS calls: true would make the tape machine insert
// allocation and flush instructions that the op-owned buffers make useless.
func (o *baseOp) CallsExtern() bool { return false }

// OverwritesInput is -1: no op writes into its inputs.
func (o *baseOp) OverwritesInput() int { return -1 }

// WriteHash writes the op's name and instance id.
func (o *baseOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s#%d", o.name, o.id) }

// Hashcode is the FNV hash of WriteHash.
func (o *baseOp) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// String names the op.
func (o *baseOp) String() string { return o.name }

// output returns the op-owned output tensor, reallocated only when the dtype or shape
// changes (which does not happen in a fixed-shape graph).
func (o *baseOp) output(dt tensor.Dtype, shape ...int) *tensor.Dense {
	if o.buf == nil || o.buf.Dtype() != dt || !o.buf.Shape().Eq(tensor.Shape(shape)) {
		o.buf = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	}
	return o.buf
}

// data is the backing slice of a tensor value.
func data[T float](v gorgonia.Value) []T { return v.Data().([]T) }

// scalar reads a scalar value (the incoming gradient of a loss).
func scalar(v gorgonia.Value) (float64, error) {
	switch s := v.(type) {
	case *gorgonia.F32:
		return float64(*s), nil
	case *gorgonia.F64:
		return float64(*s), nil
	case tensor.Tensor:
		switch d := s.Data().(type) {
		case float32:
			return float64(d), nil
		case float64:
			return d, nil
		case []float32:
			return float64(d[0]), nil
		case []float64:
			return d[0], nil
		}
	}
	return 0, fmt.Errorf("want a float scalar, got %T", v)
}

// byDtype runs the float32 or float64 instantiation of a kernel.
func byDtype(name string, dt tensor.Dtype, f32, f64 func() error) error {
	var err error
	switch dt {
	case tensor.Float32:
		err = f32()
	case tensor.Float64:
		err = f64()
	default:
		return fmt.Errorf("%s: dtype %v not supported (want float32 or float64)", name, dt)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// sameShape is the shape function of ops whose output has the shape of input 0.
func sameShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

// shapeOf returns input i's shape, for backward ops that produce a gradient of it.
func shapeOf(i int) func([]tensor.Shape) (tensor.Shape, error) {
	return func(in []tensor.Shape) (tensor.Shape, error) { return in[i].Clone(), nil }
}

// scalarShape is the shape function of loss ops.
func scalarShape([]tensor.Shape) (tensor.Shape, error) { return tensor.ScalarShape(), nil }

// addOp is x + y for two tensors of one shape (the residual connections). Gorgonia's
// own Add allocates its result every run; this one reuses its buffer.
type addOp struct{ baseOp }

func newAddOp() *addOp { return &addOp{newBase("add", 2, sameShape, 2, 2)} }

// Do adds the inputs.
func (op *addOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	if !x.Shape().Eq(vs[1].Shape()) {
		return nil, fmt.Errorf("add: shapes %v and %v differ", x.Shape(), vs[1].Shape())
	}
	out := op.output(x.Dtype(), x.Shape()...)
	err := byDtype(op.name, x.Dtype(), func() error {
		addKernel(data[float32](vs[0]), data[float32](vs[1]), data[float32](out))
		return nil
	}, func() error {
		addKernel(data[float64](vs[0]), data[float64](vs[1]), data[float64](out))
		return nil
	})
	return out, err
}

func addKernel[T float](x, y, out []T) {
	for i := range out {
		out[i] = x[i] + y[i]
	}
}

// DiffWRT: both inputs.
func (op *addOp) DiffWRT(int) []bool { return []bool{true, true} }

// SymDiff passes the gradient through to both inputs unchanged.
func (op *addOp) SymDiff(_ gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return gorgonia.Nodes{grad, grad}, nil
}
