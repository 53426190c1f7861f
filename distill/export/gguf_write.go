package export

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/ollama/ollama/fs/ggml"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// Storage types WriteGGUF can write for the matrices (GGUFOptions.Type).
const (
	// TypeF32 stores every tensor as float32: the GGUF equals the checkpoint.
	TypeF32 = "F32"
	// TypeF16 stores matrices as float16 (half the size; ~1e-3 relative error).
	TypeF16 = "F16"
	// TypeQ8_0 stores matrices in ggml's 8-bit blocks (a quarter of the size).
	TypeQ8_0 = "Q8_0"
)

// ErrPointer is returned by WriteGGUF and WriteHF for a decoder with a
// pointer-generator output (model.Config.Pointer), which no other runner has.
var ErrPointer = errors.New("a pointer-generator decoder (pointer_generator) has no Hugging Face or GGUF form: " +
	"remove its pointer_gate tensors and the flag to export the LM head alone")

// ErrEncoderGGUF is returned when a GGUF is asked of an encoder classifier.
var ErrEncoderGGUF = errors.New("encoder classifiers cannot run in llama.cpp (bidirectional attention, pooled head): export them as a Hugging Face directory with WriteHF")

// GGUFOptions configures WriteGGUF.
type GGUFOptions struct {
	// Type is TypeF32 (the default), TypeF16 or TypeQ8_0 for the 2-D tensors; norm
	// vectors stay F32, as llama.cpp's converter keeps them, and a Q8_0 matrix whose
	// rows are not a multiple of 32 values falls back to F16.
	Type string
	// Name is general.name (default "mlmforge-student").
	Name string
}

// fileTypes are general.file_type (llama_ftype) for each Type.
var fileTypes = map[string]ggml.FileType{TypeF32: ggml.FileTypeF32, TypeF16: ggml.FileTypeF16, TypeQ8_0: ggml.FileTypeQ8_0}

// WriteGGUF writes a decoder as a llama GGUF that llama.cpp and Ollama load: the
// llama.* hyper-parameters, a gpt2 (byte-level BPE) tokenizer with the ChatML chat
// template, and the tensors under llama.cpp's names with q/k rows permuted for its
// interleaved RoPE; output.weight is omitted when the embeddings are tied. The file is
// written to a temp file and renamed over path.
func WriteGGUF(path string, m *Model, opts GGUFOptions) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("write gguf %s: %w", path, err)
	}
	if m.Config.Arch == model.ArchEncoder {
		return fmt.Errorf("write gguf %s: %w", path, ErrEncoderGGUF)
	}
	if m.Config.Pointer {
		return fmt.Errorf("write gguf %s: %w", path, ErrPointer)
	}
	typ := opts.Type
	if typ == "" {
		typ = TypeF32
	}
	if _, ok := fileTypes[typ]; !ok {
		return fmt.Errorf("write gguf %s: type %q: want %s, %s or %s", path, typ, TypeF32, TypeF16, TypeQ8_0)
	}
	kv, err := ggufKV(m, typ, opts.Name)
	if err != nil {
		return fmt.Errorf("write gguf %s: %w", path, err)
	}
	var ts []*ggml.Tensor
	for _, p := range m.Config.Params() {
		t, err := ggufTensor(m.Config, p, m.Weights[p.Name], typ)
		if err != nil {
			return fmt.Errorf("write gguf %s: %w", path, err)
		}
		ts = append(ts, t)
	}
	if err := writeGGUFFile(path, kv, ts); err != nil {
		return fmt.Errorf("write gguf %s: %w", path, err)
	}
	return nil
}

