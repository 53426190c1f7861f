package train

import (
	"fmt"
	"strings"
)

// PromptStyle is how much of the task a decoder prompt spells out. A student
// must be prompted the way it was trained, so a checkpoint records its style
// in its lineage (LineagePromptStyle); one without the key was trained on
// PromptFull, the only style before styles existed.
//
// A style is a base ("" or "full", "compact") and, for every student trained
// since function signatures carried them, the suffix "+bounds": EdgeFuncCall
// signatures then show the value constraints a request is checked against
// (amount: number(min 0.01, max 10000), card: string(pattern ^[0-9]{4}$)).
// Without them an "ask for a valid value" label can depend on a bound the
// prompt hides, which a student can only memorise function by function.
type PromptStyle string

const (
	// PromptFull states the task instruction and describes every offered
	// function: what a general model (an Ollama teacher, a pretrained base)
	// needs to do a task it was not trained on. Signatures without value
	// constraints: the style of checkpoints from before PromptFullBounds.
	PromptFull PromptStyle = ""
	// PromptCompact leaves out what a task student reads in every example and
	// learns nothing from: the task instruction (the prompt's first line,
	// "Schema", "Taxonomy" or "Functions", already names the task) and the
	// descriptions of catalog functions, whose signatures name them. It keeps
	// a record's own system messages and function docs (imported BFCL). On
	// builtin EdgeFuncCall prompts it halves the characters (1,104 to 633 on
	// average), so a step costs about a third less (BENCHMARKS.md).
	PromptCompact PromptStyle = "compact"
	// PromptFullBounds is PromptFull with value constraints in function
	// signatures: what fine-tuned bases and general models read.
	PromptFullBounds PromptStyle = "full" + boundsSuffix
	// PromptCompactBounds is PromptCompact with value constraints in function
	// signatures: what decoders trained from scratch read.
	PromptCompactBounds PromptStyle = "compact" + boundsSuffix
)

const boundsSuffix = "+bounds"

// LineagePromptStyle is the checkpoint lineage key of the PromptStyle a
// student was trained with (absent: PromptFull).
const LineagePromptStyle = "prompt_style"

// ParsePromptStyle checks a style name ("" or "full" is PromptFull; either
// base may carry "+bounds").
func ParsePromptStyle(s string) (PromptStyle, error) {
	base, bounds := strings.CutSuffix(s, boundsSuffix)
	switch {
	case base == "compact" && bounds:
		return PromptCompactBounds, nil
	case base == "compact":
		return PromptCompact, nil
	case base == "full" && bounds:
		return PromptFullBounds, nil
	case base == "" && !bounds, base == "full":
		return PromptFull, nil
	}
	return "", fmt.Errorf("unknown prompt style %q (have full, compact, full+bounds, compact+bounds)", s)
}

// compact reports whether s leaves out the instruction and catalog descriptions.
func (s PromptStyle) compact() bool { return strings.HasPrefix(string(s), "compact") }

// Bounds reports whether s shows function parameters' value constraints.
func (s PromptStyle) Bounds() bool { return strings.HasSuffix(string(s), boundsSuffix) }
