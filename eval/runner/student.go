package runner

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/infer"
	"github.com/cyclecore/mlmforge/distill/lora"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/quant"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/schemas"
)

// classifyBatch is how many utterances one Classify call takes.
const classifyBatch = 32

// Student evaluates an mlmforge checkpoint with the plain-Go inference: a
// batched classifier for encoders, a KV-cached greedy decoder for decoders
// (with the same prompts the student was trained on).
type Student struct {
	dir   string
	ck    *model.Checkpoint
	tok   *tokenizer.Tokenizer
	cat   *schemas.Catalog
	dec   *infer.Decoder
	cls   *infer.Classifier
	size  int64
	masks maskers
	quant string // weight format for the report: F32, or INT8
	file  string // the weights file hashed for the digest
	// maxNewCap, when set, caps a decoder's answer below the task's limit.
	maxNewCap int
}

var _ Runner = (*Student)(nil)

// NewStudent loads the checkpoint in dir (config.json, model.safetensors, tokenizer.json).
func NewStudent(dir string, cat *schemas.Catalog) (*Student, error) {
	if quant.IsInt8(dir) {
		return newInt8Student(dir, cat)
	}
	ck, err := lora.LoadModel(dir) // a LoRA adapter checkpoint comes back merged into its base
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, fmt.Errorf("student %s: %w", dir, err)
	}
	s := &Student{dir: dir, ck: ck, tok: tok, cat: cat}
	if fi, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil {
		s.size = fi.Size()
	} else if fi, err := os.Stat(filepath.Join(dir, "adapter_model.safetensors")); err == nil {
		// An adapter runs on its base: the model on disk is both.
		s.size = fi.Size() + weightsSize(ck.Lineage["base"])
	}
	if ck.Config.Arch == model.ArchEncoder {
		if len(ck.Labels) != ck.Config.NumClasses {
			return nil, fmt.Errorf("student %s: %d labels for %d classes", dir, len(ck.Labels), ck.Config.NumClasses)
		}
		s.cls, err = infer.NewClassifier(ck.Config, ck.Weights)
	} else {
		s.dec, err = infer.NewDecoder(ck.Config, ck.Weights)
	}
	if err != nil {
		return nil, fmt.Errorf("student %s: %w", dir, err)
	}
	return s, nil
}

// Info describes the checkpoint: parameters, file size, sha256 of the weights.
func (s *Student) Info(ctx context.Context) (ModelInfo, error) {
	mi := ModelInfo{Ref: "student:" + s.dir, Kind: "student", Params: int64(s.ck.Config.NumParams()), SizeBytes: s.size,
		Quantization: cmp.Or(s.quant, "F32"), Details: map[string]string{"preset": s.ck.Preset, "arch": s.ck.Config.Arch}}
	for k, v := range s.ck.Lineage {
		mi.Details["lineage."+k] = v
	}
	if step := checkpointStep(s.dir); step > 0 {
		mi.Details["step"] = strconv.Itoa(step)
	}
	weights := filepath.Join(s.dir, "model.safetensors")
	if s.file != "" {
		weights = filepath.Join(s.dir, s.file)
	} else if _, err := os.Stat(weights); err != nil {
		weights = filepath.Join(s.dir, "adapter_model.safetensors")
	}
	f, err := os.Open(weights)
	if err != nil {
		return mi, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return mi, err
	}
	mi.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return mi, nil
}

// Predict answers recs: encoders classify in batches, decoders generate.
func (s *Student) Predict(ctx context.Context, recs []datasets.Record, opts Options) ([]eval.Prediction, error) {
	task, err := taskOf(recs)
	if err != nil {
		return nil, err
	}
	if s.cls != nil {
		if task != schemas.EdgeIntent {
			return nil, fmt.Errorf("student %s is a classifier; it cannot answer %s", s.dir, task)
		}
		return s.classify(ctx, recs, opts)
	}
	return predictEach(ctx, recs, opts, func(r *datasets.Record) (eval.Prediction, error) {
		return s.generate(ctx, r, task, opts)
	})
}

func (s *Student) classify(ctx context.Context, recs []datasets.Record, opts Options) ([]eval.Prediction, error) {
	out := make([]eval.Prediction, 0, len(recs))
	for lo := 0; lo < len(recs); lo += classifyBatch {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		hi := min(len(recs), lo+classifyBatch)
		batch := make([][]int, hi-lo)
		for i := range batch {
			ids := s.tok.Encode(recs[lo+i].Input)
			if len(ids) == 0 {
				ids = []int{s.tok.PAD()}
			}
			batch[i] = ids[:min(len(ids), s.ck.Config.MaxSeq)]
		}
		start := time.Now()
		probs, err := s.cls.Classify(batch)
		if err != nil {
			return out, fmt.Errorf("student %s: %w", s.dir, err)
		}
		per := float64(time.Since(start).Microseconds()) / 1000 / float64(len(batch))
		for i, pr := range probs {
			top := infer.TopK(pr, 10)
			p := eval.Prediction{ID: recs[lo+i].ID, Cost: eval.Cost{LatencyMS: per, PromptTokens: len(batch[i])}}
			for _, t := range top {
				p.Ranked = append(p.Ranked, s.ck.Labels[t.Class])
			}
			raw, _ := json.Marshal(map[string]string{"intent": p.Ranked[0]})
			p.Raw = string(raw)
			out = append(out, p)
		}
		if opts.Progress != nil {
			opts.Progress(hi)
		}
	}
	return out, nil
}

