package tokenizer

import (
	"fmt"
	"strings"
)

// Roles are the ids of the tokens a model treats specially; -1 when the
// tokenizer has none.
type Roles struct {
	// BOS starts a sequence (an encoder pools it with PoolFirst).
	BOS int `json:"bos"`
	// EOS ends a generation.
	EOS int `json:"eos"`
	// PAD fills batches; it never carries loss.
	PAD int `json:"pad"`
}

// Roles returns the role ids, following SmolLM2-Instruct's tokenizer_config:
// BOS is <|im_start|>, EOS is <|im_end|>, each falling back to <|endoftext|>;
// PAD is <pad> when present, else <|endoftext|>, so that padding never looks
// like the end of an answer. tokenizer.json does not store roles, so they are
// derived from the added tokens each time.
func (t *Tokenizer) Roles() Roles {
	pick := func(names ...string) int {
		for _, n := range names {
			if id, ok := t.addedIDs[n]; ok {
				return id
			}
		}
		return -1
	}
	return Roles{
		BOS: pick(IMStart, EndOfText),
		EOS: pick(IMEnd, EndOfText),
		PAD: pick(Pad, EndOfText),
	}
}

// BOS is Roles().BOS.
func (t *Tokenizer) BOS() int { return t.Roles().BOS }

// EOS is Roles().EOS.
func (t *Tokenizer) EOS() int { return t.Roles().EOS }

// PAD is Roles().PAD.
func (t *Tokenizer) PAD() int { return t.Roles().PAD }

// ChatExample is one task example in ChatML form.
type ChatExample struct {
	// System is an optional system message; no system turn when empty.
	System string `json:"system,omitempty"`
	// User is the task prompt (instruction and input).
	User string `json:"user"`
	// Assistant is the target answer; empty for an inference prompt.
	Assistant string `json:"assistant,omitempty"`
}

// FormatChat renders ex as ChatML text:
//
//	<|im_start|>system\n{System}<|im_end|>\n<|im_start|>user\n{User}<|im_end|>\n<|im_start|>assistant\n{Assistant}<|im_end|>
//
// without the final <|im_end|> when Assistant is empty. It is for logs and for
// teachers that take text; students use EncodeChat.
func FormatChat(ex ChatExample) string {
	var sb strings.Builder
	if ex.System != "" {
		sb.WriteString(IMStart + "system\n" + ex.System + IMEnd + "\n")
	}
	sb.WriteString(IMStart + "user\n" + ex.User + IMEnd + "\n" + IMStart + "assistant\n")
	if ex.Assistant != "" {
		sb.WriteString(ex.Assistant + IMEnd)
	}
	return sb.String()
}

// EncodeChat returns the ids of FormatChat(ex) and the number of prompt tokens,
// the prefix up to and including "assistant\n" that training masks out of the
// loss. The message texts are encoded as plain text, so a "<|im_end|>" typed by
// a user cannot end its turn. The prompt is encoded on its own, so it is
// exactly what inference feeds the model; this equals
// EncodeWithSpecial(FormatChat(ex)) whenever Assistant does not start with
// whitespace, the texts hold no added token and AddPrefixSpace is off.
func (t *Tokenizer) EncodeChat(ex ChatExample) (ids []int, promptTokens int, err error) {
	start, okStart := t.addedIDs[IMStart]
	end, okEnd := t.addedIDs[IMEnd]
	if !okStart || !okEnd {
		return nil, 0, fmt.Errorf("encode chat: tokenizer lacks %s or %s", IMStart, IMEnd)
	}
	turn := func(role, text string) {
		ids = append(ids, start)
		ids = t.AppendEncode(ids, role+"\n"+text)
		ids = append(ids, end)
		ids = t.AppendEncode(ids, "\n")
	}
	if ex.System != "" {
		turn("system", ex.System)
	}
	turn("user", ex.User)
	ids = append(ids, start)
	ids = t.AppendEncode(ids, "assistant\n")
	promptTokens = len(ids)
	if ex.Assistant != "" {
		ids = t.AppendEncode(ids, ex.Assistant)
		ids = append(ids, end)
	}
	return ids, promptTokens, nil
}
