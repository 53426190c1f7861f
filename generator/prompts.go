package generator

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"text/template"

	"github.com/cyclecore/mlmforge/schemas"
)

// promptFS holds the prompt templates, one file per id, e.g.
// prompts/edgeintent-input@v1.tmpl. Each file defines a "system" and a "user"
// template and includes no other file, so that its hash covers all its text.
// A changed prompt gets a new file and version, never an edit in place:
// provenance records the id and hash of the prompt each example was made with.
//
//go:embed prompts/*.tmpl
var promptFS embed.FS

// TemplateInfo identifies one embedded prompt template.
type TemplateInfo struct {
	// ID is "<task>-<mode>@<version>", e.g. "edgejson-input@v1".
	ID string `json:"id"`
	// Task and Mode say what the template is for.
	Task schemas.Task `json:"task"`
	Mode Mode         `json:"mode"`
	// Hash is the sha256 (hex) of the template file.
	Hash string `json:"sha256"`
}

// promptVersion is the template version RenderPrompt uses.
const promptVersion = "v1"

// modeSuffix maps a mode to the mode part of a template id.
var modeSuffix = map[Mode]string{LabelFirst: "input", TeacherLabels: "example", Extract: "extract"}

// promptTemplate is one parsed template file.
type promptTemplate struct {
	info TemplateInfo
	tmpl *template.Template
}

var (
	promptsOnce sync.Once
	promptsByID map[string]*promptTemplate
	promptsErr  error
)

// loadPrompts parses every embedded template once.
func loadPrompts() (map[string]*promptTemplate, error) {
	promptsOnce.Do(func() {
		promptsByID, promptsErr = parsePrompts(promptFS)
	})
	return promptsByID, promptsErr
}

// parsePrompts parses the templates of fsys (prompts/*.tmpl).
func parsePrompts(fsys fs.FS) (map[string]*promptTemplate, error) {
	files, err := fs.Glob(fsys, "prompts/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("list prompt templates: %w", err)
	}
	byMode := map[string]Mode{}
	for m, s := range modeSuffix {
		byMode[s] = m
	}
	out := map[string]*promptTemplate{}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("read prompt template %s: %w", f, err)
		}
		id := strings.TrimSuffix(path.Base(f), ".tmpl")
		name, _, ok := strings.Cut(id, "@")
		task, mode, ok2 := strings.Cut(name, "-")
		if !ok || !ok2 || byMode[mode] == "" {
			return nil, fmt.Errorf("prompt template %s: name is not <task>-<input|example|extract>@<version>.tmpl", f)
		}
		t, err := template.New(id).Option("missingkey=error").Funcs(promptFuncs).Parse(string(data))
		if err != nil {
			return nil, fmt.Errorf("parse prompt template %s: %w", f, err)
		}
		for _, part := range []string{"system", "user"} {
			if t.Lookup(part) == nil {
				return nil, fmt.Errorf("prompt template %s defines no %q template", f, part)
			}
		}
		sum := sha256.Sum256(data)
		out[id] = &promptTemplate{
			info: TemplateInfo{ID: id, Task: schemas.Task(task), Mode: byMode[mode], Hash: hex.EncodeToString(sum[:])},
			tmpl: t,
		}
	}
	return out, nil
}

// promptFuncs are the helpers templates may call. None of them evaluates data:
// values from samples are always inserted as JSON text.
var promptFuncs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
}

// Templates lists every embedded prompt template, sorted by id, for
// `mlmforge provenance` and the docs.
func Templates() []TemplateInfo {
	ts, err := loadPrompts()
	if err != nil {
		return nil
	}
	out := make([]TemplateInfo, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// TemplateID is the id of the template RenderPrompt uses for a task and mode.
func TemplateID(task schemas.Task, mode Mode) string {
	return fmt.Sprintf("%s-%s@%s", task, modeSuffix[mode], promptVersion)
}

// RenderPrompt renders the prompt for one request: the sample's cell picks
// the template, the catalog supplies the schema, class or functions, and the
// sample (LabelFirst) or text (Extract) supplies the data. Format is the JSON
// schema of the answer, for Ollama's structured outputs. Extract prompts never
// show the sample's target, slots or turn plans: they are the answer.
func RenderPrompt(cat *schemas.Catalog, mode Mode, s Sample, text string) (Prompt, error) {
	if cat == nil {
		return Prompt{}, fmt.Errorf("render prompt: no catalog")
	}
	if _, ok := modeSuffix[mode]; !ok {
		return Prompt{}, fmt.Errorf("render prompt: unknown mode %q", mode)
	}
	ts, err := loadPrompts()
	if err != nil {
		return Prompt{}, fmt.Errorf("render prompt: %w", err)
	}
	id := TemplateID(s.Cell.Task, mode)
	pt, ok := ts[id]
	if !ok {
		return Prompt{}, fmt.Errorf("render prompt: no template %s for task %q", id, s.Cell.Task)
	}
	data, format, err := buildPromptData(cat, mode, s, text)
	if err != nil {
		return Prompt{}, fmt.Errorf("render prompt %s for cell %q: %w", id, s.Cell.Key, err)
	}
	p := Prompt{TemplateID: id, Hash: pt.info.Hash, Format: format}
	if p.System, err = execPart(pt.tmpl, "system", data); err != nil {
		return Prompt{}, fmt.Errorf("render prompt %s: %w", id, err)
	}
	if p.User, err = execPart(pt.tmpl, "user", data); err != nil {
		return Prompt{}, fmt.Errorf("render prompt %s: %w", id, err)
	}
	return p, nil
}

var promptBlankLines = regexp.MustCompile(`\n[ \t]*\n(?:[ \t]*\n)+`)

// execPart renders one named template and tidies its blank lines, so that
// template conditionals can be laid out readably.
func execPart(t *template.Template, name string, data any) (string, error) {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("execute %q: %w", name, err)
	}
	return strings.TrimSpace(promptBlankLines.ReplaceAllString(b.String(), "\n\n")), nil
}
