package nn

import "math"

// Copy supervision: an auxiliary loss on one attention head of a decoder's last
// layer that teaches it to point at the prompt token the model is about to write.
//
// An extraction student copies spans of its input into the answer. A transformer
// does that with a head that attends to the source token and an output path that
// writes its identity; trained from scratch on answers alone, it finds that circuit
// late, after learning to write plausible values from its training distribution.
// Where the batch says a target token occurs in the prompt (model.Batch.CopySources),
// the pointer head gets the loss
//
//	weight * mean over supervised rows of -log sum_{j in sources} p[i, j]
//
// (any of the token's occurrences will do), which trains the pointer from the first
// steps. Nothing changes at inference: the architecture is the plain Llama decoder
// every exporter and runner knows.

// The pointer head finds the source of a token that continues a span by
// matching "the previous token was X" keys, which an earlier layer has to build
// by attending to the previous position: the first half of an induction circuit.
// With previous set, a supervision trains head 0 of the first layer to be that
// previous-token head, so the pointer head has its keys from the start.

// copySupervision configures the supervised head of one attention op.
type copySupervision struct {
	// weight scales the loss; head is the supervised query head.
	weight float64
	head   int
	// previous supervises every row i >= 1 toward key i-1 (a previous-token head)
	// instead of the feed's copy sources.
	previous bool
	prev     [][1]int32 // per-sequence scratch for previous rows' source
	// loss is the last forward run's weighted loss; rows the rows it averaged.
	loss float64
	rows int
	// perSeq collects each sequence's sum of -log mass in the parallel forward.
	perSeq []float64
}

// sources returns the supervised key positions of row i of sequence b, or nil.
func (f *feed) sources(b, i int) []int32 {
	if f == nil || f.copyOff == nil {
		return nil
	}
	p := b*f.seq + i
	return f.copySrc[f.copyOff[p]:f.copyOff[p+1]]
}

// sources returns the supervised key positions of row i of sequence b: the
// feed's copy sources, or the previous position for a previous-token head (real
// tokens of a batch with copy supervision only).
func (c *copySupervision) sources(f *feed, b, i int) []int32 {
	if !c.previous {
		return f.sources(b, i)
	}
	if i == 0 || f == nil || f.copyOff == nil || !f.isValid(b*f.seq+i) {
		return nil
	}
	c.prev[b][0] = int32(i - 1)
	return c.prev[b][:]
}

// supervisedRows counts the rows with copy sources in the feed.
func (f *feed) supervisedRows() int {
	if f == nil || f.copyOff == nil {
		return 0
	}
	n := 0
	for p := 0; p+1 < len(f.copyOff); p++ {
		if f.copyOff[p+1] > f.copyOff[p] {
			n++
		}
	}
	return n
}

// copyMass is the probability mass a probability row puts on the sources.
func copyMass[T float](row []T, src []int32) float64 {
	var m float64
	for _, j := range src {
		m += float64(row[j])
	}
	return m
}

// beginForward resets the loss before a forward run over batch sequences.
func (c *copySupervision) beginForward(f *feed, batch int) {
	c.rows = f.supervisedRows()
	if c.previous {
		c.rows = 0
		if f != nil && f.copyOff != nil {
			for p := 0; p < f.batch*f.seq; p++ {
				if p%f.seq > 0 && f.isValid(p) {
					c.rows++
				}
			}
		}
	}
	if len(c.prev) != batch {
		c.prev = make([][1]int32, batch)
	}
	c.loss = 0
	if len(c.perSeq) != batch {
		c.perSeq = make([]float64, batch)
	}
	clear(c.perSeq)
}

// addRow adds row i of sequence b (probabilities of the supervised head) to the
// forward loss; only the goroutine of (b, head) calls it, so perSeq[b] has one writer.
func addCopyRow[T float](c *copySupervision, f *feed, b, i int, row []T) {
	if src := c.sources(f, b, i); len(src) > 0 {
		c.perSeq[b] -= math.Log(max(copyMass(row, src), 1e-30))
	}
}

// endForward sums the sequences' losses.
func (c *copySupervision) endForward() {
	if c.rows == 0 {
		return
	}
	var sum float64
	for _, v := range c.perSeq {
		sum += v
	}
	c.loss = c.weight * sum / float64(c.rows)
}

// addCopyGrad adds the loss's gradient with respect to the attention logits of
// row i (probabilities p) to dS, which holds d(loss)/d(scores) * scale: for a
// softmax, d(-log sum_S p)/ds_j = p_j - 1[j in S] p_j / sum_S p.
func addCopyGrad[T float](c *copySupervision, f *feed, b, i int, p, ds []T, scale T) {
	src := c.sources(f, b, i)
	if len(src) == 0 || c.rows == 0 {
		return
	}
	mass := copyMass(p, src)
	if mass <= 0 {
		return // the sources are masked out: no gradient can reach them
	}
	w := T(c.weight / float64(c.rows))
	for j, pv := range p {
		ds[j] += w * pv * scale
	}
	for _, j := range src {
		ds[j] -= w * T(float64(p[j])/mass) * scale
	}
}
