package tokenizer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SmolLM2's special tokens.
const (
	// EndOfText ends a document (SmolLM2 id 0, GPT-2 id 50256).
	EndOfText = "<|endoftext|>"
	// IMStart opens a ChatML message.
	IMStart = "<|im_start|>"
	// IMEnd closes a ChatML message; students stop generating on it.
	IMEnd = "<|im_end|>"
	// Pad pads batches when a tokenizer is trained with it.
	Pad = "<pad>"
)

// DefaultSpecialTokens returns SmolLM2's first special tokens, in id order, and
// Pad after them when withPad is set.
func DefaultSpecialTokens(withPad bool) []string {
	s := []string{EndOfText, IMStart, IMEnd}
	if withPad {
		s = append(s, Pad)
	}
	return s
}

// AddedToken is a token matched verbatim in text before pre-tokenization,
// Hugging Face's added_tokens entry. Content is literal text, not byte-level.
type AddedToken struct {
	// ID is the token id.
	ID int `json:"id"`
	// Content is the literal text of the token, e.g. "<|im_end|>".
	Content string `json:"content"`
	// SingleWord, LStrip, RStrip and Normalized are Hugging Face matching
	// options. They are kept so a file saves unchanged; matching here is always
	// exact, which is what they mean when false (SmolLM2's case).
	SingleWord bool `json:"single_word"`
	// LStrip see SingleWord.
	LStrip bool `json:"lstrip"`
	// RStrip see SingleWord.
	RStrip bool `json:"rstrip"`
	// Normalized see SingleWord.
	Normalized bool `json:"normalized"`
	// Special marks control tokens (skipped by DecodeSkipSpecial).
	Special bool `json:"special"`
}

// Tokenizer is a byte-level BPE tokenizer. It is safe for concurrent use once
// built; only its word cache changes, under a lock.
type Tokenizer struct {
	model bpe
	pre   PreTokenizer
	// added holds the added tokens sorted by id; addedIDs maps content to id.
	added    []AddedToken
	addedIDs map[string]int
	// isAdded marks the ids of added tokens, so Decode emits their content.
	isAdded []bool
	// hf holds tokenizer.json sections this package does not interpret, so
	// that Save writes a loaded file back with them.
	hf    hfExtras
	cache wordCache
}

// New builds a tokenizer from a vocabulary of raw byte strings (vocab[id]; ""
// for an unused id), merges of raw byte strings in rank order, and added tokens
// (whose id may lie inside vocab, holding their content, or past its end).
// Every merge's parts and result must be in vocab.
func New(vocab []string, merges [][2]string, added []AddedToken, pre PreTokenizer) (*Tokenizer, error) {
	if err := pre.check(); err != nil {
		return nil, err
	}
	t := &Tokenizer{pre: pre, addedIDs: map[string]int{}}
	t.model.unk = -1
	size := len(vocab)
	for _, a := range added {
		size = max(size, a.ID+1)
	}
	t.model.tokens = make([]string, size)
	t.isAdded = make([]bool, size)
	t.model.ids = make(map[string]int32, len(vocab))
	for id, tok := range vocab {
		if tok == "" {
			continue
		}
		if prev, dup := t.model.ids[tok]; dup {
			return nil, fmt.Errorf("model.vocab: token %q has ids %d and %d", tok, prev, id)
		}
		t.model.ids[tok] = int32(id)
		t.model.tokens[id] = tok
	}
	for i, a := range added {
		if err := t.addToken(a); err != nil {
			return nil, fmt.Errorf("added_tokens[%d]: %w", i, err)
		}
	}
	for b := range 256 {
		t.model.byteIDs[b] = -1
		if id, ok := t.model.ids[string([]byte{byte(b)})]; ok {
			t.model.byteIDs[b] = id
		}
	}
	t.model.merges = make(map[uint64]merge, len(merges))
	for i, mg := range merges {
		if err := t.addMerge(mg[0], mg[1]); err != nil {
			return nil, fmt.Errorf("model.merges[%d] (%q %q): %w", i, mg[0], mg[1], err)
		}
	}
	return t, nil
}

func (t *Tokenizer) addToken(a AddedToken) error {
	if a.ID < 0 || a.Content == "" {
		return fmt.Errorf("id %d content %q: want id >= 0 and non-empty content", a.ID, a.Content)
	}
	if prev, dup := t.addedIDs[a.Content]; dup {
		return fmt.Errorf("content %q has ids %d and %d", a.Content, prev, a.ID)
	}
	if tok := t.model.tokens[a.ID]; tok != "" && tok != a.Content {
		return fmt.Errorf("id %d is %q in the vocab, not %q", a.ID, tok, a.Content)
	}
	t.model.tokens[a.ID] = a.Content
	if _, ok := t.model.ids[a.Content]; !ok {
		t.model.ids[a.Content] = int32(a.ID)
	}
	t.addedIDs[a.Content] = a.ID
	t.isAdded[a.ID] = true
	i, _ := slices.BinarySearchFunc(t.added, a.ID, func(x AddedToken, id int) int { return x.ID - id })
	t.added = slices.Insert(t.added, i, a)
	return nil
}

