package train

import (
	"math/rand/v2"

	"github.com/cyclecore/mlmforge/distill/model"
)

// Cursor is the loader's position: the data order of an epoch is a pure function of
// (seed, epoch), so Epoch and Pos are the whole RNG state of the data pipeline.
type Cursor struct {
	// Epoch counts completed passes over the data.
	Epoch int `json:"epoch"`
	// Pos is the number of examples of the epoch's permutation already served.
	Pos int `json:"pos"`
}

// Loader serves training batches in a seeded order that changes every epoch; a batch
// that reaches the end of an epoch continues at the start of the next one.
type Loader struct {
	data *Data
	b, t int
	seed uint64
	cur  Cursor
	perm []int // permutation of epoch cur.Epoch
}

// NewLoader returns a loader at the start of epoch 0.
func NewLoader(d *Data, batchSize, seqLen int, seed uint64) *Loader {
	l := &Loader{data: d, b: batchSize, t: seqLen, seed: seed}
	l.Seek(Cursor{})
	return l
}

// Cursor reports the position of the next batch.
func (l *Loader) Cursor() Cursor { return l.cur }

// Seek moves to a position saved from Cursor.
func (l *Loader) Seek(c Cursor) {
	l.cur = c
	l.perm = epochPerm(len(l.data.Examples), l.seed, c.Epoch)
}

// epochPerm is a Fisher-Yates shuffle driven by PCG(seed, epoch). It uses only PCG's
// specified output (not rand.Perm, whose algorithm may change between Go releases), so
// a checkpoint resumes with the same data order under any Go version.
func epochPerm(n int, seed uint64, epoch int) []int {
	rng := rand.NewPCG(seed, 0x9e3779b97f4a7c15^uint64(epoch))
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(rng.Uint64() % uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Next returns the next batch of B examples.
func (l *Loader) Next() model.Batch {
	exs := make([]*Example, l.b)
	for i := range exs {
		exs[i] = l.nextExample()
	}
	return makeBatch(l.data, exs, l.t)
}

// nextExample serves the next example of the epoch's permutation, moving to the next
// epoch at its end.
func (l *Loader) nextExample() *Example {
	if l.cur.Pos >= len(l.perm) {
		l.Seek(Cursor{Epoch: l.cur.Epoch + 1})
	}
	ex := &l.data.Examples[l.perm[l.cur.Pos]]
	l.cur.Pos++
	return ex
}

// EvalBatches returns up to n batches of B examples of d in record order, the same ones
// at every evaluation; the last batch is completed from the start of d, so every batch
// has B rows.
func EvalBatches(d *Data, batchSize, seqLen, n int) []model.Batch {
	total := len(d.Examples)
	nb := min(n, (total+batchSize-1)/batchSize)
	out := make([]model.Batch, nb)
	for k := range out {
		exs := make([]*Example, batchSize)
		for i := range exs {
			exs[i] = &d.Examples[(k*batchSize+i)%total]
		}
		out[k] = makeBatch(d, exs, seqLen)
	}
	return out
}

// makeBatch pads or truncates each example to T positions. Decoder targets are the next
// token for every position whose next token belongs to the reply, -1 elsewhere. Encoder
// batches carry labels, and soft labels when any example has them (one-hot for the
// others).
func makeBatch(d *Data, exs []*Example, T int) model.Batch {
	B := len(exs)
	b := model.Batch{B: B, T: T, Tokens: make([]int32, B*T), Valid: make([]float32, B*T)}
	for i := range b.Tokens {
		b.Tokens[i] = d.PadID
	}
	if d.Arch == model.ArchDecoder {
		b.Targets = make([]int32, B*T)
		for i := range b.Targets {
			b.Targets[i] = -1
		}
	} else {
		b.Labels = make([]int32, B)
	}
	C := len(d.Labels)
	soft := false
	for _, ex := range exs {
		soft = soft || ex.Soft != nil
	}
	if soft {
		b.Soft = make([]float32, B*C)
	}
	for r, ex := range exs {
		row := r * T
		if d.Arch == model.ArchDecoder {
			n := min(len(ex.Tokens)-1, T)
			for t := 0; t < n; t++ {
				b.Tokens[row+t], b.Valid[row+t] = ex.Tokens[t], 1
				if t+1 >= ex.Prompt {
					b.Targets[row+t] = ex.Tokens[t+1]
				}
			}
			continue
		}
		n := min(len(ex.Tokens), T)
		copy(b.Tokens[row:row+n], ex.Tokens)
		for t := 0; t < n; t++ {
			b.Valid[row+t] = 1
		}
		b.Labels[r] = ex.Label
		if soft {
			if ex.Soft != nil {
				copy(b.Soft[r*C:(r+1)*C], ex.Soft)
			} else {
				b.Soft[r*C+int(ex.Label)] = 1
			}
		}
	}
	return b
}

// countTokens is the number of real (non-padding) positions of a batch.
func countTokens(b model.Batch) int {
	n := 0
	for _, v := range b.Valid {
		if v != 0 {
			n++
		}
	}
	return n
}
