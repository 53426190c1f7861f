// Package nn holds the training graphs of the students: the Llama-style decoder and
// the encoder classifier of distill/model, as gorgonia graphs built from fused custom
// ops (linear via BLAS GEMM with transpose flags, RMSNorm, RoPE, grouped-query
// attention, SwiGLU, embedding, pooling, cross-entropy and distillation losses), each
// with its own backward op and a finite-difference gradient test.
//
// Gorgonia provides the graph, symbolic differentiation (Grad) and the tape machine;
// the ops do the arithmetic in plain Go loops and GEMMs over the backing slices,
// because gorgonia's generic transposes and copies, not the matrix products, dominate
// a step built from its stock ops. Build with -tags openblas to run the GEMMs on
// OpenBLAS.
package nn

import (
	"errors"
	"fmt"
	"runtime"

	"gorgonia.org/gorgonia"

	"github.com/cyclecore/mlmforge/distill/lora"
	"github.com/cyclecore/mlmforge/distill/model"
)

// Options are the loss and adapter settings of a Net.
type Options struct {
	// LoRA, when set, freezes the weights New is given and trains LoRA adapters on the
	// targeted linear layers instead (decoders only): Params lists only the adapters.
	LoRA *lora.Config
	// Adapters are the initial adapter tensors of a LoRA net (for example a resumed
	// adapter checkpoint), used in place; nil draws them with LoRA.Init.
	Adapters model.Weights
	// KDAlpha weights the distillation term of the encoder loss when a batch carries a
	// teacher distribution (Batch.Soft): alpha*T^2*KL + (1-alpha)*CE. 0 ignores Soft.
	KDAlpha float64
	// KDTemperature is the distillation temperature T; 0 means 1.
	KDTemperature float64
	// LabelSmoothing, in [0, 1), replaces the encoder's one-hot label by
	// (1-eps) one-hot + eps/C in its cross-entropy term.
	LabelSmoothing float64
	// GraphMemory bounds the estimated bytes of this Net's cached graphs (one per
	// batch shape and mode); the least recently used ones are dropped beyond it.
	// 0: only the process-wide budget applies (SetProcessGraphMemory; by default
	// a sixth of physical memory within 1-6 GiB).
	GraphMemory int64
	// CopyLoss, when positive, trains head 0 of a decoder's last attention layer to
	// point at the prompt token being copied, and head 0 of its first layer to
	// attend to the previous token (copyhead.go), on batches that carry copy
	// sources, with this weight. Training graphs only: Loss and inference are
	// unchanged.
	CopyLoss float64
}

// mode selects what a cached graph computes.
type mode int

const (
	modeTrain  mode = iota // loss and parameter gradients
	modeLoss               // loss only
	modeLogits             // logits only (no targets or labels needed)
)

// graphKey identifies a cached graph: graphs have fixed shapes.
type graphKey struct {
	b, t int
	k    int // rows of the LM head when it gathers the counted positions (op_rows.go), else 0
	mode mode
}

// Net is a student model as trainable gorgonia graphs, one per batch shape and mode,
// built on first use. Its parameters alias the model.Weights it was built from, so an
// optimizer that updates Params()[i].Data updates the model. A Net is not safe for
// concurrent use.
type Net struct {
	cfg    model.Config
	opts   Options
	params []model.Param
	graphs map[graphKey]*graph
	acct   *graphAcct // the cached graphs' estimated bytes (graphcache.go)
	lru    []graphKey // graphs' keys, least recently used first (graphcache.go)
	// LoRA only: the adapter config, the frozen base weights (no Grad), and the mode
	// of the graph being built (dropout applies in training graphs only).
	lora      *lora.Config
	frozen    []model.Param
	buildMode mode
	copyOps   []*attnOp     // the supervised heads' ops of the graph being built
	ptr       *pointerState // the pointer-generator state of the graph being built, or nil
	// naive is the tests' reference path: training and loss graphs run the LM
	// head on every position instead of the counted ones (op_rows.go) and the
	// attention over every row in one block (op_attn.go's span and blocks).
	naive bool
	// attnBlock overrides attnBlock (tests: blocks smaller than their T).
	attnBlock int
}