func (t *Tokenizer) addMerge(a, b string) error {
	ia, oka := t.model.ids[a]
	ib, okb := t.model.ids[b]
	im, okm := t.model.ids[a+b]
	switch {
	case !oka:
		return fmt.Errorf("left part not in vocab")
	case !okb:
		return fmt.Errorf("right part not in vocab")
	case !okm:
		return fmt.Errorf("merged token not in vocab")
	}
	k := pairKey(ia, ib)
	if _, dup := t.model.merges[k]; dup {
		return errors.New("duplicate merge")
	}
	t.model.merges[k] = merge{rank: int32(len(t.model.mergeList)), id: im}
	t.model.mergeList = append(t.model.mergeList, [2]int32{ia, ib})
	return nil
}

// VocabSize is one more than the largest id, the embedding rows a model needs.
func (t *Tokenizer) VocabSize() int { return len(t.model.tokens) }

// NumMerges is the number of merge rules.
func (t *Tokenizer) NumMerges() int { return len(t.model.mergeList) }

// PreTokenizer returns the pre-tokenization settings.
func (t *Tokenizer) PreTokenizer() PreTokenizer { return t.pre }

// AddedTokens returns a copy of the added tokens, sorted by id.
func (t *Tokenizer) AddedTokens() []AddedToken { return slices.Clone(t.added) }

// TokenID returns the id of an added token's content or of a vocabulary entry
// given as raw bytes.
func (t *Tokenizer) TokenID(s string) (int, bool) {
	if id, ok := t.addedIDs[s]; ok {
		return id, true
	}
	id, ok := t.model.ids[s]
	return int(id), ok
}

// Token returns the raw bytes (or added token content) of id.
func (t *Tokenizer) Token(id int) (string, bool) {
	if id < 0 || id >= len(t.model.tokens) || t.model.tokens[id] == "" {
		return "", false
	}
	return t.model.tokens[id], true
}

// IsSpecial reports whether id is an added token marked special.
func (t *Tokenizer) IsSpecial(id int) bool {
	if id < 0 || id >= len(t.isAdded) || !t.isAdded[id] {
		return false
	}
	return t.added[t.addedIndex(id)].Special
}

func (t *Tokenizer) addedIndex(id int) int {
	i, _ := slices.BinarySearchFunc(t.added, id, func(x AddedToken, id int) int { return x.ID - id })
	return i
}

// Encode returns the ids of text, treating all of it as plain text: a
// "<|im_end|>" inside user input is encoded as characters, never as the control
// token. Use EncodeWithSpecial for text that contains added tokens on purpose.
func (t *Tokenizer) Encode(text string) []int {
	// Text averages 3 to 4 bytes per token; sizing up front saves the copies
	// of a growing slice.
	return t.AppendEncode(make([]int, 0, len(text)/3+4), text)
}

// AppendEncode appends the ids of text (as Encode) to dst.
func (t *Tokenizer) AppendEncode(dst []int, text string) []int {
	t.pre.split(text, func(word string) {
		if len(word) == 1 && t.model.byteIDs[word[0]] >= 0 {
			dst = append(dst, int(t.model.byteIDs[word[0]]))
			return
		}
		ids, ok := t.cache.get(word)
		if !ok {
			ids = t.model.encodeWord(word)
			t.cache.put(word, ids)
		}
		for _, id := range ids {
			dst = append(dst, int(id))
		}
	})
	return dst
}

// EncodeWithSpecial returns the ids of text with every added token's content
// recognised (the leftmost occurrence first, the longest at the same place),
// like Hugging Face's encode(text, add_special_tokens=False).
func (t *Tokenizer) EncodeWithSpecial(text string) []int {
	var dst []int
	for text != "" {
		pos, id, n := t.nextAdded(text)
		if pos < 0 {
			break
		}
		dst = t.AppendEncode(dst, text[:pos])
		dst = append(dst, id)
		text = text[pos+n:]
	}
	return t.AppendEncode(dst, text)
}

// nextAdded finds the first added token in text: its byte position, id and
// length, or pos -1.
func (t *Tokenizer) nextAdded(text string) (pos, id, n int) {
	pos = -1
	for _, a := range t.added {
		i := strings.Index(text, a.Content)
		if i < 0 {
			continue
		}
		if pos < 0 || i < pos || (i == pos && len(a.Content) > n) {
			pos, id, n = i, a.ID, len(a.Content)
		}
	}
	return pos, id, n
}

// Decode returns the text of ids, added tokens as their content. Ids outside
// the vocabulary are skipped, as Hugging Face does; DecodeBytes reports them.
func (t *Tokenizer) Decode(ids []int) string {
	var sb strings.Builder
	for _, id := range ids {
		if tok, ok := t.Token(id); ok {
			sb.WriteString(tok)
		}
	}
	return sb.String()
}

// DecodeSkipSpecial is Decode without the special tokens.
func (t *Tokenizer) DecodeSkipSpecial(ids []int) string {
	var sb strings.Builder
	for _, id := range ids {
		if tok, ok := t.Token(id); ok && !t.IsSpecial(id) {
			sb.WriteString(tok)
		}
	}
	return sb.String()
}

// DecodeBytes is Decode that fails on an id outside the vocabulary. The bytes
// may end inside a UTF-8 character when ids is a prefix of a longer output.
func (t *Tokenizer) DecodeBytes(ids []int) ([]byte, error) {
	var out []byte
	for i, id := range ids {
		tok, ok := t.Token(id)
		if !ok {
			return nil, fmt.Errorf("decode: ids[%d] = %d is not in the vocabulary (size %d)", i, id, t.VocabSize())
		}
		out = append(out, tok...)
	}
	return out, nil
}
