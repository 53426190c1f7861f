package distill

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/lora"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/schemas"
)

// The prompts a student reads (their style) and the tokenizer that reads them.

// promptStyleFor is the prompt style of a run: decoders trained from scratch
// (seqkd, multitask) read compact prompts, since they learn their one task
// from examples; fine-tuned pretrained bases (lora, full) keep the full
// instruction they can make sense of from the first step, and classifiers read
// the bare input (PromptFull records nothing). New decoder runs' function
// signatures show value constraints (the "+bounds" styles). A resumed from-scratch run keeps
// the style of the checkpoint it resumes (PromptFull for one from before
// prompt styles), and its output head: cfg.Pointer and cfg.InductionNgram
// become the checkpoint's, so a run started before the presets had the
// pointer-generator, or its n-gram induction bonus, resumes as it was.
func promptStyleFor(cfg *model.Config, method, resume string) (train.PromptStyle, error) {
	if cfg.Arch == model.ArchEncoder {
		return train.PromptFull, nil
	}
	fineTune := method == MethodLoRA || method == MethodFull
	if resume == "" {
		if fineTune {
			return train.PromptFullBounds, nil
		}
		return train.PromptCompactBounds, nil
	}
	// A LoRA checkpoint is an adapter: its lineage is in adapter_config.json.
	name := "config.json"
	if method == MethodLoRA {
		name = lora.ConfigFile
	}
	b, err := os.ReadFile(filepath.Join(resume, name))
	if err != nil {
		return "", fmt.Errorf("resume %s: %w", resume, err)
	}
	var cf struct {
		Lineage map[string]string `json:"lineage"`
		Pointer bool              `json:"pointer_generator"`
		Ngram   int               `json:"pointer_induction_ngram"`
	}
	if err := json.Unmarshal(b, &cf); err != nil {
		return "", fmt.Errorf("resume %s: %s: %w", resume, name, err)
	}
	style, err := train.ParsePromptStyle(cf.Lineage[train.LineagePromptStyle])
	if err != nil {
		return "", fmt.Errorf("resume %s: %s lineage: %w", resume, name, err)
	}
	if fineTune { // always the full instruction; signatures as the checkpoint had them
		if style.Bounds() {
			return train.PromptFullBounds, nil
		}
		return train.PromptFull, nil
	}
	cfg.Pointer, cfg.InductionNgram = cf.Pointer, cf.Ngram
	return style, nil
}

// studentTokenizer loads OutDir/tokenizer.json (a resumed run) or trains a
// byte-level BPE of at most vocab ids on the training texts and saves it there.
//
// A decoder's corpus holds the whole prompts (instructions, schema fields,
// function lists) besides inputs and targets, so that the prompt text a student
// reads at every example is a few tokens rather than hundreds of bytes.
func studentTokenizer(outDir string, recs []datasets.Record, cfg model.Config, cat *schemas.Catalog, style train.PromptStyle) (*tokenizer.Tokenizer, error) {
	path := filepath.Join(outDir, "tokenizer.json")
	if _, err := os.Stat(path); err == nil {
		return LoadTokenizer(path)
	}
	corpus := func(yield func(string) bool) {
		for i := range recs {
			r := &recs[i]
			if cfg.Arch == model.ArchEncoder {
				if !yield(r.Input) {
					return
				}
				continue
			}
			system, user, err := train.PromptWith(cat, r, style)
			if err != nil {
				user = r.Input // BuildData reports the record; the corpus just skips its prompt
			}
			if !yield(system) || !yield(user) || !yield(r.Target) {
				return
			}
		}
	}
	tc := tokenizer.TrainConfig{VocabSize: cfg.Vocab, SpecialTokens: tokenizer.DefaultSpecialTokens(true), MinFrequency: 2}
	if cfg.Arch == model.ArchDecoder {
		tc.PreTokenizer = tokenizer.StudentPreTokenizer()
	}
	tok, err := tokenizer.Train(corpus, tc)
	if err != nil {
		return nil, fmt.Errorf("train tokenizer: %w", err)
	}
	if err := tok.Save(path); err != nil {
		return nil, err
	}
	return tok, nil
}

// LoadTokenizer loads a tokenizer.json and checks it has the chat tokens students use.
func LoadTokenizer(path string) (*tokenizer.Tokenizer, error) {
	tok, err := tokenizer.Load(path)
	if err != nil {
		return nil, err
	}
	if err := checkChatTokens(tok); err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return tok, nil
}

// checkChatTokens reports a tokenizer without the ChatML tokens students use.
func checkChatTokens(tok *tokenizer.Tokenizer) error {
	for _, s := range []string{tokenizer.IMStart, tokenizer.IMEnd} {
		if _, ok := tok.TokenID(s); !ok {
			return fmt.Errorf("no %s token (students need ChatML tokens)", s)
		}
	}
	return nil
}
