package distill

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/lora"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/schemas"
)

// TestTrainStudentValidates trains tiny decoder and encoder students with
// validation on: every validation decodes (or classifies) the held-out training
// records and scores them with the project's scorer under the task's headline
// metric, metrics.json records them, and the result names the metric and the
// checkpoint it picked.
func TestTrainStudentValidates(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		preset  string
		task    schemas.Task
		variant string
		metric  string
		others  []string
	}{
		{"tiny-json", schemas.EdgeJSON, "simple", MetricJSONExact, []string{"edgejson.field_f1", "edgejson.schema_compliance"}},
		{"tiny-funccall", schemas.EdgeFuncCall, "20", MetricFuncCallSelection, []string{MetricExampleAccuracy, "edgefunccall.function_exact", "edgefunccall.param_f1"}},
		{"tiny-intent", schemas.EdgeIntent, "assistant-50", MetricIntentTop1, []string{"edgeintent.top5", "edgeintent.macro_f1"}},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			store, err := datasets.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			v := genVersion(t, cat, store, tc.task, tc.variant, 120)
			spec := TrainSpec{Preset: tc.preset, Version: v, Catalog: cat, OutDir: filepath.Join(t.TempDir(), "run"),
				Train: train.Config{LR: 3e-3, TotalSteps: 6, WarmupSteps: 2, BatchSize: 4, EvalEvery: 3, EvalBatches: 1,
					ValidateEvery: 3, CheckpointEvery: 6, Patience: -1}}
			res, err := TrainStudent(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			if res.Result.Metric != tc.metric || res.Result.BestMetric == nil || res.Result.BestStep == 0 || res.Train.ValidateEvery != 3 {
				t.Fatalf("result %+v (train %+v), want validation by %s", res.Result, res.Train, tc.metric)
			}
			// Decoders trained from scratch read compact prompts, and say so
			// in the checkpoint that the evaluation prompts the same way.
			var cf struct {
				Lineage map[string]string `json:"lineage"`
			}
			if data, err := os.ReadFile(filepath.Join(res.Checkpoint, "config.json")); err != nil || json.Unmarshal(data, &cf) != nil {
				t.Fatalf("checkpoint config.json: %v", err)
			}
			if want := map[bool]string{true: "", false: string(train.PromptCompactBounds)}[tc.task == schemas.EdgeIntent]; cf.Lineage[train.LineagePromptStyle] != want {
				t.Errorf("lineage %v, want prompt_style %q", cf.Lineage, want)
			}
			var m train.Metrics
			data, err := os.ReadFile(filepath.Join(spec.OutDir, "metrics.json"))
			if err != nil || json.Unmarshal(data, &m) != nil {
				t.Fatalf("metrics.json: %v", err)
			}
			if len(m.Validations) != 2 || m.Validations[0].Step != 3 || m.Validations[1].Step != 6 {
				t.Fatalf("validations %+v, want steps 3 and 6", m.Validations)
			}
			limit := validationCap
			if tc.task == schemas.EdgeIntent {
				limit = classifierValidationCap
			}
			for _, val := range m.Validations {
				if val.Metric != tc.metric || val.N == 0 || val.N > limit || val.Scores[tc.metric] != val.Value {
					t.Errorf("validation %+v", val)
				}
				if tc.task == schemas.EdgeFuncCall {
					if want := (val.Scores[MetricExampleAccuracy] + val.Scores["edgefunccall.function_exact"]) / 2; val.Value != want {
						t.Errorf("validation at %d: value %v, want the mean of example accuracy and function exact %v", val.Step, val.Value, want)
					}
				}
				if tie := tiebreakMetric(tc.task); val.Tiebreak != val.Scores[tie] {
					t.Errorf("validation at %d: tiebreak %v, want %s %v", val.Step, val.Tiebreak, tie, val.Scores[tie])
				}
				for _, o := range tc.others {
					if _, ok := val.Scores[o]; !ok {
						t.Errorf("validation at %d lacks %s: %v", val.Step, o, val.Scores)
					}
				}
			}
		})
	}
}

// TestFuncCallSelection: a function-calling checkpoint that asks for a
// parameter on every request (the quickstart's validation of one: example
// accuracy 30.4%, function exact 6.7%) loses to one that calls (26.1%, 28.0%),
// while the other tasks select on their headlines.
func TestFuncCallSelection(t *testing.T) {
	asks := map[string]float64{"edgefunccall.function_exact": 0.067}
	calls := map[string]float64{"edgefunccall.function_exact": 0.28}
	na, va := selection(schemas.EdgeFuncCall, 0.304, asks)
	nc, vc := selection(schemas.EdgeFuncCall, 0.261, calls)
	if na != MetricFuncCallSelection || nc != na || va >= vc {
		t.Errorf("asking checkpoint %s %.3f, calling one %s %.3f: want the calling one selected", na, va, nc, vc)
	}
	for _, task := range []schemas.Task{schemas.EdgeJSON, schemas.EdgeIntent} {
		if n, v := selection(task, 0.5, map[string]float64{"edgejson.field_f1": 0.9}); n != HeadlineMetric(task) || v != 0.5 {
			t.Errorf("%s: selection %s %v, want the headline %s 0.5", task, n, v, HeadlineMetric(task))
		}
	}
}

