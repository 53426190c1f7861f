package export

import (
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ollama/ollama/fs/ggml"
)

// decodeGGUF decodes path with Ollama's reader; the file stays open for tensor reads.
func decodeGGUF(t *testing.T, path string) (*ggml.GGML, *os.File) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	g, err := ggml.Decode(f, -1)
	if err != nil {
		t.Fatalf("ggml.Decode %s: %v", path, err)
	}
	return g, f
}

// wantGGUFTensors are the GGUF names and ggml shapes (innermost first) of m.
func wantGGUFTensors(m *Model) map[string][]uint64 {
	c := m.Config
	d, hd, I, V := uint64(c.Hidden), uint64(c.HeadDim()), uint64(c.Intermediate), uint64(c.Vocab)
	want := map[string][]uint64{"token_embd.weight": {d, V}, "output_norm.weight": {d}}
	if !c.TiedEmbeddings {
		want["output.weight"] = []uint64{d, V}
	}
	for l := range c.Layers {
		p := "blk." + string(rune('0'+l)) + "."
		want[p+"attn_norm.weight"], want[p+"ffn_norm.weight"] = []uint64{d}, []uint64{d}
		want[p+"attn_q.weight"] = []uint64{d, uint64(c.Heads) * hd}
		want[p+"attn_k.weight"] = []uint64{d, uint64(c.KVHeads) * hd}
		want[p+"attn_v.weight"] = []uint64{d, uint64(c.KVHeads) * hd}
		want[p+"attn_output.weight"] = []uint64{uint64(c.Heads) * hd, d}
		want[p+"ffn_gate.weight"], want[p+"ffn_up.weight"] = []uint64{d, I}, []uint64{d, I}
		want[p+"ffn_down.weight"] = []uint64{I, d}
	}
	return want
}

func TestGGUFRoundTripF32(t *testing.T) {
	for _, tied := range []bool{true, false} {
		t.Run(map[bool]string{true: "tied", false: "untied"}[tied], func(t *testing.T) {
			m := tinyModel(t, tied, 5, 1)
			if tied {
				m = withLineage(m)
			}
			path := filepath.Join(t.TempDir(), "model.gguf")
			if err := WriteGGUF(path, m, GGUFOptions{}); err != nil {
				t.Fatal(err)
			}
			g, _ := decodeGGUF(t, path)
			kv := g.KV()
			if a := kv.Architecture(); a != "llama" {
				t.Fatalf("general.architecture %q", a)
			}
			for key, want := range map[string]uint32{"context_length": 32, "embedding_length": 64, "block_count": 2,
				"feed_forward_length": 96, "attention.head_count": 4, "attention.head_count_kv": 2,
				"rope.dimension_count": 16, "vocab_size": uint32(m.Config.Vocab)} {
				if got := kv.Uint(key); got != want {
					t.Errorf("llama.%s = %d, want %d", key, got, want)
				}
			}
			if kv.Float("rope.freq_base") != 10000 || kv.Float("attention.layer_norm_rms_epsilon") != float32(1e-5) {
				t.Errorf("rope.freq_base %g, eps %g", kv.Float("rope.freq_base"), kv.Float("attention.layer_norm_rms_epsilon"))
			}
			checkTokenizerKV(t, kv, m)
			got := map[string][]uint64{}
			for _, tn := range g.Tensors().Items() {
				got[tn.Name] = tn.Shape
				if tn.Kind != uint32(ggml.TensorTypeF32) {
					t.Errorf("tensor %s: kind %d, want F32", tn.Name, tn.Kind)
				}
			}
			want := wantGGUFTensors(m)
			if len(got) != len(want) {
				t.Errorf("tensors %v, want %v", slices.Sorted(mapKeys(got)), slices.Sorted(mapKeys(want)))
			}
			for name, shape := range want {
				if !slices.Equal(got[name], shape) {
					t.Errorf("tensor %s: shape %v, want %v", name, got[name], shape)
				}
			}

			back, err := ReadGGUF(path)
			if err != nil {
				t.Fatal(err)
			}
			if back.Config != m.Config {
				t.Fatalf("config %+v, want %+v (diff %v)", back.Config, m.Config, back.Config.Diff(m.Config))
			}
			requireSameWeights(t, back.Weights, m.Weights)
			requireSameTokenizer(t, back.Tokenizer, m.Tokenizer)
			if !maps.Equal(back.Lineage, m.Lineage) || (tied && kv.Value(LineageKeyPrefix+"prompt_style") != "compact") {
				t.Errorf("lineage %v (%s: %q), want %v", back.Lineage, LineageKeyPrefix+"prompt_style",
					kv.Value(LineageKeyPrefix+"prompt_style"), m.Lineage)
			}
			if back.Roles != m.Tokenizer.Roles() {
				t.Fatalf("roles %+v, want %+v", back.Roles, m.Tokenizer.Roles())
			}
		})
	}
}