// ggufKV is the metadata: general.*, the llama.* keys llama.cpp's LLM_ARCH_LLAMA
// loader reads, and the tokenizer.
func ggufKV(m *Model, typ, name string) (ggml.KV, error) {
	c := m.Config
	if name == "" {
		name = "mlmforge-student"
	}
	kv, err := tokenizerKV(m.Tokenizer, c.Vocab)
	if err != nil {
		return nil, err
	}
	for k, v := range map[string]any{
		"general.architecture":                   "llama",
		"general.name":                           name,
		"general.file_type":                      fileTypes[typ],
		"general.quantization_version":           uint32(2),
		"llama.vocab_size":                       uint32(c.Vocab),
		"llama.context_length":                   uint32(c.MaxSeq),
		"llama.embedding_length":                 uint32(c.Hidden),
		"llama.block_count":                      uint32(c.Layers),
		"llama.feed_forward_length":              uint32(c.Intermediate),
		"llama.attention.head_count":             uint32(c.Heads),
		"llama.attention.head_count_kv":          uint32(c.KVHeads),
		"llama.rope.dimension_count":             uint32(c.HeadDim()),
		"llama.rope.freq_base":                   float32(c.RopeTheta),
		"llama.attention.layer_norm_rms_epsilon": float32(c.NormEps),
	} {
		kv[k] = v
	}
	for k, v := range m.Lineage {
		kv[LineageKeyPrefix+k] = v
	}
	return kv, nil
}

// ggufTensor describes one tensor for ggml.WriteGGUF: the GGUF name, the shape in
// ggml order (innermost first, so an [out, in] matrix is [in, out]) and a writer
// that permutes and encodes the data when the file is written.
func ggufTensor(c model.Config, p model.ParamSpec, t *model.Tensor, typ string) (*ggml.Tensor, error) {
	name, err := ggufName(p.Name)
	if err != nil {
		return nil, err
	}
	shape := make([]uint64, len(p.Shape))
	for i, d := range p.Shape {
		shape[len(p.Shape)-1-i] = uint64(d)
	}
	kind := ggml.TensorTypeF32
	if len(p.Shape) == 2 {
		switch typ {
		case TypeF16:
			kind = ggml.TensorTypeF16
		case TypeQ8_0:
			kind = ggml.TensorTypeQ8_0
			if p.Shape[1]%q8BlockSize != 0 {
				kind = ggml.TensorTypeF16
			}
		}
	}
	cols := p.Shape[len(p.Shape)-1]
	return &ggml.Tensor{Name: name, Kind: uint32(kind), Shape: shape,
		WriterTo: &tensorWriter{name: name, data: t.Data, kind: kind, heads: ropeHeads(c, p.Name), cols: cols}}, nil
}

// tensorWriter encodes a tensor only when WriteGGUF writes it, so that at most a few
// encoded tensors are in memory at once.
type tensorWriter struct {
	name  string
	data  []float32
	kind  ggml.TensorType
	heads int // q/k: heads whose rows are permuted; 0 otherwise
	cols  int
}

// WriteTo writes the encoded tensor.
func (tw *tensorWriter) WriteTo(w io.Writer) (int64, error) {
	data := tw.data
	if tw.heads > 0 {
		data = permuteRows(data, tw.heads, tw.cols, false)
	}
	var buf []byte
	switch tw.kind {
	case ggml.TensorTypeF32:
		buf = encodeF32(data)
	case ggml.TensorTypeF16:
		buf = encodeF16(data)
	case ggml.TensorTypeQ8_0:
		var err error
		if buf, err = QuantizeQ8_0(data); err != nil {
			return 0, fmt.Errorf("tensor %s: %w", tw.name, err)
		}
	default:
		return 0, fmt.Errorf("tensor %s: cannot encode type %v", tw.name, tw.kind)
	}
	n, err := w.Write(buf)
	return int64(n), err
}

// writeGGUFFile writes the GGUF to path atomically (atomicfile.Write).
func writeGGUFFile(path string, kv ggml.KV, ts []*ggml.Tensor) error {
	return atomicfile.Write(path, 0o644, func(f *os.File) error { return ggml.WriteGGUF(f, kv, slices.Clone(ts)) })
}