// New builds a Net for cfg over the weights w (checked against cfg). The weights'
// Data slices are used in place, never copied.
func New(cfg model.Config, w model.Weights, opts Options) (*Net, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	if err := w.Check(cfg); err != nil {
		return nil, fmt.Errorf("nn: weights: %w", err)
	}
	if opts.KDAlpha < 0 || opts.KDAlpha > 1 {
		return nil, fmt.Errorf("nn: options KDAlpha %g outside [0, 1]", opts.KDAlpha)
	}
	if !(opts.LabelSmoothing >= 0 && opts.LabelSmoothing < 1) {
		return nil, fmt.Errorf("nn: options LabelSmoothing %g outside [0, 1)", opts.LabelSmoothing)
	}
	if opts.KDTemperature < 0 {
		return nil, fmt.Errorf("nn: options KDTemperature %g is negative", opts.KDTemperature)
	}
	if opts.KDTemperature == 0 {
		opts.KDTemperature = 1
	}
	n := &Net{cfg: cfg, opts: opts, graphs: map[graphKey]*graph{}, acct: &graphAcct{pool: &processGraphs}}
	runtime.AddCleanup(n, (*graphAcct).release, n.acct)
	if opts.LoRA != nil {
		if err := n.setupLoRA(w, opts); err != nil {
			return nil, err
		}
		return n, nil
	}
	for _, p := range cfg.Params() {
		t := w[p.Name]
		n.params = append(n.params, model.Param{Name: p.Name, Shape: p.Shape, Data: t.Data, Grad: make([]float32, len(t.Data))})
	}
	return n, nil
}

// Config is the architecture the Net was built for.
func (n *Net) Config() model.Config { return n.cfg }

// Params lists the trainable tensors in cfg.Params() order (a LoRA net: only the
// adapters, in lora.Config.Params order). Data aliases the weights; Grad is where
// ForwardBackward adds gradients (the caller zeroes it).
func (n *Net) Params() []model.Param { return n.params }

// ForwardBackward computes the loss of b and ADDS its gradients into Params()[i].Grad.
// Decoder: mean token cross-entropy over positions whose target is not -1. Encoder:
// mean over sequences of the cross-entropy on Labels, or of the distillation loss when
// b.Soft is set. Batch.Weights scales each sequence's terms (the divisor stays the
// number of counted positions or sequences).
func (n *Net) ForwardBackward(b model.Batch) (float64, error) {
	g, err := n.run(b, modeTrain)
	if err != nil {
		return 0, err
	}
	defer g.m.Reset()
	for i, gn := range g.grads {
		gv, ok := gn.Value().Data().([]float32)
		if !ok || len(gv) != len(n.params[i].Grad) {
			return 0, fmt.Errorf("nn: gradient of %s: unexpected value %v", n.params[i].Name, gn.Value().Shape())
		}
		addInto(n.params[i].Grad, gv)
	}
	return g.lossValue(), nil
}

// Loss computes the loss of b without gradients.
func (n *Net) Loss(b model.Batch) (float64, error) {
	g, err := n.run(b, modeLoss)
	if err != nil {
		return 0, err
	}
	defer g.m.Reset()
	return g.lossValue(), nil
}

// Logits returns the output scores: [B*T*V] for a decoder, [B*C] for an encoder.
// A pointer-generator decoder's are the vocabulary logits alone; its next-token
// distribution mixes them with the pointer (distill/infer does).
func (n *Net) Logits(b model.Batch) ([]float32, error) {
	g, err := n.run(b, modeLogits)
	if err != nil {
		return nil, err
	}
	defer g.m.Reset()
	return append([]float32(nil), g.logits.Value().Data().([]float32)...), nil
}

