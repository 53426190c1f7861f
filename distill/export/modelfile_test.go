package export

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/ollama/ollama/parser"

	"github.com/cyclecore/mlmforge/distill/tokenizer"
)

func TestModelfileParsesAsOllamaDoes(t *testing.T) {
	m := tinyModel(t, true, 0, 1)
	f, err := parser.ParseFile(strings.NewReader(Modelfile(GGUFFile, m.Config)))
	if err != nil {
		t.Fatalf("ollama parser: %v", err)
	}
	got := map[string][]string{}
	for _, c := range f.Commands {
		got[c.Name] = append(got[c.Name], c.Args)
	}
	for name, want := range map[string][]string{
		"model": {"./model.gguf"}, "template": {OllamaTemplate}, "stop": {"<|im_end|>", "<|endoftext|>"},
		"temperature": {"0"}, "num_ctx": {"32"},
	} {
		if strings.Join(got[name], "|") != strings.Join(want, "|") {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
}

// TestOllamaTemplateMatchesFormatChat renders the TEMPLATE as Ollama does for a
// .System/.Prompt/.Response template and compares it with the students' prompt.
func TestOllamaTemplateMatchesFormatChat(t *testing.T) {
	tmpl := template.Must(template.New("").Parse(OllamaTemplate))
	for _, ex := range []tokenizer.ChatExample{
		{User: "Classify: wake me at 7", Assistant: `{"intent": "alarm_set"}`},
		{System: "Answer with JSON only.", User: "Extract: Bob, 42", Assistant: `{"name": "Bob"}`},
	} {
		var b strings.Builder
		err := tmpl.Execute(&b, map[string]string{"System": ex.System, "Prompt": ex.User, "Response": ex.Assistant})
		if err != nil {
			t.Fatal(err)
		}
		if want := tokenizer.FormatChat(ex) + "\n"; b.String() != want {
			t.Errorf("rendered %q, want %q", b.String(), want)
		}
		// Ollama generates from the template cut at {{ .Response }}: the inference prompt.
		prompt, _, _ := strings.Cut(b.String(), ex.Assistant)
		if want := tokenizer.FormatChat(tokenizer.ChatExample{System: ex.System, User: ex.User}); prompt != want {
			t.Errorf("prompt %q, want %q", prompt, want)
		}
	}
}

func TestWriteOllama(t *testing.T) {
	m := tinyModel(t, true, 0, 1)
	dir := filepath.Join(t.TempDir(), "ollama")
	if err := WriteOllama(dir, m, GGUFOptions{Type: TypeF16, Name: "my-mlm"}); err != nil {
		t.Fatal(err)
	}
	mf, err := os.ReadFile(filepath.Join(dir, ModelfileName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(mf), "FROM ./model.gguf\n") {
		t.Errorf("Modelfile starts %q", string(mf)[:20])
	}
	back, err := ReadGGUF(filepath.Join(dir, GGUFFile))
	if err != nil {
		t.Fatal(err)
	}
	if back.Config != m.Config {
		t.Errorf("config diff %v", back.Config.Diff(m.Config))
	}
	err = WriteOllama(filepath.Join(t.TempDir(), "enc"), tinyEncoder(t), GGUFOptions{})
	if !errors.Is(err, ErrEncoderGGUF) {
		t.Errorf("encoder: error %v, want ErrEncoderGGUF", err)
	}
}
