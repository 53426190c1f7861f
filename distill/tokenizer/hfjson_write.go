package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// jsonWriter appends JSON values to buf and keeps the first error.
type jsonWriter struct {
	buf *bytes.Buffer
	err error
}

func (w *jsonWriter) value(v any) {
	if w.err != nil {
		return
	}
	// Without HTML escaping "<|im_end|>" stays readable in the file.
	enc := json.NewEncoder(w.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		w.err = fmt.Errorf("marshal tokenizer.json: %w", err)
	}
}

// raw writes a preserved section, or def when there is none.
func (w *jsonWriter) raw(r json.RawMessage, def string) {
	if len(bytes.TrimSpace(r)) == 0 {
		w.buf.WriteString(def)
		return
	}
	w.buf.Write(r)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// hfByteLevel is the ByteLevel pre-tokenizer object.
type hfByteLevel struct {
	Type           string `json:"type"`
	AddPrefixSpace bool   `json:"add_prefix_space"`
	TrimOffsets    bool   `json:"trim_offsets"`
	UseRegex       bool   `json:"use_regex"`
}

// hfDigits is the Digits pre-tokenizer object.
type hfDigits struct {
	Type             string `json:"type"`
	IndividualDigits bool   `json:"individual_digits"`
}

// hfSplit is the Split pre-tokenizer object with a regex pattern.
type hfSplit struct {
	Type     string            `json:"type"`
	Pattern  map[string]string `json:"pattern"`
	Behavior string            `json:"behavior"`
	Invert   bool              `json:"invert"`
}

// hfSequence is the Sequence pre-tokenizer object.
type hfSequence struct {
	Type          string `json:"type"`
	PreTokenizers []any  `json:"pretokenizers"`
}

// hfJSON returns the pre_tokenizer object for p.
func (p PreTokenizer) hfJSON() any {
	bl := hfByteLevel{Type: "ByteLevel", AddPrefixSpace: p.AddPrefixSpace, TrimOffsets: p.TrimOffsets, UseRegex: p.UseRegex}
	var steps []any
	if p.IsolateStructure {
		steps = append(steps, hfSplit{Type: "Split", Pattern: map[string]string{"Regex": StructurePattern}, Behavior: "Isolated"})
	}
	switch {
	case p.DecimalPoints:
		// The digits and GPT-2's regex in one Split, so that ".5" stays a
		// piece (a later Digits or ByteLevel regex would cut it again).
		steps = append(steps, hfSplit{Type: "Split", Pattern: map[string]string{"Regex": DecimalPattern}, Behavior: "Isolated"})
		bl.UseRegex = false
	case p.SplitDigits:
		steps = append(steps, hfDigits{Type: "Digits", IndividualDigits: p.IndividualDigits})
	}
	if len(steps) == 0 {
		return bl
	}
	return hfSequence{Type: "Sequence", PreTokenizers: append(steps, bl)}
}

// vocabKey is the tokenizer.json key of id: an added token's content, else the
// byte-level form of the token's bytes.
func (t *Tokenizer) vocabKey(id int) string {
	if t.isAdded[id] {
		return t.model.tokens[id]
	}
	return byteLevelEncode(t.model.tokens[id])
}

// writeModel writes the model section with the vocab in id order.
func (t *Tokenizer) writeModel(w *jsonWriter) {
	b := w.buf
	b.WriteString(`{"type":"BPE","dropout":`)
	w.raw(t.hf.dropout, "null")
	b.WriteString(`,"unk_token":`)
	w.raw(t.hf.unkTok, "null")
	b.WriteString(`,"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":`)
	w.value(t.hf.fuseUnk)
	b.WriteString(`,"byte_fallback":false,"ignore_merges":`)
	w.value(t.model.ignoreMerges)
	b.WriteString(`,"vocab":{`)
	first := true
	for id, tok := range t.model.tokens {
		if tok == "" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		w.value(t.vocabKey(id))
		b.WriteByte(':')
		w.value(id)
	}
	b.WriteString(`},"merges":[`)
	for i, m := range t.model.mergeList {
		if i > 0 {
			b.WriteByte(',')
		}
		l, r := t.vocabKey(int(m[0])), t.vocabKey(int(m[1]))
		if t.hf.mergesAsPairs {
			w.value([2]string{l, r})
		} else {
			w.value(l + " " + r)
		}
	}
	b.WriteString("]}")
}
