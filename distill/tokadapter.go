package distill

import (
	"github.com/cyclecore/mlmforge/distill/tokenizer"
	"github.com/cyclecore/mlmforge/distill/train"
)

// trainTokenizer adapts a *tokenizer.Tokenizer to what the training loop needs.
type trainTokenizer struct{ t *tokenizer.Tokenizer }

var _ train.Tokenizer = trainTokenizer{}

func (a trainTokenizer) Encode(text string) []int { return a.t.Encode(text) }

// FormatChat encodes a ChatML example; the reply is not closed with EOS (the
// loop appends it), so the trailing <|im_end|> EncodeChat adds is dropped.
func (a trainTokenizer) FormatChat(system, user, reply string) ([]int, int) {
	ids, prompt, err := a.t.EncodeChat(tokenizer.ChatExample{System: system, User: user})
	if err != nil {
		// Every tokenizer this package builds or loads has the chat tokens;
		// LoadTokenizer refuses one that does not.
		panic(err)
	}
	if reply != "" {
		ids = a.t.AppendEncode(ids, reply)
	}
	return ids, prompt
}

func (a trainTokenizer) PadID() int             { return a.t.PAD() }
func (a trainTokenizer) EOSID() int             { return a.t.EOS() }
func (a trainTokenizer) VocabSize() int         { return a.t.VocabSize() }
func (a trainTokenizer) Save(path string) error { return a.t.Save(path) }