// checkTokenizerKV checks the tokenizer metadata as Ollama's decoder sees it.
func checkTokenizerKV(t *testing.T, kv ggml.KV, m *Model) {
	t.Helper()
	tk := m.Tokenizer
	if kv.String("tokenizer.ggml.model") != "gpt2" || kv.String("tokenizer.ggml.pre") != "smollm" {
		t.Errorf("tokenizer.ggml.model %q pre %q", kv.String("tokenizer.ggml.model"), kv.String("tokenizer.ggml.pre"))
	}
	tokens, types, merges := kv.Strings("tokenizer.ggml.tokens"), kv.Ints("tokenizer.ggml.token_type"), kv.Strings("tokenizer.ggml.merges")
	if len(tokens) != m.Config.Vocab || len(types) != m.Config.Vocab {
		t.Fatalf("%d tokens, %d types, want %d (vocab_size)", len(tokens), len(types), m.Config.Vocab)
	}
	if len(merges) != tk.NumMerges() {
		t.Errorf("%d merges, want %d", len(merges), tk.NumMerges())
	}
	// The first merge of a SmolLM2-style tokenizer joins two byte-level symbols.
	if a, b, ok := strings.Cut(merges[0], " "); !ok || a == "" || b == "" {
		t.Errorf("merges[0] = %q, want \"a b\"", merges[0])
	}
	r := tk.Roles()
	if int(kv.Uint("tokenizer.ggml.bos_token_id")) != r.BOS || int(kv.Uint("tokenizer.ggml.eos_token_id")) != r.EOS ||
		int(kv.Uint("tokenizer.ggml.padding_token_id")) != r.PAD {
		t.Errorf("bos/eos/pad %d/%d/%d, want %+v", kv.Uint("tokenizer.ggml.bos_token_id"),
			kv.Uint("tokenizer.ggml.eos_token_id"), kv.Uint("tokenizer.ggml.padding_token_id"), r)
	}
	if tokens[r.EOS] != "<|im_end|>" || types[r.EOS] != tokenControl {
		t.Errorf("eos token %q type %d, want <|im_end|> control", tokens[r.EOS], types[r.EOS])
	}
	if id, ok := tk.TokenID(" the"); !ok || tokens[id] != "Ġthe" || types[id] != tokenNormal {
		t.Errorf("token \" the\": id %d, gguf %q, want byte-level \"Ġthe\"", id, tokens[id])
	}
	if last := m.Config.Vocab - 1; types[last] != tokenUnused {
		t.Errorf("padding row %d: type %d, want unused", last, types[last])
	}
	if kv.Bool("tokenizer.ggml.add_bos_token", true) {
		t.Error("tokenizer.ggml.add_bos_token: want false (prompts carry <|im_start|>)")
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestGGUFLogitsInterleavedRoPE runs the reference forward pass on the tensors exactly
// as stored in the GGUF (permuted, with llama.cpp's adjacent-pair RoPE) and on the
// original weights (rotate_half): the logits must agree, and must not agree without
// the permutation, which shows the test can fail.
func TestGGUFLogitsInterleavedRoPE(t *testing.T) {
	m := tinyModel(t, true, 0, 2)
	path := filepath.Join(t.TempDir(), "model.gguf")
	if err := WriteGGUF(path, m, GGUFOptions{Type: TypeF32}); err != nil {
		t.Fatal(err)
	}
	g, f := decodeGGUF(t, path)
	raw, err := readGGUFWeights(f, g.Tensors(), m.Config, false)
	if err != nil {
		t.Fatal(err)
	}
	ids := m.Tokenizer.EncodeWithSpecial(sampleTexts[2] + "set an alarm for 7:30")
	want := refLogits(m.Config, m.Weights, ids, false)
	if d := maxAbsDiff(refLogits(m.Config, raw, ids, true), want); d > 1e-5 {
		t.Errorf("GGUF tensors with interleaved RoPE: max |logit diff| %g, want <= 1e-5", d)
	}
	if d := maxAbsDiff(refLogits(m.Config, m.Weights, ids, true), want); d < 1e-3 {
		t.Errorf("unpermuted weights with interleaved RoPE differ by only %g: the test cannot see a missing permutation", d)
	}
	back, err := ReadGGUF(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(refLogits(back.Config, back.Weights, ids, false), want); d > 1e-5 {
		t.Errorf("ReadGGUF weights: max |logit diff| %g, want <= 1e-5", d)
	}
}

func TestGGUFQuantized(t *testing.T) {
	m := tinyModel(t, false, 3, 3)
	ids := m.Tokenizer.Encode(corpus[0])
	want := refLogits(m.Config, m.Weights, ids, false)
	for _, tc := range []struct {
		typ  string
		kind ggml.TensorType
		// relTol bounds max |logit diff| / max |logit|. Measured on this model: F16
		// 1.7e-3, Q8_0 5e-2 (weights 8x model.Init's scale, so sharp attention).
		relTol float64
	}{{TypeF16, ggml.TensorTypeF16, 5e-3}, {TypeQ8_0, ggml.TensorTypeQ8_0, 0.1}} {
		t.Run(tc.typ, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.gguf")
			if err := WriteGGUF(path, m, GGUFOptions{Type: tc.typ}); err != nil {
				t.Fatal(err)
			}
			g, _ := decodeGGUF(t, path)
			for _, tn := range g.Tensors().Items() {
				wantKind := tc.kind
				if len(tn.Shape) == 1 {
					wantKind = ggml.TensorTypeF32
				}
				if ggml.TensorType(tn.Kind) != wantKind {
					t.Errorf("tensor %s: %v, want %v", tn.Name, ggml.TensorType(tn.Kind), wantKind)
				}
			}
			back, err := ReadGGUF(path)
			if err != nil {
				t.Fatal(err)
			}
			for name, wt := range m.Weights {
				checkQuantError(t, name, back.Weights[name].Data, wt.Data, tc.typ)
			}
			var scale float64
			for _, v := range want {
				scale = max(scale, math.Abs(v))
			}
			if d := maxAbsDiff(refLogits(back.Config, back.Weights, ids, false), want); d > tc.relTol*scale {
				t.Errorf("logits: max diff %g, want <= %g (%g of max |logit| %g)", d, tc.relTol*scale, tc.relTol, scale)
			}
		})
	}
}

// checkQuantError bounds the error of each value by its format: float16 rounding
// (relative 2^-11, plus subnormal spacing) or half a Q8_0 step of its block plus the
// float16 rounding of the block scale.
func checkQuantError(t *testing.T, name string, got, want []float32, typ string) {
	t.Helper()
	for i, w := range want {
		bound := math.Abs(float64(w))*math.Pow(2, -11) + math.Pow(2, -25)
		if typ == TypeQ8_0 && !strings.HasSuffix(name, "norm.weight") {
			b := i / q8BlockSize * q8BlockSize
			var amax float64
			for _, v := range want[b : b+q8BlockSize] {
				amax = max(amax, math.Abs(float64(v)))
			}
			bound = q8Bound(amax)
		}
		if strings.HasSuffix(name, "norm.weight") {
			bound = 0
		}
		if d := math.Abs(float64(got[i] - w)); d > bound {
			t.Fatalf("%s %s[%d] = %g, want %g within %g", typ, name, i, got[i], w, bound)
		}
	}
}

func TestWriteGGUFRefusesEncoder(t *testing.T) {
	err := WriteGGUF(filepath.Join(t.TempDir(), "enc.gguf"), tinyEncoder(t), GGUFOptions{})
	if !errors.Is(err, ErrEncoderGGUF) {
		t.Fatalf("error %v, want ErrEncoderGGUF", err)
	}
	if !strings.Contains(err.Error(), "llama.cpp") || !strings.Contains(err.Error(), "Hugging Face") {
		t.Errorf("error %q should say why and what to do instead", err)
	}
	if err := WriteGGUF(filepath.Join(t.TempDir(), "x.gguf"), tinyModel(t, true, 0, 1), GGUFOptions{Type: "Q4_K"}); err == nil ||
		!strings.Contains(err.Error(), `"Q4_K"`) {
		t.Errorf("type Q4_K: error %v", err)
	}
}
