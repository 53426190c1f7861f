package export

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ollama/ollama/fs/ggml"

	"github.com/cyclecore/mlmforge/distill/tokenizer"
)

// llama.cpp's token types (llama_token_type / gguf-py TokenType).
const (
	tokenNormal      int32 = 1
	tokenControl     int32 = 3
	tokenUserDefined int32 = 4
	tokenUnused      int32 = 5
)

// llama.cpp pre-tokenizer names (tokenizer.ggml.pre) of the two pre-tokenizers our
// tokenizer has: GPT-2's regex, and SmolLM2's individual digits before it.
const (
	preGPT2   = "gpt-2"
	preSmolLM = "smollm"
)

// Pre-tokenizer sections of tokenizer.json for each llama.cpp pre-tokenizer name.
const (
	byteLevelJSON = `{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}`
	smolLMPreJSON = `{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},` + byteLevelJSON + `]}`
)

// hfTokenizerView is the part of tokenizer.json that GGUF stores: vocab keys are
// GPT-2 byte-level strings (added tokens literal), merges "a b" or ["a", "b"].
type hfTokenizerView struct {
	AddedTokens []tokenizer.AddedToken `json:"added_tokens"`
	Model       struct {
		Vocab  map[string]int    `json:"vocab"`
		Merges []json.RawMessage `json:"merges"`
	} `json:"model"`
}

// ggufPreName is the llama.cpp pre-tokenizer that splits text as p does.
func ggufPreName(p tokenizer.PreTokenizer) (string, error) {
	switch {
	case p.IsolateStructure:
		return "", fmt.Errorf("tokenizer pre_tokenizer %+v: llama.cpp has no pre-tokenizer that isolates whitespace and quotes "+
			"(mlmforge's student tokenizer); export this student as an HF directory (--format hf), whose tokenizer.json "+
			"Hugging Face tokenizers reads exactly", p)
	case p.UseRegex && !p.AddPrefixSpace && p.SplitDigits && p.IndividualDigits:
		return preSmolLM, nil
	case p.UseRegex && !p.AddPrefixSpace && !p.SplitDigits:
		return preGPT2, nil
	}
	return "", fmt.Errorf("tokenizer pre_tokenizer %+v: llama.cpp has no equivalent (want GPT-2 or SmolLM2 style)", p)
}

// tokenizerKV returns the tokenizer.ggml.* keys of tok with vocab ids: tokens in the
// byte-level form llama.cpp's gpt2 model expects, ids the tokenizer does not use (and
// the padding rows up to vocab) as unused "[PAD<id>]" tokens.
func tokenizerKV(tok *tokenizer.Tokenizer, vocab int) (ggml.KV, error) {
	pre, err := ggufPreName(tok.PreTokenizer())
	if err != nil {
		return nil, err
	}
	data, err := tok.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var view hfTokenizerView
	if err := json.Unmarshal(data, &view); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	tokens, types := make([]string, vocab), make([]int32, vocab)
	for i := range tokens {
		tokens[i], types[i] = fmt.Sprintf("[PAD%d]", i), tokenUnused
	}
	for key, id := range view.Model.Vocab {
		if id < 0 || id >= vocab {
			return nil, fmt.Errorf("tokenizer.json model.vocab[%q]: id %d outside vocab_size %d", key, id, vocab)
		}
		tokens[id], types[id] = key, tokenNormal
	}
	for _, a := range view.AddedTokens {
		if a.ID >= vocab {
			return nil, fmt.Errorf("tokenizer.json added_tokens %q: id %d outside vocab_size %d", a.Content, a.ID, vocab)
		}
		tokens[a.ID], types[a.ID] = a.Content, tokenUserDefined
		if a.Special {
			types[a.ID] = tokenControl
		}
	}
	merges := make([]string, len(view.Model.Merges))
	for i, raw := range view.Model.Merges {
		var s string
		var pair [2]string
		switch {
		case json.Unmarshal(raw, &s) == nil:
			merges[i] = s
		case json.Unmarshal(raw, &pair) == nil:
			merges[i] = pair[0] + " " + pair[1]
		default:
			return nil, fmt.Errorf("tokenizer.json model.merges[%d]: %s", i, raw)
		}
	}
	kv := ggml.KV{
		"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": pre,
		"tokenizer.ggml.tokens": tokens, "tokenizer.ggml.token_type": types, "tokenizer.ggml.merges": merges,
		// Our prompts carry their own <|im_start|>: llama.cpp must not prepend a BOS.
		"tokenizer.ggml.add_bos_token": false, "tokenizer.ggml.add_eos_token": false,
		"tokenizer.chat_template": ChatTemplate,
	}
	r := tok.Roles()
	for key, id := range map[string]int{"bos": r.BOS, "eos": r.EOS, "padding": r.PAD} {
		if id >= 0 {
			kv["tokenizer.ggml."+key+"_token_id"] = uint32(id)
		}
	}
	return kv, nil
}

