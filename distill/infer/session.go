package infer

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/cyclecore/mlmforge/distill/model"
)

// prefillChunk is the number of prompt tokens pushed through the blocks together: enough
// rows for Gemm to reuse each weight tile, few enough to keep the buffers small.
const prefillChunk = 64

// Session is one sequence being decoded: its KV cache, its scratch buffers and its
// worker team. A decode step allocates nothing. A Session is not safe for concurrent use;
// Close it (or drop it: a cleanup stops its workers) when done.
type Session struct {
	d *Decoder
	e *engine
	// n is the number of tokens in the cache, capTok its capacity.
	n, capTok int
	// kc[l], vc[l] are the keys (after RoPE) and values of layer l, [capTok, K*hd].
	kc, vc [][]float32
	// Row buffers for up to prefillChunk tokens: x, xn [c, d]; q, att [c, H*hd];
	// gate, up [c, I]; logits [V] of the last position.
	x, xn, q, att, gate, up, logits []float32
	// scores[worker] holds attention scores, [capTok].
	scores [][]float32

	// The attention job being run: layer, rows and position of the first row.
	atLayer, atPos0 int
	attnBody        func(worker, i int)

	one       [1]int
	generated []int

	// Pointer-generator decoders only: the tokens in the cache [capTok], the
	// pointer head's probabilities of the chunk's rows [rows, capTok], their gate
	// logits [rows] and a zeroed [V] scratch for the copy distribution.
	toks             []int
	ptrRows, gateOut []float32
	copies           []float32
}

// NewSession allocates an empty session; the KV cache grows as tokens are appended.
func (d *Decoder) NewSession() *Session {
	c := d.s.cfg
	rows := min(prefillChunk, c.MaxSeq)
	qd := c.Heads * c.HeadDim()
	s := &Session{
		d: d, e: d.s.newEngine(),
		kc: make([][]float32, c.Layers), vc: make([][]float32, c.Layers),
		x: make([]float32, rows*c.Hidden), xn: make([]float32, rows*c.Hidden),
		q: make([]float32, rows*qd), att: make([]float32, rows*qd),
		gate: make([]float32, rows*c.Intermediate), up: make([]float32, rows*c.Intermediate),
		logits: make([]float32, c.Vocab),
	}
	s.scores = make([][]float32, s.e.team.size())
	s.attnBody = s.attend
	if d.ptr != nil {
		s.gateOut, s.copies = make([]float32, rows), make([]float32, c.Vocab)
	}
	runtime.AddCleanup(s, func(e *engine) { e.close() }, s.e)
	return s
}

// Close stops the session's workers; the session must not be used afterwards.
func (s *Session) Close() { s.e.close() }

// Len is the number of tokens in the cache.
func (s *Session) Len() int { return s.n }

// Reset empties the cache, keeping its memory.
func (s *Session) Reset() { s.n = 0 }

// ensure grows the cache to hold n tokens (at most MaxSeq), keeping its contents.
func (s *Session) ensure(n int) {
	if n <= s.capTok {
		return
	}
	c := s.d.s.cfg
	n = min(max(n, 2*s.capTok), c.MaxSeq)
	kvd := c.KVHeads * c.HeadDim()
	for l := range s.kc {
		s.kc[l] = append(make([]float32, 0, n*kvd), s.kc[l][:s.n*kvd]...)[:n*kvd]
		s.vc[l] = append(make([]float32, 0, n*kvd), s.vc[l][:s.n*kvd]...)[:n*kvd]
	}
	for w := range s.scores {
		s.scores[w] = make([]float32, n)
	}
	if s.d.ptr != nil {
		s.toks = append(make([]int, 0, n), s.toks[:s.n]...)
		s.ptrRows = make([]float32, len(s.gateOut)*n)
	}
	s.capTok = n
}

