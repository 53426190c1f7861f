package infer

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/cyclecore/mlmforge/distill/model"
)

// groupTokens bounds the tokens of the sequences run through the blocks together, so
// that a large batch needs bounded buffers (at least one sequence of MaxSeq is allowed).
const groupTokens = 1024

// Classifier runs an encoder student. It is safe for concurrent use.
type Classifier struct {
	s    *stack
	cls  *linear
	bias []float32
}

// NewClassifier checks cfg and w and builds a classifier that shares w's float32 data.
func NewClassifier(cfg model.Config, w model.Weights) (*Classifier, error) {
	if err := checkArch(cfg, model.ArchEncoder); err != nil {
		return nil, fmt.Errorf("new classifier: %w", err)
	}
	if err := w.Check(cfg); err != nil {
		return nil, fmt.Errorf("new classifier: %w", err)
	}
	return newClassifier(cfg, floatSource(w)), nil
}

func newClassifier(cfg model.Config, src source) *Classifier {
	return &Classifier{s: newStack(cfg, src), cls: src.linear("classifier.weight"), bias: src.vector("classifier.bias")}
}

// Config is the architecture the classifier runs.
func (c *Classifier) Config() model.Config { return c.s.cfg }

// Classify returns the class probabilities [len(batch)][C] of each token sequence.
// Sequences may have different lengths (1 to MaxSeq) and need no padding: they are
// packed, so a sequence's result does not depend on the others in the batch.
func (c *Classifier) Classify(batch [][]int) ([][]float32, error) {
	for i, seq := range batch {
		if len(seq) == 0 || len(seq) > c.s.cfg.MaxSeq {
			return nil, fmt.Errorf("classify: sequence %d: %d tokens, want 1 to %d", i, len(seq), c.s.cfg.MaxSeq)
		}
		if err := c.s.checkTokens(seq); err != nil {
			return nil, fmt.Errorf("classify: sequence %d: %w", i, err)
		}
	}
	out := make([][]float32, len(batch))
	if len(batch) == 0 {
		return out, nil
	}
	st := c.newEncState(min(max(groupTokens, c.s.cfg.MaxSeq), totalTokens(batch)), len(batch))
	defer st.e.close()
	for g0 := 0; g0 < len(batch); {
		g1, n := g0, 0
		for g1 < len(batch) && (g1 == g0 || n+len(batch[g1]) <= len(st.x)/c.s.cfg.Hidden) {
			n += len(batch[g1])
			g1++
		}
		st.run(batch[g0:g1], out[g0:g1])
		g0 = g1
	}
	return out, nil
}

func totalTokens(batch [][]int) int {
	n := 0
	for _, s := range batch {
		n += len(s)
	}
	return n
}

// encState holds the buffers of one Classify call for up to rows packed tokens.
type encState struct {
	c *Classifier
	e *engine
	// x, xn [rows, d]; q, att [rows, H*hd]; k, v [rows, K*hd]; gate, up [rows, I].
	x, xn, q, k, v, att, gate, up []float32
	// start[i] is the first row of sequence i of the group, and start[len] the end;
	// seqOf[r] is the sequence of row r.
	start, seqOf []int
	scores       [][]float32
	// pooled [seqs, d] and logits [seqs, C] of the group.
	pooled, logits []float32
}

func (c *Classifier) newEncState(rows, seqs int) *encState {
	cfg := c.s.cfg
	qd, kvd := cfg.Heads*cfg.HeadDim(), cfg.KVHeads*cfg.HeadDim()
	st := &encState{
		c: c, e: c.s.newEngine(),
		x: make([]float32, rows*cfg.Hidden), xn: make([]float32, rows*cfg.Hidden),
		q: make([]float32, rows*qd), att: make([]float32, rows*qd),
		k: make([]float32, rows*kvd), v: make([]float32, rows*kvd),
		gate: make([]float32, rows*cfg.Intermediate), up: make([]float32, rows*cfg.Intermediate),
		seqOf:  make([]int, rows),
		pooled: make([]float32, seqs*cfg.Hidden), logits: make([]float32, seqs*cfg.NumClasses),
	}
	st.scores = make([][]float32, st.e.team.size())
	for i := range st.scores {
		st.scores[i] = make([]float32, cfg.MaxSeq)
	}
	return st
}

