package train

import (
	"errors"
	"fmt"
	"slices"

	"github.com/cyclecore/mlmforge/distill/model"
)

// checkJob reports inconsistencies between the job's parts before any work is done.
func checkJob(cfg Config, job Job) error {
	mc := job.ModelConfig
	switch {
	case job.Model == nil:
		return errors.New("train: job has no model")
	case job.Train != nil && len(job.Mixture) > 0:
		return errors.New("train: job sets both Train and Mixture; a mixture replaces Train")
	case len(job.Mixture) == 0 && (job.Train == nil || len(job.Train.Examples) == 0):
		return errors.New("train: job has no training examples")
	case job.Eval != nil && len(job.Evals) > 0:
		return errors.New("train: job sets both Eval and Evals; named sets replace Eval")
	case job.OutDir == "":
		return errors.New("train: job has no output directory")
	}
	if err := mc.Validate(); err != nil {
		return fmt.Errorf("train: model %w", err)
	}
	if err := checkSources(job.Mixture); len(job.Mixture) > 0 && err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := checkEvalSets(job.Evals); err != nil {
		return err
	}
	train := job.trainData()
	if train.Arch != mc.Arch {
		return fmt.Errorf("train: data built for arch %q, model is %q", train.Arch, mc.Arch)
	}
	if mc.Arch == model.ArchEncoder && len(train.Labels) != mc.NumClasses {
		return fmt.Errorf("train: %d training labels, model num_classes is %d", len(train.Labels), mc.NumClasses)
	}
	evals := job.Evals
	if job.Eval != nil {
		evals = []EvalSet{{Data: job.Eval}}
	}
	for _, e := range evals {
		if e.Data.Arch != mc.Arch {
			return fmt.Errorf("train: eval data %sbuilt for arch %q, model is %q", setLabel(e.Name), e.Data.Arch, mc.Arch)
		}
		if !slices.Equal(e.Data.Labels, train.Labels) {
			return fmt.Errorf("train: eval data %swas built with other labels (%d) than the training data (%d): pass Labels(train) to both",
				setLabel(e.Name), len(e.Data.Labels), len(train.Labels))
		}
	}
	if cfg.SeqLen > mc.MaxSeq {
		return fmt.Errorf("train: seq_len %d exceeds the model's max_position_embeddings %d", cfg.SeqLen, mc.MaxSeq)
	}
	if job.Tokenizer != nil && job.Tokenizer.VocabSize() > mc.Vocab {
		return fmt.Errorf("train: tokenizer has %d ids, model vocab_size is %d", job.Tokenizer.VocabSize(), mc.Vocab)
	}
	return nil
}

// checkEvalSets reports the first unusable named eval set.
func checkEvalSets(sets []EvalSet) error {
	seen := map[string]bool{}
	for i, e := range sets {
		if err := checkName("train: eval set", i, e.Name, seen); err != nil {
			return err
		}
		if e.Data == nil || len(e.Data.Examples) == 0 {
			return fmt.Errorf("train: eval set %s: no examples", e.Name)
		}
	}
	return nil
}

// checkName reports the i-th name of a list (what names the list in the
// error) when it is empty or in seen, and adds it to seen.
func checkName(what string, i int, name string, seen map[string]bool) error {
	switch {
	case name == "":
		return fmt.Errorf("%s %d: no name", what, i)
	case seen[name]:
		return fmt.Errorf("%s %s: name used twice", what, name)
	}
	seen[name] = true
	return nil
}

// trainData is the job's training data, or its mixture's first source: every source
// shares its arch, padding id and labels (checkSources).
func (job *Job) trainData() *Data {
	if len(job.Mixture) > 0 {
		return job.Mixture[0].Data
	}
	return job.Train
}

// labels are the encoder's classes of the run's data (nil for decoders), written to
// every checkpoint.
func (r *run) labels() []string { return r.job.trainData().Labels }
