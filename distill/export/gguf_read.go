package export

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ollama/ollama/fs/ggml"

	"github.com/cyclecore/mlmforge/distill/model"
)

// ReadGGUF reads a llama GGUF (for example an Ollama model blob) into our config,
// Hugging Face-named weights (dequantized to float32 from F32, F16, BF16 or Q8_0, q/k
// rows un-permuted back to rotate_half order) and tokenizer. Other architectures,
// tensor types and RoPE scaling are errors that name the key or tensor.
func ReadGGUF(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read gguf: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read gguf: %w", err)
	}
	if err := checkGGUFBounds(f, st.Size()); err != nil {
		return nil, fmt.Errorf("read gguf %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read gguf: %w", err)
	}
	g, err := ggml.Decode(f, -1)
	if err != nil {
		return nil, fmt.Errorf("read gguf %s: %w", path, err)
	}
	kv := g.KV()
	cfg, err := ggufConfig(kv, g.Tensors())
	if err != nil {
		return nil, fmt.Errorf("read gguf %s: %w", path, err)
	}
	tok, roles, err := tokenizerFromKV(kv)
	if err != nil {
		return nil, fmt.Errorf("read gguf %s: %w", path, err)
	}
	w, err := readGGUFWeights(f, g.Tensors(), cfg, true)
	if err != nil {
		return nil, fmt.Errorf("read gguf %s: %w", path, err)
	}
	m := &Model{Config: cfg, Weights: w, Tokenizer: tok, Roles: roles, Lineage: lineageFromKV(kv)}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("read gguf %s: %w", path, err)
	}
	return m, nil
}

// ggufConfig maps the llama.* keys to a Config. The vocabulary size comes from
// llama.vocab_size, else from token_embd's rows; the embeddings are tied when the
// file has no output.weight.
func ggufConfig(kv ggml.KV, ts ggml.Tensors) (model.Config, error) {
	if a := kv.String("general.architecture"); a != "llama" {
		return model.Config{}, fmt.Errorf("general.architecture %q: only llama is supported", a)
	}
	var errs []error
	need := func(key string) int {
		v, ok := kvUint(kv, key)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: missing or not an unsigned integer", key))
		}
		return int(v)
	}
	c := model.Config{Arch: model.ArchDecoder, TiedEmbeddings: true, RopeTheta: 10000}
	c.Hidden = need("llama.embedding_length")
	c.Layers = need("llama.block_count")
	c.Intermediate = need("llama.feed_forward_length")
	c.Heads = need("llama.attention.head_count")
	c.MaxSeq = need("llama.context_length")
	c.KVHeads = c.Heads
	if v, ok := kvUint(kv, "llama.attention.head_count_kv"); ok {
		c.KVHeads = int(v)
	}
	if v, ok := kvFloat(kv, "llama.rope.freq_base"); ok {
		c.RopeTheta = v
	}
	if v, ok := kvFloat(kv, "llama.attention.layer_norm_rms_epsilon"); ok {
		c.NormEps = v
	} else {
		errs = append(errs, errors.New("llama.attention.layer_norm_rms_epsilon: missing or not a float"))
	}
	for _, t := range ts.Items() {
		switch t.Name {
		case "output.weight":
			c.TiedEmbeddings = false
		case "token_embd.weight":
			if len(t.Shape) == 2 {
				c.Vocab = int(t.Shape[1])
			}
		case "rope_freqs.weight":
			errs = append(errs, errors.New("tensor rope_freqs.weight: RoPE frequency scaling (llama3) is not supported"))
		}
	}
	if v, ok := kvUint(kv, "llama.vocab_size"); ok {
		c.Vocab = int(v)
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	errs = append(errs, ggufUnsupported(kv, c)...)
	if len(errs) == 0 {
		errs = append(errs, c.Validate())
	}
	return c, errors.Join(errs...)
}

// ggufUnsupported lists the llama.* options that would make our forward pass differ
// from llama.cpp's: a head size other than d/H, and RoPE scaling.
func ggufUnsupported(kv ggml.KV, c model.Config) []error {
	var errs []error
	for _, key := range []string{"llama.rope.dimension_count", "llama.attention.key_length", "llama.attention.value_length"} {
		if v, ok := kvUint(kv, key); ok && c.Heads > 0 && int(v) != c.Hidden/c.Heads {
			errs = append(errs, fmt.Errorf("%s: %d, but our model needs embedding_length/head_count = %d", key, v, c.Hidden/c.Heads))
		}
	}
	// Raw map access: ggml.KV's accessors prefix keys with the architecture themselves.
	if s, _ := kv["llama.rope.scaling.type"].(string); s != "" && s != "none" {
		errs = append(errs, fmt.Errorf("llama.rope.scaling.type: %q is not supported (our RoPE has no scaling)", s))
	}
	return errs
}

