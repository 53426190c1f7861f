package nn

import (
	"fmt"
	"math/bits"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A decoder's loss counts only the positions whose target is not -1: the
// reply's tokens, a minority of a prompt-heavy example (a function-calling
// prompt lists the offered functions' signatures, ~300 tokens, for a ~40-token
// answer). Training and loss graphs therefore run the final norm, the LM head
// and the cross-entropy on those rows only (what fine-tuning libraries call
// keeping only the completion's logits): selectRows gathers them from the
// last hidden states [B*T, d] into [K, d], and its backward scatters the
// gradient back. K is the counted rows rounded up to two sizes per octave
// (answerRows), so a run builds a handful of graph shapes; the padding rows
// are zero and count nothing.

// answerRows is the K of a batch with n counted positions out of all: n rounded
// up to half of its power of two (two sizes per octave: 512, 768, 1024, ...),
// at least 32; 0 (no gather: every row) when that reaches all. Every K is one
// more graph of the batch's whole shape to build and keep (graphcache.go),
// while a padding row costs only the head's share of a step (V*d per row, ~3%
// of a tiny-funccall step for the worst case of 50% padding, ~1% on average);
// four sizes per octave built twice the graphs for half the padding.
func answerRows(n, all int) int {
	k := 32
	if n > k {
		step := 1 << (bits.Len(uint(n)) - 2) // half of n's octave
		k = (n + step - 1) / step * step
	}
	if k >= all {
		return 0
	}
	return k
}

// setRows fills f.rows and f.rowTargets with the positions of f.targets that
// count, padded with -1 to k rows.
func (f *feed) setRows(k int) {
	f.rows, f.rowTargets = f.rows[:0], f.rowTargets[:0]
	if k == 0 {
		return
	}
	for i, t := range f.targets {
		if t >= 0 {
			f.rows = append(f.rows, int32(i))
			f.rowTargets = append(f.rowTargets, t)
		}
	}
	for len(f.rows) < k {
		f.rows = append(f.rows, -1)
		f.rowTargets = append(f.rowTargets, -1)
	}
}

// headTargets are the targets of the LM head's rows: the selected rows' when
// the graph gathers, else every position's.
func (f *feed) headTargets() []int32 {
	if f.gathered {
		return f.rowTargets
	}
	return f.targets
}

// headSeq is the sequence of the LM head's row r (a counted row).
func (f *feed) headSeq(r int) int {
	if f.gathered {
		return int(f.rows[r]) / f.seq
	}
	return r / f.seq
}

// headPos is the position in the flat [B*T] grid of the LM head's row r (a
// counted row).
func (f *feed) headPos(r int) int {
	if f.gathered {
		return int(f.rows[r])
	}
	return r
}

// selectRowsOp gathers the feed's rows of x [B*T, d] into [K, d]; a row of -1
// is zero.
type selectRowsOp struct {
	baseOp
	feed *feed
	k    int
}

// selectRows gathers the k rows the feed names from x.
func selectRows(x *gorgonia.Node, f *feed, k int) (*gorgonia.Node, error) {
	op := &selectRowsOp{feed: f, k: k}
	op.baseOp = newBase("select_rows", 2, func(in []tensor.Shape) (tensor.Shape, error) {
		return tensor.Shape{k, in[0][1]}, nil
	}, 2)
	return gorgonia.ApplyOp(op, x)
}

// Do gathers the rows.
func (op *selectRowsOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	n, d := x.Shape()[0], x.Shape()[1]
	if len(op.feed.rows) != op.k {
		return nil, fmt.Errorf("select_rows: %d rows, want %d", len(op.feed.rows), op.k)
	}
	for _, r := range op.feed.rows {
		if int(r) >= n {
			return nil, fmt.Errorf("select_rows: row %d outside [0, %d)", r, n)
		}
	}
	out := op.output(x.Dtype(), op.k, d)
	err := byDtype(op.name, x.Dtype(), func() error {
		selectRowsFwd(data[float32](vs[0]), data[float32](out), op.feed.rows, d)
		return nil
	}, func() error {
		selectRowsFwd(data[float64](vs[0]), data[float64](out), op.feed.rows, d)
		return nil
	})
	return out, err
}

func selectRowsFwd[T float](x, out []T, rows []int32, d int) {
	for i, r := range rows {
		dst := out[i*d : (i+1)*d]
		if r < 0 {
			clear(dst)
			continue
		}
		copy(dst, x[int(r)*d:(int(r)+1)*d])
	}
}

// DiffWRT: the hidden states.
func (op *selectRowsOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff scatters from (x, dy); x gives the shape.
func (op *selectRowsOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g, err := gorgonia.ApplyOp(&selectRowsGrad{newBase("select_rows_grad", 2, shapeOf(0), 2, 2), op.feed}, in[0], grad)
	if err != nil {
		return nil, fmt.Errorf("select_rows grad: %w", err)
	}
	return gorgonia.Nodes{g}, nil
}

// selectRowsGrad is the backward of selectRowsOp: dy's rows at their
// positions, zero elsewhere (the rows are distinct).
type selectRowsGrad struct {
	baseOp
	feed *feed
}

// Do scatters the rows.
func (op *selectRowsGrad) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x := vs[0].(tensor.Tensor)
	d := x.Shape()[1]
	out := op.output(x.Dtype(), x.Shape()...)
	err := byDtype(op.name, x.Dtype(), func() error {
		selectRowsBwd(data[float32](vs[1]), data[float32](out), op.feed.rows, d)
		return nil
	}, func() error {
		selectRowsBwd(data[float64](vs[1]), data[float64](out), op.feed.rows, d)
		return nil
	})
	return out, err
}

func selectRowsBwd[T float](dy, out []T, rows []int32, d int) {
	clear(out)
	for i, r := range rows {
		if r >= 0 {
			copy(out[int(r)*d:(int(r)+1)*d], dy[i*d:(i+1)*d])
		}
	}
}