// run checks b, fetches (or builds) the graph for its shape and runs it.
func (n *Net) run(b model.Batch, m mode) (*graph, error) {
	if err := n.checkBatch(b, m); err != nil {
		return nil, err
	}
	key := graphKey{b: b.B, t: b.T, mode: m}
	if n.cfg.Arch == model.ArchDecoder && m != modeLogits && !n.naive {
		counted := 0
		for _, t := range b.Targets {
			if t >= 0 {
				counted++
			}
		}
		key.k = answerRows(counted, b.B*b.T)
	}
	g, ok := n.graphs[key]
	if ok {
		n.touch(key)
	} else {
		var err error
		if g, err = n.build(key); err != nil {
			return nil, fmt.Errorf("nn: build graph B=%d T=%d: %w", b.B, b.T, err)
		}
		n.cacheGraph(key, g)
	}
	f := g.feed
	*f = feed{batch: b.B, seq: b.T, tokens: b.Tokens, targets: b.Targets, valid: b.Valid,
		labels: b.Labels, soft: b.Soft, weights: b.Weights, copyOff: b.CopyOffsets, copySrc: b.CopySources,
		gathered: key.k > 0, rows: f.rows, rowTargets: f.rowTargets}
	f.setRows(key.k)
	if err := g.m.RunAll(); err != nil {
		g.m.Reset()
		return nil, fmt.Errorf("nn: run B=%d T=%d: %w", b.B, b.T, err)
	}
	return g, nil
}

// checkBatch reports the first batch field that does not fit the config.
func (n *Net) checkBatch(b model.Batch, m mode) error {
	var errs []error
	length := func(field string, got, want int, optional bool) {
		if (got != 0 || !optional) && got != want {
			errs = append(errs, fmt.Errorf("batch %s: %d values, want %d", field, got, want))
		}
	}
	if b.B <= 0 || b.T <= 0 {
		return fmt.Errorf("nn: batch shape B=%d T=%d: must be positive", b.B, b.T)
	}
	if b.T > n.cfg.MaxSeq {
		return fmt.Errorf("nn: batch T=%d exceeds max_position_embeddings %d", b.T, n.cfg.MaxSeq)
	}
	length("Tokens", len(b.Tokens), b.B*b.T, false)
	length("Valid", len(b.Valid), b.B*b.T, true)
	length("Weights", len(b.Weights), b.B, true)
	if m != modeLogits {
		if n.cfg.Arch == model.ArchDecoder {
			length("Targets", len(b.Targets), b.B*b.T, false)
		} else {
			length("Labels", len(b.Labels), b.B, false)
			length("Soft", len(b.Soft), b.B*n.cfg.NumClasses, true)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nn: %w", err)
	}
	return nil
}

// addInto is dst += src.
func addInto(dst, src []float32) {
	parallelRows(len(dst), func(lo, hi int) {
		d, s := dst[lo:hi], src[lo:hi]
		for i := range d {
			d[i] += s[i]
		}
	})
}

// lossReader is implemented by the loss ops, which keep the loss in float64.
type lossReader interface{ lossValue() float64 }

func (op *tokenCEOp) lossValue() float64   { return op.loss }
func (op *classLossOp) lossValue() float64 { return op.loss }

// graph is one built graph with its machine.
type graph struct {
	g      *gorgonia.ExprGraph
	feed   *feed
	logits *gorgonia.Node
	loss   lossReader
	grads  gorgonia.Nodes
	m      gorgonia.VM
	// copyOps are the supervised heads' attention ops (training graphs with CopyLoss).
	copyOps []*attnOp
}

// lossValue is the batch loss: the task loss, plus the copy losses in training graphs.
func (g *graph) lossValue() float64 {
	l := g.loss.lossValue()
	for _, op := range g.copyOps {
		l += op.copy.loss
	}
	return l
}
