package infer

import (
	"fmt"
	"math"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/internal/kernels"
)

// block is one transformer block.
type block struct {
	attnNorm, mlpNorm          []float32
	q, k, v, o, gate, up, down *linear
}

// stack is what decoder and encoder share: embedding, blocks, final norm, RoPE table.
type stack struct {
	cfg    model.Config
	embed  *linear
	blocks []block
	norm   []float32
	rope   ropeTable
	// maxIn is the widest linear input; quantized says the engine needs dequant tiles.
	maxIn     int
	quantized bool
	scale     float32
}

// source hands out the tensors of a checked set of weights by name.
type source interface {
	linear(name string) *linear
	vector(name string) []float32
	isQuantized() bool
}

// floatSource shares the float32 weights without copying them.
type floatSource model.Weights

func (s floatSource) linear(name string) *linear {
	t := s[name]
	return &linear{out: t.Shape[0], in: t.Shape[1], w: t.Data}
}
func (s floatSource) vector(name string) []float32 { return s[name].Data }
func (floatSource) isQuantized() bool              { return false }

// quantSource reads int8 matrices and float32 vectors.
type quantSource QuantizedWeights

func (s quantSource) linear(name string) *linear {
	t := s.Int8[name]
	return &linear{out: t.Shape[0], in: t.Shape[1], q: t.Data, scale: t.Scales,
		corr: kernels.Int8Corr(t.Data, t.Shape[0], t.Shape[1])}
}
func (s quantSource) vector(name string) []float32 { return s.Float[name].Data }
func (quantSource) isQuantized() bool              { return true }

// newStack builds the shared part of a model; the caller has checked cfg and the weights.
func newStack(cfg model.Config, src source) *stack {
	s := &stack{
		cfg:       cfg,
		embed:     src.linear("model.embed_tokens.weight"),
		norm:      src.vector("model.norm.weight"),
		rope:      newRopeTable(cfg.MaxSeq, cfg.HeadDim(), cfg.RopeTheta),
		maxIn:     max(cfg.Hidden, cfg.Intermediate, cfg.Heads*cfg.HeadDim()),
		quantized: src.isQuantized(),
		scale:     float32(1 / math.Sqrt(float64(cfg.HeadDim()))),
	}
	for l := 0; l < cfg.Layers; l++ {
		n := func(suffix string) string { return model.LayerName(l, suffix) }
		s.blocks = append(s.blocks, block{
			attnNorm: src.vector(n("input_layernorm.weight")),
			mlpNorm:  src.vector(n("post_attention_layernorm.weight")),
			q:        src.linear(n("self_attn.q_proj.weight")),
			k:        src.linear(n("self_attn.k_proj.weight")),
			v:        src.linear(n("self_attn.v_proj.weight")),
			o:        src.linear(n("self_attn.o_proj.weight")),
			gate:     src.linear(n("mlp.gate_proj.weight")),
			up:       src.linear(n("mlp.up_proj.weight")),
			down:     src.linear(n("mlp.down_proj.weight")),
		})
	}
	return s
}

// newEngine starts an engine for this model with one worker per CPU.
func (s *stack) newEngine() *engine {
	if s.quantized {
		return newEngine(0, s.maxIn)
	}
	return newEngine(0, 0)
}

// checkArch validates cfg and that it is the wanted architecture.
func checkArch(cfg model.Config, arch string) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Arch != arch {
		return fmt.Errorf("config arch: %q, want %q", cfg.Arch, arch)
	}
	return nil
}

// embedRows looks up tokens into x [len(tokens), d].
func (s *stack) embedRows(tokens []int, x []float32) {
	d := s.cfg.Hidden
	for i, t := range tokens {
		s.embed.row(t, x[i*d:(i+1)*d])
	}
}

// checkTokens reports the first token outside the vocabulary.
func (s *stack) checkTokens(tokens []int) error {
	for i, t := range tokens {
		if t < 0 || t >= s.cfg.Vocab {
			return fmt.Errorf("token %d: id %d outside the vocabulary [0, %d)", i, t, s.cfg.Vocab)
		}
	}
	return nil
}

// normRows applies RMSNorm with weight w to m rows of x into dst.
func (s *stack) normRows(dst, x, w []float32, m int) {
	d := s.cfg.Hidden
	for i := 0; i < m; i++ {
		rmsNorm(dst[i*d:(i+1)*d], x[i*d:(i+1)*d], w, s.cfg.NormEps)
	}
}

// mlp adds the SwiGLU MLP of block b to m rows of the residual x, using xn, gate and up
// ([m, d], [m, I], [m, I]) as scratch.
func (s *stack) mlp(e *engine, b *block, x, xn, gate, up []float32, m int) {
	d, I := s.cfg.Hidden, s.cfg.Intermediate
	s.normRows(xn, x, b.mlpNorm, m)
	e.matmul(b.gate, xn, m, gate, I, false)
	e.matmulAgain(b.up, up, I, false)
	siluMul(gate[:m*I], up[:m*I])
	e.matmul(b.down, gate, m, x, d, true)
}