// tokenizerFromKV rebuilds our tokenizer from a GGUF's tokenizer.ggml.* keys by way
// of the equivalent tokenizer.json, so that parsing and validation are the tokenizer
// package's. Unused tokens (padding rows) are left out of the vocabulary.
func tokenizerFromKV(kv ggml.KV) (*tokenizer.Tokenizer, tokenizer.Roles, error) {
	roles := tokenizer.Roles{BOS: -1, EOS: -1, PAD: -1}
	if m := kv.String("tokenizer.ggml.model"); m != "gpt2" {
		return nil, roles, fmt.Errorf("tokenizer.ggml.model %q: only gpt2 (byte-level BPE) is supported", m)
	}
	preJSON, err := preTokenizerJSON(kv.String("tokenizer.ggml.pre"))
	if err != nil {
		return nil, roles, err
	}
	tokens, types := kv.Strings("tokenizer.ggml.tokens"), kv.Ints("tokenizer.ggml.token_type")
	if len(tokens) == 0 {
		return nil, roles, fmt.Errorf("tokenizer.ggml.tokens: missing or empty")
	}
	if types != nil && len(types) != len(tokens) {
		return nil, roles, fmt.Errorf("tokenizer.ggml.token_type: %d types for %d tokens", len(types), len(tokens))
	}
	vocab := make(map[string]int, len(tokens))
	var added []tokenizer.AddedToken
	for id, s := range tokens {
		typ := tokenNormal
		if types != nil {
			typ = types[id]
		}
		if typ == tokenUnused {
			continue
		}
		if prev, dup := vocab[s]; dup {
			return nil, roles, fmt.Errorf("tokenizer.ggml.tokens: %q has ids %d and %d", s, prev, id)
		}
		vocab[s] = id
		if typ == tokenControl || typ == tokenUserDefined {
			added = append(added, tokenizer.AddedToken{ID: id, Content: s, Special: typ == tokenControl})
		}
	}
	merges := kv.Strings("tokenizer.ggml.merges")
	if merges == nil {
		merges = []string{}
	}
	doc := map[string]any{
		"version": "1.0", "added_tokens": added, "pre_tokenizer": json.RawMessage(preJSON),
		"decoder": json.RawMessage(byteLevelJSON),
		"model":   map[string]any{"type": "BPE", "vocab": vocab, "merges": merges},
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, roles, fmt.Errorf("tokenizer.ggml.*: %w", err)
	}
	tok, err := tokenizer.Parse(data, "tokenizer.ggml.*")
	if err != nil {
		return nil, roles, err
	}
	for key, dst := range map[string]*int{"bos": &roles.BOS, "eos": &roles.EOS, "padding": &roles.PAD} {
		if id, ok := kvUint(kv, "tokenizer.ggml."+key+"_token_id"); ok {
			if id >= uint64(len(tokens)) {
				return nil, roles, fmt.Errorf("tokenizer.ggml.%s_token_id: %d outside the %d tokens", key, id, len(tokens))
			}
			*dst = int(id)
		}
	}
	return tok, roles, nil
}

// preTokenizerJSON is the tokenizer.json pre_tokenizer for a llama.cpp pre-tokenizer
// name. "default" (what Ollama's converter writes for tokenizers without a Split
// step) and a missing name are read as GPT-2's ByteLevel.
func preTokenizerJSON(name string) (string, error) {
	switch name {
	case preSmolLM:
		return smolLMPreJSON, nil
	case preGPT2, "gpt2", "default", "":
		return byteLevelJSON, nil
	}
	return "", fmt.Errorf("tokenizer.ggml.pre %q: not supported (want %s)", name,
		strings.Join([]string{preSmolLM, preGPT2, "default"}, ", "))
}
