package infer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cyclecore/mlmforge/distill/model"
)

// Decoder runs a causal decoder student. It is safe for concurrent use: each generation
// runs in its own Session (KV cache and buffers), taken from a pool.
type Decoder struct {
	s        *stack
	head     *linear
	ptr      *pointer // nil without a pointer-generator output
	sessions sync.Pool
}

// NewDecoder checks cfg and w and builds a decoder that shares w's float32 data.
func NewDecoder(cfg model.Config, w model.Weights) (*Decoder, error) {
	if err := checkArch(cfg, model.ArchDecoder); err != nil {
		return nil, fmt.Errorf("new decoder: %w", err)
	}
	if err := w.Check(cfg); err != nil {
		return nil, fmt.Errorf("new decoder: %w", err)
	}
	return newDecoder(cfg, floatSource(w)), nil
}

func newDecoder(cfg model.Config, src source) *Decoder {
	d := &Decoder{s: newStack(cfg, src)}
	if cfg.TiedEmbeddings {
		d.head = d.s.embed
	} else {
		d.head = src.linear("lm_head.weight")
	}
	d.ptr = newPointer(cfg, src)
	return d
}

// Config is the architecture the decoder runs.
func (d *Decoder) Config() model.Config { return d.s.cfg }

// Forward returns the logits [len(tokens)][V] of every position of one sequence (of a
// pointer-generator decoder: the log-probabilities of its mixture), computed
// in one pass without reusing any cache: the reference path that tests and evaluation
// compare the cached one against. It panics, like an out-of-range index, when a token is
// outside the vocabulary or the sequence is empty or longer than MaxSeq.
func (d *Decoder) Forward(tokens []int) [][]float32 {
	if err := d.checkPrompt(tokens); err != nil {
		panic("infer: Decoder.Forward: " + err.Error())
	}
	s := d.NewSession()
	defer s.Close()
	V := d.s.cfg.Vocab
	flat := make([]float32, len(tokens)*V)
	s.ensure(len(tokens))
	s.feed(tokens, flat)
	out := make([][]float32, len(tokens))
	for i := range out {
		out[i] = flat[i*V : (i+1)*V : (i+1)*V]
	}
	return out
}

func (d *Decoder) checkPrompt(tokens []int) error {
	if len(tokens) == 0 {
		return fmt.Errorf("empty token sequence")
	}
	if len(tokens) > d.s.cfg.MaxSeq {
		return fmt.Errorf("%d tokens, max_position_embeddings is %d", len(tokens), d.s.cfg.MaxSeq)
	}
	return d.s.checkTokens(tokens)
}

// GenerateOptions controls greedy generation.
type GenerateOptions struct {
	// MaxNewTokens bounds the number of generated tokens; it must be positive.
	MaxNewTokens int
	// StopTokens end generation (EOS, end of turn); the stop token is not returned.
	StopTokens []int
	// LogitsProcessor, when set, sees the tokens generated so far and the next-token
	// logits before the argmax, and may change them in place (set entries to -Inf to
	// forbid tokens, e.g. a JSON-Schema token mask). generated must not be retained.
	LogitsProcessor func(generated []int, logits []float32)
}

// Stop reasons reported in Stats.
const (
	// StopToken: the argmax was one of GenerateOptions.StopTokens.
	StopToken = "stop_token"
	// StopMaxNewTokens: MaxNewTokens tokens were generated.
	StopMaxNewTokens = "max_new_tokens"
	// StopMaxSeq: the sequence reached the model's MaxSeq.
	StopMaxSeq = "max_seq"
)

// Stats describes one generation.
type Stats struct {
	// PromptTokens is the prompt length, GeneratedTokens the number of tokens returned.
	PromptTokens, GeneratedTokens int
	// DecodeSteps is the number of single-token forward steps after the prefill.
	DecodeSteps int
	// Prefill is the time to run the prompt and produce the first logits; Decode the
	// time of everything after it (decode steps, logits processor, argmax).
	Prefill, Decode time.Duration
	// StopReason is StopToken, StopMaxNewTokens or StopMaxSeq.
	StopReason string
}

// DecodeTokensPerSecond is DecodeSteps / Decode (0 when nothing was decoded).
func (s Stats) DecodeTokensPerSecond() float64 {
	if s.DecodeSteps == 0 || s.Decode <= 0 {
		return 0
	}
	return float64(s.DecodeSteps) / s.Decode.Seconds()
}

// Generate greedily extends prompt in a pooled session and returns the new tokens.
func (d *Decoder) Generate(ctx context.Context, prompt []int, opts GenerateOptions) ([]int, Stats, error) {
	s, _ := d.sessions.Get().(*Session)
	if s == nil {
		s = d.NewSession()
	}
	defer d.sessions.Put(s)
	return s.Generate(ctx, prompt, opts)
}