// TestPromptStyleFor: new from-scratch runs use compact prompts, fine-tunes of
// pretrained bases the full ones, both with value constraints in signatures,
// and a resumed run the style its checkpoint was trained with (full for a
// checkpoint from before styles, no constraints from before "+bounds") and its
// output head (no pointer-generator for a checkpoint from before it, a
// 1-gram induction bonus for one from before n-grams).
func TestPromptStyleFor(t *testing.T) {
	for _, tc := range []struct {
		method, lineage string
		pointer         string // the checkpoint's pointer_generator (and what follows), "" for none
		want            train.PromptStyle
		wantPointer     bool
		wantNgram       int
	}{
		{MethodSeqKD, "-", "", train.PromptCompactBounds, true, 3},
		{MethodMultitask, "-", "", train.PromptCompactBounds, true, 3},
		{MethodLoRA, "-", "", train.PromptFullBounds, true, 3},
		{MethodFull, "-", "", train.PromptFullBounds, true, 3},
		{MethodSeqKD, `{}`, "", train.PromptFull, false, 0},
		{MethodSeqKD, `{"prompt_style":"compact"}`, "", train.PromptCompact, false, 0},
		{MethodSeqKD, `{"prompt_style":"compact"}`, "true", train.PromptCompact, true, 0},
		{MethodSeqKD, `{"prompt_style":"compact+bounds"}`, "true", train.PromptCompactBounds, true, 0},
		{MethodSeqKD, `{"prompt_style":"compact+bounds"}`, `true,"pointer_induction_ngram":2`, train.PromptCompactBounds, true, 2},
		{MethodLoRA, `{"prompt_style":"compact"}`, "", train.PromptFull, true, 3},
		{MethodLoRA, `{}`, "", train.PromptFull, true, 3},
		{MethodLoRA, `{"prompt_style":"full+bounds"}`, "", train.PromptFullBounds, true, 3},
		{MethodFull, `{"prompt_style":"full+bounds"}`, "", train.PromptFullBounds, true, 3},
	} {
		resume := ""
		if tc.lineage != "-" {
			resume = t.TempDir()
			js := `{"lineage":` + tc.lineage
			if tc.pointer != "" {
				js += `,"pointer_generator":` + tc.pointer
			}
			name := "config.json"
			if tc.method == MethodLoRA {
				name = lora.ConfigFile // an adapter checkpoint has no config.json
			}
			if err := os.WriteFile(filepath.Join(resume, name), []byte(js+`}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cfg := model.Config{Arch: model.ArchDecoder, Pointer: true, InductionNgram: 3} // a preset's from-scratch default
		if got, err := promptStyleFor(&cfg, tc.method, resume); err != nil || got != tc.want || cfg.Pointer != tc.wantPointer || cfg.InductionNgram != tc.wantNgram {
			t.Errorf("%s resuming %s (pointer %q): %q, %v, pointer %t, ngram %d; want %q, pointer %t, ngram %d", tc.method, tc.lineage,
				tc.pointer, got, err, cfg.Pointer, cfg.InductionNgram, tc.want, tc.wantPointer, tc.wantNgram)
		}
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "config.json"), []byte(`{"lineage":{"prompt_style":"terse"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := promptStyleFor(&model.Config{Arch: model.ArchDecoder}, MethodSeqKD, bad); err == nil || !strings.Contains(err.Error(), "terse") {
		t.Errorf("bad style: %v", err)
	}
}

// TestValidatorSize: a classifier's validation scores up to
// classifierValidationCap held-out records, a decoder's up to validationCap.
func TestValidatorSize(t *testing.T) {
	var held []datasets.Record
	for i := range 600 {
		held = append(held, datasets.Record{ID: fmt.Sprintf("r%d", i), Task: string(schemas.EdgeIntent), Split: "train",
			Input: fmt.Sprintf("set a timer for %d minutes", i), Target: `{"intent":"timer_set"}`})
	}
	tok, err := tokenizer.Train(func(yield func(string) bool) {
		for _, r := range held {
			if !yield(r.Input) || !yield(r.Target) {
				return
			}
		}
	}, tokenizer.TrainConfig{VocabSize: 300, SpecialTokens: tokenizer.DefaultSpecialTokens(true)})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		labels []string
		want   int
	}{{[]string{"timer_set"}, 600}, {nil, validationCap}} {
		v, err := newValidator(cat, tok, tc.labels, held, validationCapFor(tc.labels))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(v.sets[0].recs); n != tc.want {
			t.Errorf("labels %v: validation of %d records, want %d", tc.labels, n, tc.want)
		}
	}
}