// Append runs tokens after the cached ones and returns the logits of the last position.
// The logits slice is the session's own: it is overwritten by the next call.
func (s *Session) Append(tokens []int) ([]float32, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("append: no tokens")
	}
	if err := s.d.s.checkTokens(tokens); err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	if s.n+len(tokens) > s.d.s.cfg.MaxSeq {
		return nil, fmt.Errorf("append: %d cached + %d new tokens exceed max_position_embeddings %d",
			s.n, len(tokens), s.d.s.cfg.MaxSeq)
	}
	s.ensure(s.n + len(tokens))
	s.feed(tokens, nil)
	return s.logits, nil
}

// feed runs tokens through the model in chunks, extending the cache. With all == nil it
// leaves the last position's logits in s.logits; otherwise it writes the logits of every
// position into all [len(tokens), V].
func (s *Session) feed(tokens []int, all []float32) {
	cfg := s.d.s.cfg
	rows := len(s.x) / cfg.Hidden
	for c0 := 0; c0 < len(tokens); c0 += rows {
		chunk := tokens[c0:min(c0+rows, len(tokens))]
		m := len(chunk)
		s.blocks(chunk)
		if all != nil {
			s.d.s.normRows(s.xn, s.x, s.d.s.norm, m)
			s.e.matmul(s.d.head, s.xn, m, all[c0*cfg.Vocab:], cfg.Vocab, false)
			s.mixPointer(all[c0*cfg.Vocab:], s.xn, 0, m, m)
		} else if c0+m == len(tokens) {
			last := s.x[(m-1)*cfg.Hidden : m*cfg.Hidden]
			rmsNorm(s.xn[:cfg.Hidden], last, s.d.s.norm, cfg.NormEps)
			s.e.matmul(s.d.head, s.xn, 1, s.logits, cfg.Vocab, false)
			s.mixPointer(s.logits, s.xn, m-1, 1, m)
		}
	}
}

// mixPointer turns the logits [k, V] of rows r0..r0+k-1 of the last chunk of m
// rows, whose normalized hidden states are h [k, d], into the pointer-generator
// mixture (one gate matmul for the k rows); nothing without one.
func (s *Session) mixPointer(logits, h []float32, r0, k, m int) {
	p := s.d.ptr
	if p == nil {
		return
	}
	cfg := s.d.s.cfg
	s.e.matmul(p.gate, h[:k*cfg.Hidden], k, s.gateOut[:k], 1, false)
	for i := range k {
		r := r0 + i
		pos := s.n - m + r // the row's position; it attends to 0..pos
		p.mix(logits[i*cfg.Vocab:(i+1)*cfg.Vocab], s.gateOut[i], s.ptrRows[r*s.capTok:][:pos+1], s.toks[:pos+1], s.copies)
	}
}

// blocks runs one chunk of tokens at positions s.n.. through every block, leaving the
// final hidden states in s.x and their keys and values in the cache.
func (s *Session) blocks(chunk []int) {
	st := s.d.s
	cfg := st.cfg
	m, d, hd := len(chunk), cfg.Hidden, cfg.HeadDim()
	qd, kvd := cfg.Heads*hd, cfg.KVHeads*hd
	pos0 := s.n
	if s.d.ptr != nil {
		s.toks = append(s.toks[:pos0], chunk...)
	}
	st.embedRows(chunk, s.x)
	for l := range st.blocks {
		b := &st.blocks[l]
		st.normRows(s.xn, s.x, b.attnNorm, m)
		s.e.matmul(b.q, s.xn, m, s.q, qd, false)
		s.e.matmulAgain(b.k, s.kc[l][pos0*kvd:], kvd, false)
		s.e.matmulAgain(b.v, s.vc[l][pos0*kvd:], kvd, false)
		for i := 0; i < m; i++ {
			st.rope.apply(s.q[i*qd:(i+1)*qd], cfg.Heads, pos0+i)
			st.rope.apply(s.kc[l][(pos0+i)*kvd:(pos0+i+1)*kvd], cfg.KVHeads, pos0+i)
		}
		s.atLayer, s.atPos0 = l, pos0
		s.e.forEach(m*cfg.Heads, s.attnBody)
		s.e.matmul(b.o, s.att, m, s.x, d, true)
		st.mlp(s.e, b, s.x, s.xn, s.gate, s.up, m)
	}
	s.n += m
}

