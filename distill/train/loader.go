package train

import (
	"math/rand/v2"
	"slices"

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
	data  *Data
	b, t  int
	accum int // micro-batches per optimizer step (GroupSteps)
	seed  uint64
	cur   Cursor
	perm  []int // permutation of epoch cur.Epoch
	// tokenDropout hides encoder input tokens (Config.TokenDropout).
	tokenDropout float64
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
	l.perm = groupByLength(l.data, epochPerm(len(l.data.Examples), l.seed, c.Epoch), l.b*max(l.accum, 1), l.seed, c.Epoch)
}

// GroupSteps makes the loader group lengths per optimizer step of accum
// micro-batches rather than per batch, so that accumulating accum batches of B
// serves exactly the rows one batch of accum*B would (the equivalence gradient
// accumulation promises). It reorders the current epoch.
func (l *Loader) GroupSteps(accum int) {
	l.accum = accum
	l.Seek(l.cur)
}

// bucketWindow is how many batches' worth of examples groupByLength sorts together.
const bucketWindow = 32

// groupByLength reorders an epoch's permutation so that every batch holds
// examples of similar length (fairseq's and Hugging Face's group-by-length):
// each window of bucketWindow batches is sorted by length, cut into batches, and
// the batches (of b rows: the rows of one optimizer step) of the window are shuffled. Padding then costs a fraction of what a
// random batch costs (makeBatch trims T to the batch's longest example), while
// the data order stays a pure function of (seed, epoch). Batches of one example
// (and the mixture's per-task loaders) keep the plain permutation.
func groupByLength(d *Data, perm []int, b int, seed uint64, epoch int) []int {
	if b <= 1 {
		return perm
	}
	rng := rand.NewPCG(seed^0x6c656e67746873, uint64(epoch))
	out := make([]int, 0, len(perm))
	for lo := 0; lo < len(perm); lo += bucketWindow * b {
		win := slices.Clone(perm[lo:min(len(perm), lo+bucketWindow*b)])
		slices.SortStableFunc(win, func(x, y int) int { return len(d.Examples[x].Tokens) - len(d.Examples[y].Tokens) })
		n := (len(win) + b - 1) / b
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		for i := n - 1; i > 0; i-- {
			j := int(rng.Uint64() % uint64(i+1))
			order[i], order[j] = order[j], order[i]
		}
		for _, k := range order {
			out = append(out, win[k*b:min(len(win), (k+1)*b)]...)
		}
	}
	return out
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
	var at []Cursor // where each example was served: its token dropout draw
	if l.tokenDropout > 0 && l.data.Arch == model.ArchEncoder {
		at = make([]Cursor, l.b)
	}
	for i := range exs {
		var c Cursor
		exs[i], c = l.nextExample()
		if at != nil {
			at[i] = c
		}
	}
	b := makeBatch(l.data, exs, l.t)
	for r, c := range at {
		dropTokens(b.Valid[r*b.T:(r+1)*b.T], l.tokenDropout, rand.New(rand.NewPCG(l.seed^0x746f6b64726f70, uint64(c.Epoch)<<32|uint64(c.Pos))))
	}
	return b
}

// dropTokens clears each set flag of valid but the first with probability p
// (the first token stays, for a classifier that pools it): the draw for an
// example depends only on (seed, epoch, position), so a resumed run hides the
// same tokens.
func dropTokens(valid []float32, p float64, rng *rand.Rand) {
	for t := 1; t < len(valid); t++ {
		if valid[t] != 0 && rng.Float64() < p {
			valid[t] = 0
		}
	}
}

// nextExample serves the next example of the epoch's permutation, moving to the next
// epoch at its end.
func (l *Loader) nextExample() (*Example, Cursor) {
	if l.cur.Pos >= len(l.perm) {
		l.Seek(Cursor{Epoch: l.cur.Epoch + 1})
	}
	at := l.cur
	ex := &l.data.Examples[l.perm[l.cur.Pos]]
	l.cur.Pos++
	return ex, at
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

// batchLen is the T of a batch whose longest example needs n positions: n
// rounded up to a step of a quarter of the configured T (at least 32), at most
// T, so a run builds a handful of graph shapes while short batches stop paying
// for the longest examples' padding.
func batchLen(n, T int) int {
	step := max(32, (T/4+15)/16*16)
	return min(T, max(step, (n+step-1)/step*step))
}

// makeBatch pads or truncates each example to T positions (trimmed by batchLen
// to what the batch's longest example needs). Decoder targets are the next
// token for every position whose next token belongs to the reply, -1 elsewhere. Encoder
// batches carry labels, and soft labels when any example has them (one-hot for the
// others).
func makeBatch(d *Data, exs []*Example, T int) model.Batch {
	B := len(exs)
	longest := 0
	for _, ex := range exs {
		n := len(ex.Tokens)
		if d.Arch == model.ArchDecoder {
			n-- // the last token is only a target
		}
		longest = max(longest, n)
	}
	T = batchLen(longest, T)
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
	if d.Arch == model.ArchDecoder {
		b.CopyOffsets = make([]int32, 0, B*T+1)
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
			b.CopySources = copySources(b.CopySources, &b.CopyOffsets, ex, T)
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
	if b.CopyOffsets != nil {
		b.CopyOffsets = append(b.CopyOffsets, int32(len(b.CopySources)))
	}
	return b
}

// maxCopySources is the most prompt positions a reply token may be aligned to:
// a token that common, copied alone (a space, a comma), says nothing about
// where the answer comes from.
const maxCopySources = 4

// alignCopies aligns the reply tokens[prompt:] with the prompt for copy
// supervision: reply token k is copied from the prompt positions where the
// longest run of the reply starting at k occurs (span alignment: in
// "banking_get_balance" the run picks the one function of five that share the
// "banking" prefix), kept when that run is at least two tokens long or the
// token occurs at no more than maxCopySources positions. It returns CSR lists
// over the reply positions (see Example.CopyOffsets).
func alignCopies(tokens []int32, prompt int) (offsets, sources []int32) {
	at := map[int32][]int32{}
	for j, tok := range tokens[:prompt] {
		at[tok] = append(at[tok], int32(j))
	}
	reply := tokens[prompt:]
	offsets = make([]int32, 0, len(reply)+1)
	for k, tok := range reply {
		offsets = append(offsets, int32(len(sources)))
		best, from := 0, len(sources)
		for _, j := range at[tok] {
			n := 1
			for int(j)+n < prompt && k+n < len(reply) && tokens[int(j)+n] == reply[k+n] {
				n++
			}
			switch {
			case n > best:
				best, sources = n, append(sources[:from], j)
			case n == best:
				sources = append(sources, j)
			}
		}
		if best < 2 && len(sources)-from > maxCopySources || len(sources)-from > 4*maxCopySources {
			sources = sources[:from]
		}
	}
	offsets = append(offsets, int32(len(sources)))
	return offsets, sources
}

// copySources appends one row's copy supervision to a batch's CSR lists (see
// model.Batch.CopyOffsets): position t predicts token t+1, whose sources are
// the example's alignment of reply position t+1-Prompt.
func copySources(src []int32, offsets *[]int32, ex *Example, T int) []int32 {
	for t := 0; t < T; t++ {
		*offsets = append(*offsets, int32(len(src)))
		k := t + 1 - ex.Prompt
		if k < 0 || k+1 >= len(ex.CopyOffsets) {
			continue
		}
		for _, j := range ex.CopySources[ex.CopyOffsets[k]:ex.CopyOffsets[k+1]] {
			if int(j) < T {
				src = append(src, j)
			}
		}
	}
	return src
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