// maxNew are the seed's output limits; intents get 24 tokens because students
// answer {"intent": "..."} rather than a bare label.
func maxNew(task schemas.Task) int {
	switch task {
	case schemas.EdgeJSON:
		return maxTokensJSON
	case schemas.EdgeIntent:
		return 24
	}
	return maxTokensFuncCall
}

// promptStyle is the prompt style the checkpoint was trained with (its
// lineage's train.LineagePromptStyle; none: train.PromptFull).
func (s *Student) promptStyle() (train.PromptStyle, error) {
	st, err := train.ParsePromptStyle(s.ck.Lineage[train.LineagePromptStyle])
	if err != nil {
		return st, fmt.Errorf("student %s: lineage: %w", s.dir, err)
	}
	return st, nil
}

func (s *Student) generate(ctx context.Context, r *datasets.Record, task schemas.Task, opts Options) (eval.Prediction, error) {
	p := eval.Prediction{ID: r.ID}
	style, err := s.promptStyle()
	if err != nil {
		return p, err
	}
	system, user, err := train.PromptWith(s.cat, r, style)
	if err != nil {
		// Not the model's failure: scoring it as a wrong answer would report 0.
		return p, fmt.Errorf("student %s: record %s: no prompt: %w", s.dir, r.ID, err)
	}
	prompt, _, err := s.tok.EncodeChat(tokenizer.ChatExample{System: system, User: user})
	if err != nil {
		return p, err
	}
	cfg := s.ck.Config
	if len(prompt) >= cfg.MaxSeq {
		p.Raw = fmt.Sprintf("(prompt of %d tokens does not fit max_position_embeddings %d)", len(prompt), cfg.MaxSeq)
		return p, nil
	}
	limit := maxNew(task)
	if s.maxNewCap > 0 {
		limit = min(limit, s.maxNewCap)
	}
	gopts := infer.GenerateOptions{MaxNewTokens: min(limit, cfg.MaxSeq-len(prompt)), StopTokens: []int{s.tok.EOS()}}
	if opts.Constrained {
		var unsupported *MaskUnsupportedError
		gopts.LogitsProcessor, err = s.constraint(r, task)
		switch {
		case errors.As(err, &unsupported):
			p.MaskFallback = unsupported.Error() // decoded without a mask, counted in the report
		case err != nil:
			return p, fmt.Errorf("student %s on %s: %w", s.dir, r.ID, err)
		}
	}
	start := time.Now()
	ids, st, err := s.dec.Generate(ctx, prompt, gopts)
	if err != nil {
		return p, fmt.Errorf("student %s on %s: %w", s.dir, r.ID, err)
	}
	p.Raw = s.tok.DecodeSkipSpecial(ids)
	p.Truncated = st.StopReason != infer.StopToken
	p.Cost = eval.Cost{LatencyMS: float64(time.Since(start).Microseconds()) / 1000, PromptTokens: st.PromptTokens, OutputTokens: st.GeneratedTokens}
	return p, nil
}

// newInt8Student loads an INT8 classifier directory (mlmforge export --format int8).
func newInt8Student(dir string, cat *schemas.Catalog) (*Student, error) {
	cls, labels, err := quant.LoadClassifier(dir)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, fmt.Errorf("student %s: %w", dir, err)
	}
	cfg := cls.Config()
	ck := &model.Checkpoint{Config: cfg, Labels: labels, Dir: dir}
	if meta, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil {
		var cf struct {
			Preset  string            `json:"preset"`
			Lineage map[string]string `json:"lineage"`
		}
		if json.Unmarshal(meta, &cf) == nil {
			ck.Preset, ck.Lineage = cf.Preset, cf.Lineage
		}
	}
	s := &Student{dir: dir, ck: ck, tok: tok, cat: cat, cls: cls, quant: "INT8", file: "model.int8.safetensors"}
	if fi, err := os.Stat(filepath.Join(dir, s.file)); err == nil {
		s.size = fi.Size()
	}
	return s, nil
}

// weightsSize is the size of a base model's weights: a GGUF file, or the
// .safetensors and .gguf files of a directory; 0 when path is empty or unreadable.
func weightsSize(path string) int64 {
	fi, err := os.Stat(path)
	if path == "" || err != nil {
		return 0
	}
	if !fi.IsDir() {
		return fi.Size()
	}
	var n int64
	for _, pat := range []string{"*.safetensors", "*.gguf"} {
		files, _ := filepath.Glob(filepath.Join(path, pat))
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}

// checkpointStep is the training step a checkpoint was saved at: the step of
// its trainer_state.json, else the number of a "step-N" directory name; 0
// when neither says.
func checkpointStep(dir string) int {
	var st struct {
		Step int `json:"step"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, model.TrainerStateFile)); err == nil && json.Unmarshal(b, &st) == nil && st.Step > 0 {
		return st.Step
	}
	if n, ok := strings.CutPrefix(filepath.Base(filepath.Clean(dir)), "step-"); ok {
		step, _ := strconv.Atoi(n)
		return step
	}
	return 0
}
