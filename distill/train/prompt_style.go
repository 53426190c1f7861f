package train

import "fmt"

// PromptStyle is how much of the task a decoder prompt spells out. A student
// must be prompted the way it was trained, so a checkpoint records its style
// in its lineage (LineagePromptStyle); one without the key was trained on
// PromptFull, the only style before styles existed.
type PromptStyle string

const (
	// PromptFull states the task instruction and describes every offered
	// function: what a general model (an Ollama teacher, a pretrained base)
	// needs to do a task it was not trained on.
	PromptFull PromptStyle = ""
	// PromptCompact leaves out what a task student reads in every example and
	// learns nothing from: the task instruction (the prompt's first line,
	// "Schema", "Taxonomy" or "Functions", already names the task) and the
	// descriptions of catalog functions, whose signatures name them. It keeps
	// a record's own system messages and function docs (imported BFCL). On
	// builtin EdgeFuncCall prompts it halves the characters (1,104 to 633 on
	// average), so a step costs about a third less (BENCHMARKS.md).
	PromptCompact PromptStyle = "compact"
)

// LineagePromptStyle is the checkpoint lineage key of the PromptStyle a
// student was trained with (absent: PromptFull).
const LineagePromptStyle = "prompt_style"

// ParsePromptStyle checks a style name ("" or "full" is PromptFull).
func ParsePromptStyle(s string) (PromptStyle, error) {
	switch s {
	case "", "full":
		return PromptFull, nil
	case string(PromptCompact):
		return PromptCompact, nil
	}
	return "", fmt.Errorf("unknown prompt style %q (have full, compact)", s)
}