// run classifies one group of sequences that fits the buffers into out.
func (st *encState) run(seqs [][]int, out [][]float32) {
	s := st.c.s
	cfg := s.cfg
	d, qd, kvd := cfg.Hidden, cfg.Heads*cfg.HeadDim(), cfg.KVHeads*cfg.HeadDim()
	st.start = st.start[:0]
	n := 0
	for i, seq := range seqs {
		st.start = append(st.start, n)
		s.embedRows(seq, st.x[n*d:])
		for r := n; r < n+len(seq); r++ {
			st.seqOf[r] = i
		}
		n += len(seq)
	}
	st.start = append(st.start, n)
	for l := range s.blocks {
		b := &s.blocks[l]
		s.normRows(st.xn, st.x, b.attnNorm, n)
		st.e.matmul(b.q, st.xn, n, st.q, qd, false)
		st.e.matmulAgain(b.k, st.k, kvd, false)
		st.e.matmulAgain(b.v, st.v, kvd, false)
		for r := 0; r < n; r++ {
			pos := r - st.start[st.seqOf[r]]
			s.rope.apply(st.q[r*qd:(r+1)*qd], cfg.Heads, pos)
			s.rope.apply(st.k[r*kvd:(r+1)*kvd], cfg.KVHeads, pos)
		}
		st.e.forEach(n*cfg.Heads, st.attend)
		st.e.matmul(b.o, st.att, n, st.x, d, true)
		s.mlp(st.e, b, st.x, st.xn, st.gate, st.up, n)
	}
	s.normRows(st.xn, st.x, s.norm, n)
	st.pool(len(seqs))
	C := cfg.NumClasses
	st.e.matmul(st.c.cls, st.pooled, len(seqs), st.logits, C, false)
	for i := range seqs {
		p := slices.Clone(st.logits[i*C : (i+1)*C])
		for j := range p {
			p[j] += st.c.bias[j]
		}
		softmax(p)
		out[i] = p
	}
}

// attend computes query head i%H of packed row i/H against every row of its sequence
// (bidirectional attention: rows of other sequences are never seen).
func (st *encState) attend(worker, i int) {
	cfg := st.c.s.cfg
	hd := cfg.HeadDim()
	qd, kvd := cfg.Heads*hd, cfg.KVHeads*hd
	r, h := i/cfg.Heads, i%cfg.Heads
	g := h / (cfg.Heads / cfg.KVHeads)
	seq := st.seqOf[r]
	s0, s1 := st.start[seq], st.start[seq+1]
	off := r*qd + h*hd
	attendRow(st.att[off:], st.q[off:], st.k[s0*kvd+g*hd:], st.v[s0*kvd+g*hd:],
		kvd, hd, s1-s0, st.c.s.scale, st.scores[worker])
}

// pool writes the pooled final hidden state (st.xn, normed) of each sequence into
// st.pooled: the mean over its positions (accumulated in float64) or its first position.
func (st *encState) pool(seqs int) {
	cfg := st.c.s.cfg
	d := cfg.Hidden
	acc := make([]float64, d)
	for i := 0; i < seqs; i++ {
		s0, s1 := st.start[i], st.start[i+1]
		dst := st.pooled[i*d : (i+1)*d]
		if cfg.Pooling == model.PoolFirst {
			copy(dst, st.xn[s0*d:(s0+1)*d])
			continue
		}
		clear(acc)
		for r := s0; r < s1; r++ {
			for j, v := range st.xn[r*d : (r+1)*d] {
				acc[j] += float64(v)
			}
		}
		for j := range dst {
			dst[j] = float32(acc[j] / float64(s1-s0))
		}
	}
}

// Prediction is one class and its probability.
type Prediction struct {
	// Class is the class index.
	Class int
	// Prob is its probability.
	Prob float32
}

// TopK returns the k most probable classes of probs, most probable first (the lower
// index first on ties); k is clamped to len(probs).
func TopK(probs []float32, k int) []Prediction {
	all := make([]Prediction, len(probs))
	for i, p := range probs {
		all[i] = Prediction{Class: i, Prob: p}
	}
	slices.SortStableFunc(all, func(a, b Prediction) int { return cmp.Compare(b.Prob, a.Prob) })
	return all[:max(0, min(k, len(all)))]
}

// Unpad turns a padded batch (model.Batch, as training builds it) into the ragged
// sequences Classify takes. Padding must follow the tokens of each row: a right-padded
// row with masked keys computes exactly what its unpadded tokens compute, while padding
// before or between tokens would shift the RoPE positions and has no unpadded equivalent.
func Unpad(b model.Batch) ([][]int, error) {
	if len(b.Tokens) != b.B*b.T || (b.Valid != nil && len(b.Valid) != b.B*b.T) {
		return nil, fmt.Errorf("unpad: %d tokens and %d valid flags for B=%d, T=%d", len(b.Tokens), len(b.Valid), b.B, b.T)
	}
	out := make([][]int, b.B)
	for i := range out {
		n := b.T
		if b.Valid != nil {
			row := b.Valid[i*b.T : (i+1)*b.T]
			n = 0
			for n < b.T && row[n] != 0 {
				n++
			}
			if slices.ContainsFunc(row[n:], func(v float32) bool { return v != 0 }) {
				return nil, fmt.Errorf("unpad: row %d: a valid token after padding at position %d", i, n)
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("unpad: row %d: no valid token", i)
		}
		out[i] = make([]int, n)
		for t := range out[i] {
			out[i][t] = int(b.Tokens[i*b.T+t])
		}
	}
	return out, nil
}