// readGGUFWeights reads every tensor, maps it to its Hugging Face name and [out, in]
// shape and converts it to float32; with unpermute, q and k go back to rotate_half
// order (without it they stay as llama.cpp computes with them).
func readGGUFWeights(r io.ReaderAt, ts ggml.Tensors, c model.Config, unpermute bool) (model.Weights, error) {
	w := model.Weights{}
	for _, t := range ts.Items() {
		name, err := hfName(t.Name)
		if err != nil {
			return nil, err
		}
		shape := make([]int, len(t.Shape))
		for i, d := range t.Shape {
			shape[len(t.Shape)-1-i] = int(d)
		}
		buf := make([]byte, t.Size())
		if _, err := r.ReadAt(buf, int64(ts.Offset+t.Offset)); err != nil {
			return nil, fmt.Errorf("tensor %s: read %d bytes at %d: %w", t.Name, len(buf), ts.Offset+t.Offset, err)
		}
		data, err := decodeTensor(t, buf)
		if err != nil {
			return nil, err
		}
		if heads := ropeHeads(c, name); heads > 0 && unpermute {
			if len(shape) != 2 || shape[0]%heads != 0 || (shape[0]/heads)%2 != 0 {
				return nil, fmt.Errorf("tensor %s: shape %v cannot hold %d heads of even size", t.Name, shape, heads)
			}
			data = permuteRows(data, heads, shape[1], true)
		}
		if _, dup := w[name]; dup {
			return nil, fmt.Errorf("tensor %s: appears twice", t.Name)
		}
		w[name] = &model.Tensor{Shape: shape, Data: data}
	}
	return w, nil
}

// decodeTensor converts the raw bytes of a tensor to float32.
func decodeTensor(t *ggml.Tensor, buf []byte) ([]float32, error) {
	n := int(t.Elements())
	switch kind := ggml.TensorType(t.Kind); kind {
	case ggml.TensorTypeF32:
		return decodeF32(buf), nil
	case ggml.TensorTypeF16:
		return decodeF16(buf), nil
	case ggml.TensorTypeBF16:
		return decodeBF16(buf), nil
	case ggml.TensorTypeQ8_0:
		if len(t.Shape) == 0 || t.Shape[0]%q8BlockSize != 0 {
			return nil, fmt.Errorf("tensor %s: Q8_0 rows of %v values are not whole blocks", t.Name, t.Shape)
		}
		out, err := DequantizeQ8_0(buf, n)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("tensor %s: type %s (ggml type %d) is not supported; want F32, F16, BF16 or Q8_0", t.Name, kind, t.Kind)
	}
}

// kvUint reads an integer key of any GGUF integer type (llama.cpp writes uint32).
func kvUint(kv ggml.KV, key string) (uint64, bool) {
	switch v := kv[key].(type) {
	case uint8:
		return uint64(v), true
	case uint16:
		return uint64(v), true
	case uint32:
		return uint64(v), true
	case uint64:
		return v, true
	case int32:
		return uint64(v), v >= 0
	case int64:
		return uint64(v), v >= 0
	}
	return 0, false
}

// kvFloat reads a float key. GGUF stores float32: the value is the shortest decimal
// that rounds to it, so 1e-5 written as float32 reads back as exactly 1e-5.
func kvFloat(kv ggml.KV, key string) (float64, bool) {
	switch v := kv[key].(type) {
	case float32:
		f, err := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
		return f, err == nil
	case float64:
		return v, true
	}
	return 0, false
}

// lineageFromKV collects the LineageKeyPrefix keys with string values; nil when
// there are none.
func lineageFromKV(kv ggml.KV) map[string]string {
	var out map[string]string
	for k, v := range kv {
		name, ok := strings.CutPrefix(k, LineageKeyPrefix)
		if s, isString := v.(string); ok && isString && name != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[name] = s
		}
	}
	return out
}
