package tokenizer

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// hfExtras holds what a tokenizer.json carries beyond what this package
// interprets, so that Save writes a loaded file back with it.
type hfExtras struct {
	version                                 string
	truncation, padding, normalizer         json.RawMessage
	postProcessor, decoder, dropout, unkTok json.RawMessage
	fuseUnk                                 bool
	// mergesAsPairs writes merges as [["a","b"]] (tokenizers >= 0.20) instead
	// of "a b", which every version reads.
	mergesAsPairs bool
}

// hfFile is the top level of a Hugging Face tokenizer.json. Unknown keys are
// ignored.
type hfFile struct {
	Version       string          `json:"version"`
	Truncation    json.RawMessage `json:"truncation"`
	Padding       json.RawMessage `json:"padding"`
	AddedTokens   []AddedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         hfModel         `json:"model"`
}

// hfModel is the "model" section of a BPE tokenizer.json.
type hfModel struct {
	Type                    string          `json:"type"`
	Dropout                 json.RawMessage `json:"dropout"`
	UnkToken                json.RawMessage `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Vocab                   map[string]int  `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
}

// hfPre is one pre-tokenizer (or decoder) object; Sequence nests others.
type hfPre struct {
	Type             string            `json:"type"`
	AddPrefixSpace   bool              `json:"add_prefix_space"`
	TrimOffsets      *bool             `json:"trim_offsets"`
	UseRegex         *bool             `json:"use_regex"`
	IndividualDigits bool              `json:"individual_digits"`
	PreTokenizers    []json.RawMessage `json:"pretokenizers"`
}

// Load reads a Hugging Face tokenizer.json with a byte-level BPE model, such as
// GPT-2's or SmolLM2's. Errors name the file and the JSON field.
func Load(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	return Parse(data, path)
}

// Parse is Load on file contents; name is used in errors.
func Parse(data []byte, name string) (*Tokenizer, error) {
	t, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", name, err)
	}
	return t, nil
}

func parse(data []byte) (*Tokenizer, error) {
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse json: %w", err)
	}
	if f.Model.Type != "" && f.Model.Type != "BPE" {
		return nil, fmt.Errorf("model.type %q: only BPE is supported", f.Model.Type)
	}
	if err := checkModelOptions(f.Model); err != nil {
		return nil, err
	}
	pre, err := parsePreTokenizer(f.PreTokenizer)
	if err != nil {
		return nil, err
	}
	if err := checkDecoder(f.Decoder); err != nil {
		return nil, err
	}
	vocab, err := parseVocab(f.Model.Vocab, f.AddedTokens)
	if err != nil {
		return nil, err
	}
	merges, asPairs, err := parseMerges(f.Model.Merges)
	if err != nil {
		return nil, err
	}
	t, err := New(vocab, merges, f.AddedTokens, pre)
	if err != nil {
		return nil, err
	}
	t.model.ignoreMerges = f.Model.IgnoreMerges
	if unk, err := unkID(t, f.Model.UnkToken); err != nil {
		return nil, err
	} else {
		t.model.unk = unk
	}
	t.hf = hfExtras{
		version: f.Version, truncation: f.Truncation, padding: f.Padding, normalizer: f.Normalizer,
		postProcessor: f.PostProcessor, decoder: f.Decoder, dropout: f.Model.Dropout,
		unkTok: f.Model.UnkToken, fuseUnk: f.Model.FuseUnk, mergesAsPairs: asPairs,
	}
	return t, nil
}

