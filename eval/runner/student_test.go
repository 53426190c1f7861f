package runner

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/quant"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/eval/constrain"
	"github.com/cyclecore/mlmforge/schemas"
)

// randomStudent saves an untrained checkpoint of preset with a tokenizer
// trained on recs' texts; an untrained model must still be evaluated without
// crashing, its garbage kept as raw output.
func randomStudent(t *testing.T, preset string, recs []datasets.Record, labels []string) string {
	t.Helper()
	p, err := model.LookupPreset(preset)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	cat, _ := schemas.Load()
	for i := range recs {
		sys, user, _ := train.Prompt(cat, &recs[i])
		texts = append(texts, recs[i].Input, recs[i].Target, sys, user)
	}
	tok, err := tokenizer.Train(slices.Values(texts), tokenizer.TrainConfig{VocabSize: 1200, SpecialTokens: tokenizer.DefaultSpecialTokens(true)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.Config
	cfg.Vocab = tok.VocabSize()
	if cfg.Arch == model.ArchEncoder {
		cfg.NumClasses = len(labels)
	}
	dir := filepath.Join(t.TempDir(), "ck")
	ck := &model.Checkpoint{Config: cfg, Preset: preset, Labels: labels, Weights: model.Init(cfg, 3),
		Lineage: map[string]string{"dataset": recs[0].Task + "@v1"}}
	if err := model.SaveCheckpoint(dir, ck, tok.Save); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestStudentRunnerUntrained(t *testing.T) {
	cat, _ := schemas.Load()
	scorer, _ := eval.NewScorer(cat)
	intents := builtinRecords(t, cat, schemas.EdgeIntent, "assistant-50", "test", 60, 5)
	var labels []string
	for _, r := range intents {
		if !slices.Contains(labels, r.Intent) {
			labels = append(labels, r.Intent)
		}
	}
	slices.Sort(labels)
	jsons := builtinRecords(t, cat, schemas.EdgeJSON, "", "test", 18, 5)[:3]
	for _, tc := range []struct {
		preset string
		recs   []datasets.Record
	}{{"tiny-intent", intents}, {"tiny-json", jsons}} {
		t.Run(tc.preset, func(t *testing.T) {
			dir := randomStudent(t, tc.preset, tc.recs, labels)
			s, err := NewStudent(dir, cat)
			if err != nil {
				t.Fatal(err)
			}
			info, err := s.Info(context.Background())
			if err != nil || info.Params <= 0 || !strings.HasPrefix(info.Digest, "sha256:") || info.SizeBytes <= 0 {
				t.Fatalf("info %+v %v", info, err)
			}
			preds, err := s.Predict(context.Background(), tc.recs, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(preds) != len(tc.recs) {
				t.Fatalf("%d predictions for %d records", len(preds), len(tc.recs))
			}
			for _, p := range preds {
				if p.Cost.LatencyMS <= 0 || (tc.preset == "tiny-intent" && len(p.Ranked) != 10) {
					t.Fatalf("prediction %+v", p)
				}
			}
			if _, err := scorer.Score(tc.recs, preds); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestStudentConstrainedAlwaysParses: an untrained decoder emits garbage, but
// under the JSON-Schema mask every answer it finishes parses, and an answer cut
// by the token limit is still a valid prefix of a schema-shaped value.
func TestStudentConstrainedAlwaysParses(t *testing.T) {
	cat, _ := schemas.Load()
	scorer, _ := eval.NewScorer(cat)
	for _, tc := range []struct {
		preset, variant string
		task            schemas.Task
	}{{"tiny-json", "simple", schemas.EdgeJSON}, {"tiny-funccall", "20", schemas.EdgeFuncCall}} {
		t.Run(tc.preset, func(t *testing.T) {
			recs := builtinRecords(t, cat, tc.task, tc.variant, "test", 12, 5)[:4]
			s, err := NewStudent(randomStudent(t, tc.preset, recs, nil), cat)
			if err != nil {
				t.Fatal(err)
			}
			preds, err := s.Predict(context.Background(), recs, Options{Constrained: true})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := scorer.Score(recs, preds)
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for i, ex := range rep.Examples {
				p := preds[i]
				switch {
				case strings.HasPrefix(p.Raw, "(prompt of"):
					continue // the tiny model's context cannot hold this prompt
				case !p.Truncated && ex.ParseError != "":
					t.Errorf("finished answer does not parse (%s): %q", ex.ParseError, p.Raw)
				case p.Truncated:
					schema, err := s.answerSchema(&recs[i], tc.task)
					if err != nil {
						t.Fatal(err)
					}
					sc, err := constrain.Compile(schema)
					if err != nil {
						t.Fatal(err)
					}
					st := sc.Start()
					for j := 0; j < len(p.Raw); j++ {
						if !st.Step(p.Raw[j]) {
							t.Fatalf("truncated answer leaves the schema at byte %d: %q", j, p.Raw)
						}
					}
				}
				checked++
			}
			if checked == 0 {
				t.Fatal("no answer was checked")
			}
		})
	}
}

// TestStudentInt8 evaluates the INT8 export of a classifier like its float
// checkpoint: same labels, close answers, reported as INT8.
func TestStudentInt8(t *testing.T) {
	cat, _ := schemas.Load()
	recs := builtinRecords(t, cat, schemas.EdgeIntent, "assistant-50", "test", 60, 5)
	var labels []string
	for _, r := range recs {
		if !slices.Contains(labels, r.Intent) {
			labels = append(labels, r.Intent)
		}
	}
	slices.Sort(labels)
	dir := randomStudent(t, "tiny-intent", recs, labels)
	ck, err := model.LoadModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	qdir := filepath.Join(t.TempDir(), "int8")
	if err := quant.SaveInt8(qdir, ck, ""); err != nil {
		t.Fatal(err)
	}
	f, _ := NewStudent(dir, cat)
	q, err := NewStudent(qdir, cat)
	if err != nil {
		t.Fatal(err)
	}
	info, err := q.Info(context.Background())
	if err != nil || info.Quantization != "INT8" || info.SizeBytes <= 0 {
		t.Fatalf("info %+v %v", info, err)
	}
	fp, _ := f.Predict(context.Background(), recs, Options{})
	qp, err := q.Predict(context.Background(), recs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for i := range fp {
		if fp[i].Ranked[0] == qp[i].Ranked[0] {
			same++
		}
	}
	if same < len(fp)*9/10 {
		t.Errorf("INT8 agrees with float32 on %d of %d top-1 answers", same, len(fp))
	}
}

// TestStudentMaskPerSchema: two records of one cell with different schemas
// (imported data) get different masks, and a schema the mask cannot compile
// decodes that example without a mask, said in its prediction.
func TestStudentMaskPerSchema(t *testing.T) {
	cat, _ := schemas.Load()
	recs := builtinRecords(t, cat, schemas.EdgeJSON, "simple", "test", 6, 5)[:1]
	s, err := NewStudent(randomStudent(t, "tiny-json", recs, nil), cat)
	if err != nil {
		t.Fatal(err)
	}
	own := recs[0]
	own.ID += "-own"
	own.Meta = `{"schema":{"type":"object","additionalProperties":false,"required":["zz"],"properties":{"zz":{"type":"integer"}}}}`
	bad := recs[0]
	bad.ID += "-bad"
	bad.Meta = `{"schema":{"type":"object","not":{"required":["a"]}}}`
	for _, r := range []datasets.Record{recs[0], own} {
		if _, err := s.constraint(&r, schemas.EdgeJSON); err != nil {
			t.Fatalf("%s: %v", r.ID, err)
		}
	}
	if len(s.masks.m) != 2 {
		t.Fatalf("%d masks for two schemas of cell %s", len(s.masks.m), recs[0].Cell)
	}
	sch, _ := s.answerSchema(&own, schemas.EdgeJSON)
	if sc, err := constrain.Compile(sch); err != nil || !sc.Accepts([]byte(`{"zz":3}`)) {
		t.Errorf("the record's own schema is not the mask's: %s %v", sch, err)
	}
	preds, err := s.Predict(context.Background(), []datasets.Record{bad}, Options{Constrained: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(preds[0].MaskFallback, `unsupported keyword "not"`) {
		t.Errorf("mask fallback %q, want the compile error", preds[0].MaskFallback)
	}
}

// TestFuncCallMaskOffersPromptFunctions: the function-calling mask of a
// builtin record lets a call name only the functions its prompt offers, not
// the rest of the catalog.
func TestFuncCallMaskOffersPromptFunctions(t *testing.T) {
	cat, _ := schemas.Load()
	recs := builtinRecords(t, cat, schemas.EdgeFuncCall, "20", "test", 12, 5)
	s := &Student{cat: cat}
	checked := 0
	for i := range recs {
		offered, err := train.OfferedFunctions(cat, &recs[i])
		if err != nil {
			t.Fatal(err)
		}
		schema, err := s.answerSchema(&recs[i], schemas.EdgeFuncCall)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := constrain.Compile(schema)
		if err != nil {
			t.Fatal(err)
		}
		accepts := func(name string) bool {
			st := sc.Start()
			for _, b := range []byte(`{"turns":[{"action":"call","calls":[{"name":"` + name + `"`) {
				if !st.Step(b) {
					return false
				}
			}
			return true
		}
		for _, f := range cat.Functions {
			if want := slices.Contains(offered, f.Name); accepts(f.Name) != want {
				t.Fatalf("record %s: mask accepts %s = %v, offered %v", recs[i].ID, f.Name, !want, offered)
			}
		}
		checked++
	}
	if checked == 0 || len(cat.Functions) <= 5 {
		t.Fatalf("checked %d records over %d catalog functions", checked, len(cat.Functions))
	}
}
