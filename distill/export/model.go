package export

import (
	"errors"
	"fmt"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
)

// Model is everything an export format holds: the architecture, the weights in our
// Hugging Face naming and layout, and the tokenizer.
type Model struct {
	// Config is the architecture.
	Config model.Config
	// Weights are the tensors by Hugging Face name, float32, q/k in rotate_half order.
	Weights model.Weights
	// Tokenizer is the byte-level BPE tokenizer; its vocabulary may be smaller than
	// Config.Vocab (embedding rows past it are padding).
	Tokenizer *tokenizer.Tokenizer
	// Labels are the encoder's class names, index = class id (nil for decoders).
	Labels []string
	// Roles are the special token ids the file declared (GGUF tokenizer.ggml.*_token_id,
	// config.json *_token_id), -1 where it declared none. Writers ignore this field and
	// write Tokenizer.Roles().
	Roles tokenizer.Roles
	// Lineage is the checkpoint's lineage (dataset, teacher, parent, and the prompt
	// style the student was trained on, which whoever prompts it must follow):
	// config.json's "lineage" (which model.LoadCheckpoint reads back) and GGUF's
	// LineageKeyPrefix keys.
	Lineage map[string]string
}

// LineageKeyPrefix starts the GGUF metadata keys of a Model's Lineage
// ("llama.mlmforge.lineage.prompt_style"): in the architecture's namespace, as
// Ollama's GGUF writer puts every key that is not general.* or tokenizer.*,
// and which llama.cpp ignores.
const LineageKeyPrefix = "llama.mlmforge.lineage."

// Validate checks that the config is usable, that the weights match it and that the
// tokenizer fits in the embedding.
func (m *Model) Validate() error {
	if m == nil {
		return errors.New("model: nil")
	}
	if err := m.Config.Validate(); err != nil {
		return err
	}
	if err := m.Weights.Check(m.Config); err != nil {
		return fmt.Errorf("weights: %w", err)
	}
	if m.Tokenizer == nil {
		return errors.New("tokenizer: missing")
	}
	if n := m.Tokenizer.VocabSize(); n > m.Config.Vocab {
		return fmt.Errorf("tokenizer: %d ids but vocab_size is %d", n, m.Config.Vocab)
	}
	if m.Config.Arch == model.ArchEncoder && m.Labels != nil && len(m.Labels) != m.Config.NumClasses {
		return fmt.Errorf("labels: %d names for num_classes %d", len(m.Labels), m.Config.NumClasses)
	}
	return nil
}

// FromCheckpoint wraps a loaded mlmforge checkpoint for export, reading its
// tokenizer.json (which every exported format needs).
func FromCheckpoint(ck *model.Checkpoint) (*Model, error) {
	p := ck.TokenizerPath()
	if p == "" {
		return nil, fmt.Errorf("checkpoint %s: no %s; every export format needs the tokenizer", ck.Dir, model.TokenizerFile)
	}
	tok, err := tokenizer.Load(p)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", ck.Dir, err)
	}
	m := &Model{Config: ck.Config, Weights: ck.Weights, Tokenizer: tok, Labels: ck.Labels, Roles: tok.Roles(),
		Lineage: ck.Lineage}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", ck.Dir, err)
	}
	return m, nil
}
