// Package runner runs models over evaluation records and returns eval.Predictions
// with the raw output always kept: Ollama models (the baselines, with the seed
// paper's prompts and settings) and mlmforge students (Go inference over a
// checkpoint). It never imports Temporal; the eval activity drives it shard by shard.
package runner

import (
	"context"
	"fmt"
	"strings"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/schemas"
)

// Runner answers evaluation records with one model.
type Runner interface {
	// Info describes the model: name, size, what it runs with.
	Info(ctx context.Context) (ModelInfo, error)
	// Predict answers recs (all of one task) in order, one Prediction per record.
	// A record the model fails on gets a Prediction with the error in Raw's
	// place (ParseError set by the scorer) rather than failing the shard; only
	// infrastructure failures (the server is gone) return an error.
	Predict(ctx context.Context, recs []datasets.Record, opts Options) ([]eval.Prediction, error)
}

// ModelInfo describes a model for the report.
type ModelInfo struct {
	// Ref is the reference the user gave, e.g. "ollama:qwen2.5:0.5b" or "student:runs/x/final".
	Ref string `json:"ref"`
	// Kind is "ollama" or "student".
	Kind string `json:"kind"`
	// Params is the parameter count when known (0 = unknown).
	Params int64 `json:"params,omitempty"`
	// SizeBytes is the model's size on disk.
	SizeBytes int64 `json:"size_bytes,omitempty"`
	// Digest identifies the exact weights (Ollama digest, or the checkpoint's sha256).
	Digest string `json:"digest,omitempty"`
	// Quantization is the weight format, e.g. Q4_K_M or F32.
	Quantization string `json:"quantization,omitempty"`
	// Details holds anything else worth recording (family, preset, dataset version).
	Details map[string]string `json:"details,omitempty"`
}

// Options change how a runner answers.
type Options struct {
	// Shots is the number of few-shot examples for EdgeIntent baselines (0, 1, 5).
	Shots int
	// Train is the split the few-shot examples are drawn from.
	Train []datasets.Record
	// Constrained makes students decode under a JSON-Schema token mask.
	Constrained bool
	// Progress, when set, is called after each record with the number done.
	Progress func(done int)
}

// ParseRef splits a model reference into its kind and name: "ollama:qwen2.5:0.5b"
// gives ("ollama", "qwen2.5:0.5b"), "student:PATH" gives ("student", PATH).
func ParseRef(ref string) (kind, name string, err error) {
	kind, name, ok := strings.Cut(ref, ":")
	if !ok || name == "" || (kind != "ollama" && kind != "student") {
		return "", "", fmt.Errorf("model %q: want ollama:<tag> or student:<checkpoint dir>", ref)
	}
	return kind, name, nil
}

// Category is the SLM-Bench paper's label of a model. NLM is defined by the
// measured size on disk: under 10 MB (10^6-byte megabytes), whatever the
// parameter count, so a 4M-parameter model stored as float32 (16 MB) is not
// an NLM while its INT8 export (4 MB) is. Every other model is labelled by
// parameters: Nano MLM up to 30M (a model under 10M parameters too large on
// disk for an NLM included), Micro MLM 30M-100M, Compact MLM 100M-250M, SLM
// 1B-8B; "Small LM (250M-1B)" and "LLM" outside the paper's bands. Without a
// measured size a model under 10M parameters is "unknown": it may or may not
// fit the NLM bound.
func Category(params, sizeBytes int64) string {
	switch {
	case sizeBytes > 0 && sizeBytes < NLMMaxBytes:
		return "NLM"
	case params <= 0:
		return "unknown"
	case params < 10_000_000 && sizeBytes <= 0:
		return "unknown"
	case params < 30_000_000:
		return "Nano MLM"
	case params < 100_000_000:
		return "Micro MLM"
	case params <= 250_000_000:
		return "Compact MLM"
	case params < 1_000_000_000:
		return "Small LM (250M-1B)"
	case params <= 8_000_000_000:
		return "SLM"
	}
	return "LLM"
}

// NLMMaxBytes is the NLM bound on the size on disk: 10 MB.
const NLMMaxBytes = 10_000_000

// taskOf returns the single task of recs.
func taskOf(recs []datasets.Record) (schemas.Task, error) {
	if len(recs) == 0 {
		return "", fmt.Errorf("no records")
	}
	t, err := schemas.ParseTask(recs[0].Task)
	if err != nil {
		return "", fmt.Errorf("record %s: %w", recs[0].ID, err)
	}
	for _, r := range recs[1:] {
		if r.Task != recs[0].Task {
			return "", fmt.Errorf("records of tasks %s and %s in one shard", recs[0].Task, r.Task)
		}
	}
	return t, nil
}
