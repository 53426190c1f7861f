package nn

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// linearOp is y = x [W1; W2; ...]^T: x is [N, in], each Wi is [out_i, in] (the Hugging
// Face layout) and y is [N, sum out_i] with the outputs side by side. Packing q/k/v (and
// gate/up) into one output lets the attention (and SwiGLU) op read them without a
// split, and lets the input gradient be one accumulating GEMM per weight instead of a
// sum of separate tensors. Each product is a GEMM with the transpose flag on W.
type linearOp struct {
	baseOp
	outs []int // out_i of each weight
}

// linear applies y = x W^T for one or more weights that share the input x.
func linear(x *gorgonia.Node, ws ...*gorgonia.Node) (*gorgonia.Node, error) {
	op := &linearOp{}
	dims := []int{2}
	for range ws {
		dims = append(dims, 2)
	}
	op.baseOp = newBase("linear", 2, op.inferShape, dims...)
	for _, w := range ws {
		op.outs = append(op.outs, w.Shape()[0])
	}
	return gorgonia.ApplyOp(op, append([]*gorgonia.Node{x}, ws...)...)
}

func (op *linearOp) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	total := 0
	for i, w := range in[1:] {
		if w[1] != in[0][1] {
			return nil, fmt.Errorf("linear: weight %d is %v, input is %v", i, w, in[0])
		}
		total += w[0]
	}
	return tensor.Shape{in[0][0], total}, nil
}

func (op *linearOp) width() int {
	total := 0
	for _, o := range op.outs {
		total += o
	}
	return total
}

// Do computes the products.
func (op *linearOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	n, in := x.Shape()[0], x.Shape()[1]
	out := op.output(x.Dtype(), n, op.width())
	err := byDtype(op.name, x.Dtype(), func() error {
		linearFwd(op.outs, n, in, vs, data[float32](out))
		return nil
	}, func() error {
		linearFwd(op.outs, n, in, vs, data[float64](out))
		return nil
	})
	return out, err
}

func linearFwd[T float](outs []int, n, in int, vs []gorgonia.Value, y []T) {
	x, ld, off := data[T](vs[0]), len(y)/max(n, 1), 0
	for i, o := range outs {
		gemmRows(false, true, n, o, in, 1, x, in, data[T](vs[i+1]), in, 0, y[off:], ld)
		off += o
	}
}

// DiffWRT: the input and every weight.
func (op *linearOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

// SymDiff: dx = sum_i dy_i Wi (one op), dWi = dy_i^T x (one op per weight).
func (op *linearOp) SymDiff(inputs gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	gs := make(gorgonia.Nodes, len(inputs))
	gx := &linearGradX{outs: op.outs}
	gxDims := make([]int, len(inputs)+1)
	for i := range gxDims {
		gxDims[i] = 2
	}
	gx.baseOp = newBase("linear_grad_x", 2, shapeOf(0), gxDims...)
	var err error
	if gs[0], err = gorgonia.ApplyOp(gx, append(gorgonia.Nodes{inputs[0]}, append(inputs[1:], grad)...)...); err != nil {
		return nil, fmt.Errorf("linear grad x: %w", err)
	}
	off := 0
	for i, o := range op.outs {
		gw := &linearGradW{baseOp: newBase("linear_grad_w", 2, shapeOf(1), 2, 2, 2), off: off, width: op.width()}
		if gs[i+1], err = gorgonia.ApplyOp(gw, inputs[0], inputs[i+1], grad); err != nil {
			return nil, fmt.Errorf("linear grad w%d: %w", i, err)
		}
		off += o
	}
	return gs, nil
}

// linearGradX computes dx = sum_i dy_i Wi from (x, W1..Wm, dy); x only gives the shape.
type linearGradX struct {
	baseOp
	outs []int
}

// Do accumulates one GEMM per weight into dx.
func (op *linearGradX) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	n, in := x.Shape()[0], x.Shape()[1]
	out := op.output(x.Dtype(), n, in)
	err := byDtype(op.name, x.Dtype(), func() error {
		linearBwdX(op.outs, n, in, vs, data[float32](out))
		return nil
	}, func() error {
		linearBwdX(op.outs, n, in, vs, data[float64](out))
		return nil
	})
	return out, err
}

func linearBwdX[T float](outs []int, n, in int, vs []gorgonia.Value, dx []T) {
	dy := data[T](vs[len(vs)-1])
	ld := len(dy) / max(n, 1)
	off := 0
	for i, o := range outs {
		beta := T(1)
		if i == 0 {
			beta = 0
		}
		gemmRows(false, false, n, in, o, 1, dy[off:], ld, data[T](vs[i+1]), in, beta, dx, in)
		off += o
	}
}

// linearGradW computes dWi = dy_i^T x from (x, Wi, dy), where dy_i are the columns
// [off, off+out_i) of dy (read in place through the leading dimension).
type linearGradW struct {
	baseOp
	off, width int
}

// Do is one GEMM with the transpose flag on dy.
func (op *linearGradW) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x, w := vs[0].(tensor.Tensor), vs[1].(tensor.Tensor)
	n, in, o := x.Shape()[0], x.Shape()[1], w.Shape()[0]
	out := op.output(x.Dtype(), o, in)
	err := byDtype(op.name, x.Dtype(), func() error {
		gemmRows(true, false, o, in, n, 1, data[float32](vs[2])[op.off:], op.width, data[float32](vs[0]), in, 0, data[float32](out), in)
		return nil
	}, func() error {
		gemmRows(true, false, o, in, n, 1, data[float64](vs[2])[op.off:], op.width, data[float64](vs[0]), in, 0, data[float64](out), in)
		return nil
	})
	return out, err
}
