package runner

import (
	"fmt"

	"github.com/cyclecore/mlmforge/distill/infer"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/schemas"
)

// MemStudent describes a student held in memory: what a training run validates
// with between checkpoints (distill's task-metric checkpoint selection).
type MemStudent struct {
	// Config is the architecture and Weights its tensors (read, never kept past
	// the Student's use).
	Config  model.Config
	Weights model.Weights
	// Tokenizer is the student's tokenizer; Labels the encoder's classes.
	Tokenizer *tokenizer.Tokenizer
	Labels    []string
	// MaxNewTokens caps a decoder's answer below the task's limit (0: the task's
	// limit), so a validation of an untrained student that rambles stays cheap.
	MaxNewTokens int
	// PromptStyle is the style of prompts the student is trained on.
	PromptStyle train.PromptStyle
}

// NewMemStudent builds a Student from in-memory weights. It answers exactly as
// NewStudent's does for the same weights.
func NewMemStudent(m MemStudent, cat *schemas.Catalog) (*Student, error) {
	lineage := map[string]string{}
	if m.PromptStyle != train.PromptFull {
		lineage[train.LineagePromptStyle] = string(m.PromptStyle)
	}
	s := &Student{dir: "(in memory)", ck: &model.Checkpoint{Config: m.Config, Weights: m.Weights, Labels: m.Labels, Lineage: lineage},
		tok: m.Tokenizer, cat: cat, maxNewCap: m.MaxNewTokens}
	var err error
	if m.Config.Arch == model.ArchEncoder {
		if len(m.Labels) != m.Config.NumClasses {
			return nil, fmt.Errorf("student in memory: %d labels for %d classes", len(m.Labels), m.Config.NumClasses)
		}
		s.cls, err = infer.NewClassifier(m.Config, m.Weights)
	} else {
		s.dec, err = infer.NewDecoder(m.Config, m.Weights)
	}
	if err != nil {
		return nil, fmt.Errorf("student in memory: %w", err)
	}
	return s, nil
}