// checkModelOptions rejects BPE options that change encoding in ways this
// package does not implement.
func checkModelOptions(m hfModel) error {
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
		return errors.New("model.continuing_subword_prefix: not supported by a byte-level BPE")
	}
	if m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "" {
		return errors.New("model.end_of_word_suffix: not supported by a byte-level BPE")
	}
	if m.ByteFallback {
		return errors.New("model.byte_fallback: not supported by a byte-level BPE")
	}
	if len(m.Vocab) == 0 {
		return errors.New("model.vocab: missing or empty")
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

// parsePreTokenizer accepts ByteLevel and Sequence[Split?, Digits?, ByteLevel],
// where Split is IsolateStructure's.
func parsePreTokenizer(raw json.RawMessage) (PreTokenizer, error) {
	if isNull(raw) {
		return PreTokenizer{}, errors.New("pre_tokenizer: missing; want ByteLevel or Sequence[Split, Digits, ByteLevel]")
	}
	var top hfPre
	if err := json.Unmarshal(raw, &top); err != nil {
		return PreTokenizer{}, fmt.Errorf("pre_tokenizer: %w", err)
	}
	steps := []json.RawMessage{raw}
	stepField := func(int) string { return "pre_tokenizer" }
	if top.Type == "Sequence" {
		steps = top.PreTokenizers
		stepField = func(i int) string { return fmt.Sprintf("pre_tokenizer.pretokenizers[%d]", i) }
	}
	var p PreTokenizer
	sawByteLevel := false
	for i, s := range steps {
		var step hfPre
		if err := json.Unmarshal(s, &step); err != nil {
			return p, fmt.Errorf("%s: %w", stepField(i), err)
		}
		switch {
		case step.Type == "Split" && i == 0 && top.Type == "Sequence":
			if err := checkSplit(s, StructurePattern); err != nil {
				return p, fmt.Errorf("%s: %w", stepField(i), err)
			}
			p.IsolateStructure = true
		case step.Type == "Split" && i == 1 && p.IsolateStructure:
			if err := checkSplit(s, DecimalPattern); err != nil {
				return p, fmt.Errorf("%s: %w", stepField(i), err)
			}
			p.DecimalPoints, p.SplitDigits, p.IndividualDigits = true, true, true
		case step.Type == "Digits" && !sawByteLevel && !p.SplitDigits:
			p.SplitDigits, p.IndividualDigits = true, step.IndividualDigits
		case step.Type == "ByteLevel" && !sawByteLevel:
			sawByteLevel = true
			p.AddPrefixSpace = step.AddPrefixSpace
			p.UseRegex = step.UseRegex == nil || *step.UseRegex
			p.TrimOffsets = step.TrimOffsets == nil || *step.TrimOffsets
		default:
			return p, fmt.Errorf("%s.type %q: not supported here; want ByteLevel or Sequence[Split, Digits, ByteLevel]", stepField(i), step.Type)
		}
	}
	if !sawByteLevel {
		return p, errors.New("pre_tokenizer: no ByteLevel step")
	}
	if p.DecimalPoints {
		// DecimalPattern is GPT-2's regex: ByteLevel must not split again.
		if p.UseRegex {
			return p, errors.New("pre_tokenizer: the ByteLevel step after the decimal-point Split must have use_regex false")
		}
		p.UseRegex = true
	}
	return p, p.check()
}

// checkSplit accepts the Split steps this package implements: pattern (the
// structure or decimal-point regex), Isolated, not inverted.
func checkSplit(raw json.RawMessage, pattern string) error {
	var s struct {
		Pattern  map[string]string `json:"pattern"`
		Behavior string            `json:"behavior"`
		Invert   bool              `json:"invert"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	if s.Pattern["Regex"] != pattern || s.Behavior != "Isolated" || s.Invert {
		return fmt.Errorf("split %v %s invert=%v: only Split{Regex %q, Isolated} is supported here", s.Pattern, s.Behavior, s.Invert, pattern)
	}
	return nil
}

// checkDecoder accepts a ByteLevel decoder or none (Decode is always byte-level).
func checkDecoder(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var d hfPre
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("decoder: %w", err)
	}
	if d.Type != "ByteLevel" {
		return fmt.Errorf("decoder.type %q: only ByteLevel is supported", d.Type)
	}
	return nil
}

// parseVocab turns the byte-level vocab keys into raw bytes by id. Keys that
// are added tokens' contents are literal text.
func parseVocab(v map[string]int, added []AddedToken) ([]string, error) {
	literal := map[string]bool{}
	size := 0
	for _, a := range added {
		literal[a.Content] = true
	}
	for _, id := range v {
		size = max(size, id+1)
	}
	vocab := make([]string, size)
	owner := make([]string, size)
	for key, id := range v {
		if id < 0 {
			return nil, fmt.Errorf("model.vocab[%q]: negative id %d", key, id)
		}
		raw := key
		if !literal[key] {
			var err error
			if raw, err = byteLevelDecode(key); err != nil {
				return nil, fmt.Errorf("model.vocab[%q]: %w", key, err)
			}
		}
		if owner[id] != "" {
			a, b := min(owner[id], key), max(owner[id], key)
			return nil, fmt.Errorf("model.vocab: %q and %q share id %d", a, b, id)
		}
		vocab[id], owner[id] = raw, key
	}
	return vocab, nil
}

// parseMerges reads merges in either form: ["a b", ...] or [["a", "b"], ...].
func parseMerges(raw json.RawMessage) (merges [][2]string, asPairs bool, err error) {
	if isNull(raw) {
		return nil, false, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, false, fmt.Errorf("model.merges: %w", err)
	}
	for i, it := range items {
		var pair [2]string
		var s string
		var arr []string
		switch {
		case json.Unmarshal(it, &s) == nil:
			a, b, ok := strings.Cut(s, " ")
			if !ok || a == "" || b == "" || strings.Contains(b, " ") {
				return nil, false, fmt.Errorf("model.merges[%d] %q: want two tokens separated by one space", i, s)
			}
			pair = [2]string{a, b}
		case json.Unmarshal(it, &arr) == nil && len(arr) == 2:
			pair, asPairs = [2]string{arr[0], arr[1]}, true
		default:
			return nil, false, fmt.Errorf("model.merges[%d]: want \"a b\" or [\"a\", \"b\"], got %s", i, it)
		}
		for j, part := range pair {
			if pair[j], err = byteLevelDecode(part); err != nil {
				return nil, false, fmt.Errorf("model.merges[%d][%d] %q: %w", i, j, part, err)
			}
		}
		merges = append(merges, pair)
	}
	return merges, asPairs, nil
}

// unkID resolves model.unk_token (null or a vocab entry).
func unkID(t *Tokenizer, raw json.RawMessage) (int32, error) {
	if isNull(raw) {
		return -1, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return -1, fmt.Errorf("model.unk_token: %w", err)
	}
	id, ok := t.TokenID(s)
	if !ok {
		if dec, err := byteLevelDecode(s); err == nil {
			id, ok = t.TokenID(dec)
		}
	}
	if !ok {
		return -1, fmt.Errorf("model.unk_token %q: not in model.vocab", s)
	}
	return int32(id), nil
}

// Save writes t as a Hugging Face tokenizer.json, atomically (atomicfile.WriteFile).
func (t *Tokenizer) Save(path string) error {
	data, err := t.MarshalJSON()
	if err != nil {
		return fmt.Errorf("save tokenizer %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("save tokenizer %s: %w", path, err)
	}
	return nil
}

// SetMergesAsPairs chooses how Save writes merges: [["a","b"]] (true, read by
// tokenizers >= 0.20) or "a b" (false, read by every version). A loaded file
// keeps its form; new tokenizers default to "a b".
func (t *Tokenizer) SetMergesAsPairs(pairs bool) { t.hf.mergesAsPairs = pairs }

var _ json.Marshaler = (*Tokenizer)(nil)

// MarshalJSON returns the tokenizer.json text (indented, sections in Hugging
// Face's order, vocab in id order).
func (t *Tokenizer) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	w := &jsonWriter{buf: &b}
	b.WriteString(`{"version":`)
	w.value(cmp.Or(t.hf.version, "1.0"))
	b.WriteString(`,"truncation":`)
	w.raw(t.hf.truncation, "null")
	b.WriteString(`,"padding":`)
	w.raw(t.hf.padding, "null")
	b.WriteString(`,"added_tokens":`)
	w.value(orEmpty(t.added))
	b.WriteString(`,"normalizer":`)
	w.raw(t.hf.normalizer, "null")
	b.WriteString(`,"pre_tokenizer":`)
	w.value(t.pre.hfJSON())
	b.WriteString(`,"post_processor":`)
	w.raw(t.hf.postProcessor, `{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true}`)
	b.WriteString(`,"decoder":`)
	w.raw(t.hf.decoder, `{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}`)
	b.WriteString(`,"model":`)
	t.writeModel(w)
	b.WriteString("}")
	if w.err != nil {
		return nil, w.err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("indent tokenizer.json: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
