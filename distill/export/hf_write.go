package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// ChatTemplate is the Jinja chat template of our students' ChatML prompt format
// (tokenizer.FormatChat): no default system turn, generation starts after
// "<|im_start|>assistant\n". It goes into tokenizer_config.json and GGUF's
// tokenizer.chat_template.
const ChatTemplate = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
	"{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

// EncoderArchitecture is the architectures entry of an exported encoder classifier.
// transformers has no class for a bidirectional Llama with a pooled head: the backbone
// tensors load into LlamaModel, but the classifier needs mlmforge's inference.
const EncoderArchitecture = "MLMForgeLlamaEncoderForSequenceClassification"

// WriteHF writes m as a Hugging Face directory: config.json (LlamaConfig keys,
// architectures ["LlamaForCausalLM"], model_type llama, torch_dtype float32, plus
// mlmforge's format_version and arch so that model.LoadCheckpoint reads it too),
// model.safetensors (F32), tokenizer.json, tokenizer_config.json (ChatML template)
// and, for decoders, generation_config.json (greedy, stop on EOS). The directory is
// replaced atomically (atomicfile.ReplaceDir): a crash leaves the old or the new one.
func WriteHF(dir string, m *Model) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("write hf %s: %w", dir, err)
	}
	if m.Config.Pointer {
		return fmt.Errorf("write hf %s: %w", dir, ErrPointer)
	}
	if err := atomicfile.ReplaceDir(dir, func(tmp string) error { return writeHFFiles(tmp, m) }); err != nil {
		return fmt.Errorf("write hf %s: %w", dir, err)
	}
	return nil
}

// writeHFFiles writes every file of the directory into dir.
func writeHFFiles(dir string, m *Model) error {
	roles := m.Tokenizer.Roles()
	if err := writeJSONFile(filepath.Join(dir, model.ConfigFile), hfConfigJSON(m, roles)); err != nil {
		return err
	}
	meta := map[string]string{"format": "pt"} // what transformers expects to see
	if err := model.WriteSafetensors(filepath.Join(dir, model.WeightsFile), m.Weights, meta); err != nil {
		return err
	}
	if err := m.Tokenizer.Save(filepath.Join(dir, model.TokenizerFile)); err != nil {
		return err
	}
	if err := writeJSONFile(filepath.Join(dir, TokenizerConfigFile), tokenizerConfigJSON(m, roles)); err != nil {
		return err
	}
	if m.Config.Arch != model.ArchDecoder {
		return nil
	}
	gen := map[string]any{"do_sample": false}
	putRoles(gen, roles)
	return writeJSONFile(filepath.Join(dir, GenerationConfigFile), gen)
}

// hfConfigJSON is config.json: our Config (whose JSON names are LlamaConfig's) and the
// keys transformers needs to pick the class and dtype.
func hfConfigJSON(m *Model, roles tokenizer.Roles) map[string]any {
	c := m.Config
	out := map[string]any{
		"arch": c.Arch, "vocab_size": c.Vocab, "hidden_size": c.Hidden, "num_hidden_layers": c.Layers,
		"num_attention_heads": c.Heads, "num_key_value_heads": c.KVHeads, "intermediate_size": c.Intermediate,
		"max_position_embeddings": c.MaxSeq, "rope_theta": c.RopeTheta, "rms_norm_eps": c.NormEps,
		"tie_word_embeddings": c.TiedEmbeddings, "head_dim": c.HeadDim(),
		"architectures": []string{"LlamaForCausalLM"}, "model_type": "llama", "torch_dtype": "float32",
		"hidden_act": "silu", "attention_bias": false, "mlp_bias": false, "attention_dropout": 0.0,
		"rope_scaling": nil, "initializer_range": 0.02, "pretraining_tp": 1, "use_cache": true,
		"format_version": model.CheckpointFormatVersion,
	}
	if len(m.Lineage) > 0 {
		out["lineage"] = m.Lineage
	}
	putRoles(out, roles)
	if c.Arch == model.ArchEncoder {
		out["architectures"] = []string{EncoderArchitecture}
		out["num_classes"], out["pooling"], out["use_cache"] = c.NumClasses, c.Pooling, false
		if m.Labels != nil {
			id2label, label2id := map[string]string{}, map[string]int{}
			for i, l := range m.Labels {
				id2label[strconv.Itoa(i)], label2id[l] = l, i
			}
			out["labels"], out["id2label"], out["label2id"] = m.Labels, id2label, label2id
		}
	}
	return out
}

// tokenizerConfigJSON is tokenizer_config.json: the role tokens by content, the
// context length and the ChatML template.
func tokenizerConfigJSON(m *Model, roles tokenizer.Roles) map[string]any {
	out := map[string]any{
		"tokenizer_class": "GPT2Tokenizer", "model_max_length": m.Config.MaxSeq,
		"add_prefix_space": m.Tokenizer.PreTokenizer().AddPrefixSpace, "clean_up_tokenization_spaces": false,
		"chat_template": ChatTemplate,
	}
	for key, id := range map[string]int{"bos_token": roles.BOS, "eos_token": roles.EOS, "pad_token": roles.PAD} {
		if tok, ok := m.Tokenizer.Token(id); ok {
			out[key] = tok
		}
	}
	return out
}

// putRoles adds bos/eos/pad_token_id for the roles the tokenizer has.
func putRoles(out map[string]any, r tokenizer.Roles) {
	for key, id := range map[string]int{"bos_token_id": r.BOS, "eos_token_id": r.EOS, "pad_token_id": r.PAD} {
		if id >= 0 {
			out[key] = id
		}
	}
}

// writeJSONFile writes v as indented JSON, keeping "<|im_end|>" readable.
func writeJSONFile(path string, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, b.Bytes(), 0o644)
}