// attend computes query head i%H of chunk row i/H against the cached positions up to
// and including its own (causal attention).
func (s *Session) attend(worker, i int) {
	cfg := s.d.s.cfg
	hd := cfg.HeadDim()
	qd, kvd := cfg.Heads*hd, cfg.KVHeads*hd
	r, h := i/cfg.Heads, i%cfg.Heads
	g := h / (cfg.Heads / cfg.KVHeads)
	off := r*qd + h*hd
	if s.d.ptr == nil || h != model.PointerHead || s.atLayer != cfg.Layers-1 {
		attendRow(s.att[off:], s.q[off:], s.kc[s.atLayer][g*hd:], s.vc[s.atLayer][g*hd:],
			kvd, hd, s.atPos0+r+1, s.d.s.scale, s.scores[worker])
		return
	}
	n := s.atPos0 + r + 1
	attendRowInduction(s.att[off:], s.q[off:], s.kc[s.atLayer][g*hd:], s.vc[s.atLayer][g*hd:],
		kvd, hd, n, s.d.s.scale, s.scores[worker], s.toks[:n], s.d.ptr.induction, s.d.ptr.ngram)
	copy(s.ptrRows[r*s.capTok:], s.scores[worker][:n])
}

// Generate resets the session, runs prompt, and greedily generates up to
// opts.MaxNewTokens tokens (fewer at a stop token or at MaxSeq).
func (s *Session) Generate(ctx context.Context, prompt []int, opts GenerateOptions) ([]int, Stats, error) {
	st := Stats{PromptTokens: len(prompt)}
	if opts.MaxNewTokens <= 0 {
		return nil, st, fmt.Errorf("generate: max new tokens %d: must be positive", opts.MaxNewTokens)
	}
	if err := s.d.checkPrompt(prompt); err != nil {
		return nil, st, fmt.Errorf("generate: prompt: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, st, fmt.Errorf("generate: %w", err)
	}
	s.Reset()
	s.ensure(len(prompt) + opts.MaxNewTokens)
	if cap(s.generated) < opts.MaxNewTokens {
		s.generated = make([]int, 0, opts.MaxNewTokens)
	}
	s.generated = s.generated[:0]
	t0 := time.Now()
	s.feed(prompt, nil)
	st.Prefill = time.Since(t0)
	err := s.decode(ctx, opts, &st)
	st.Decode = time.Since(t0) - st.Prefill
	st.GeneratedTokens = len(s.generated)
	return slices.Clone(s.generated), st, err
}

// decode is the greedy loop after the prefill: s.logits holds the next-token logits.
func (s *Session) decode(ctx context.Context, opts GenerateOptions, st *Stats) error {
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("generate: after %d tokens: %w", len(s.generated), err)
		}
		if opts.LogitsProcessor != nil {
			opts.LogitsProcessor(s.generated, s.logits)
		}
		tok := argmax(s.logits)
		if tok < 0 {
			return fmt.Errorf("generate: after %d tokens: every logit is -Inf or NaN", len(s.generated))
		}
		if slices.Contains(opts.StopTokens, tok) {
			st.StopReason = StopToken
			return nil
		}
		s.generated = append(s.generated, tok)
		switch {
		case len(s.generated) == opts.MaxNewTokens:
			st.StopReason = StopMaxNewTokens
			return nil
		case s.n == s.d.s.cfg.MaxSeq:
			st.StopReason = StopMaxSeq
			return nil
		}
		s.one[0] = tok
		s.feed(s.one[:], nil)
		st.DecodeSteps++
	}
}
