package export

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
)

// Files WriteOllama writes.
const (
	// GGUFFile is the model file the Modelfile points at.
	GGUFFile = "model.gguf"
	// ModelfileName is Ollama's build recipe.
	ModelfileName = "Modelfile"
)

// OllamaTemplate is the Modelfile TEMPLATE (a Go text/template over Ollama's .System,
// .Prompt and .Response) that renders our students' ChatML prompt, the text of
// tokenizer.FormatChat. Ollama cuts it at .Response to build the prompt, so generation
// starts right after "<|im_start|>assistant\n" as in training.
const OllamaTemplate = "{{ if .System }}" + tokenizer.IMStart + "system\n{{ .System }}" + tokenizer.IMEnd + "\n{{ end }}" +
	"{{ if .Prompt }}" + tokenizer.IMStart + "user\n{{ .Prompt }}" + tokenizer.IMEnd + "\n{{ end }}" +
	tokenizer.IMStart + "assistant\n{{ .Response }}" + tokenizer.IMEnd + "\n"

// Modelfile returns an Ollama Modelfile for the GGUF file ggufPath (relative to the
// Modelfile's directory): the ChatML TEMPLATE, greedy decoding, a stop on
// <|im_end|> (and <|endoftext|>), and num_ctx at the model's trained context, since
// RoPE does not extrapolate past it.
func Modelfile(ggufPath string, c model.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "FROM ./%s\n\n", filepath.ToSlash(ggufPath))
	fmt.Fprintf(&b, "TEMPLATE \"\"\"%s\"\"\"\n\n", OllamaTemplate)
	fmt.Fprintf(&b, "PARAMETER stop %q\n", tokenizer.IMEnd)
	fmt.Fprintf(&b, "PARAMETER stop %q\n", tokenizer.EndOfText)
	b.WriteString("PARAMETER temperature 0\n")
	fmt.Fprintf(&b, "PARAMETER num_ctx %d\n", c.MaxSeq)
	return b.String()
}

// WriteOllama writes dir/model.gguf (WriteGGUF) and dir/Modelfile, so that
// `ollama create my-mlm -f dir/Modelfile` serves the decoder. Encoders are refused
// with ErrEncoderGGUF.
func WriteOllama(dir string, m *Model, opts GGUFOptions) error {
	if m != nil && m.Config.Arch == model.ArchEncoder {
		return fmt.Errorf("write ollama %s: %w", dir, ErrEncoderGGUF)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write ollama %s: %w", dir, err)
	}
	if err := WriteGGUF(filepath.Join(dir, GGUFFile), m, opts); err != nil {
		return fmt.Errorf("write ollama: %w", err)
	}
	path := filepath.Join(dir, ModelfileName)
	if err := os.WriteFile(path, []byte(Modelfile(GGUFFile, m.Config)), 0o644); err != nil {
		return fmt.Errorf("write ollama: %w", err)
	}
	return nil
}
