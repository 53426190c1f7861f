package runner

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/builtin"
	"github.com/cyclecore/mlmforge/generator/ollamatest"
	"github.com/cyclecore/mlmforge/schemas"
)

// builtinRecords generates n records of a task and split with the builtin teacher.
func builtinRecords(t testing.TB, cat *schemas.Catalog, task schemas.Task, variant, split string, n int, seed int64) []datasets.Record {
	t.Helper()
	recs, err := builtin.Generate(context.Background(), cat,
		generator.Spec{Task: task, Variant: variant, Counts: map[string]int{split: n}, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// goldResponder answers each request with the gold target of the record whose
// input the last user message holds; for intents it answers the label, and a
// wrong label for every record whose index is divisible by wrongEvery.
func goldResponder(recs []datasets.Record, wrongEvery int) func(api.ChatRequest) string {
	return func(req api.ChatRequest) string {
		user := req.Messages[len(req.Messages)-1].Content
		for i, r := range recs {
			in := r.Input
			if r.Task == string(schemas.EdgeFuncCall) {
				in = userTurns(r.Input)
			}
			if !strings.Contains(user, in) {
				continue
			}
			if r.Task != string(schemas.EdgeIntent) {
				return r.Target
			}
			if wrongEvery > 0 && i%wrongEvery == 0 {
				return "definitely_not_a_class"
			}
			return r.Intent
		}
		return "no idea"
	}
}

// userTurns is a text of the input that the function-calling prompt shows:
// the input itself, or the first turn of a multi-turn input.
func userTurns(input string) string {
	var turns []string
	if !strings.HasPrefix(input, "[") || json.Unmarshal([]byte(input), &turns) != nil || len(turns) == 0 {
		return input
	}
	return "[turn 1] " + turns[0] + "\n"
}

func TestOllamaRunnerScores(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	scorer, _ := eval.NewScorer(cat)
	cases := []struct {
		task    schemas.Task
		variant string
		wrong   int
		check   func(t *testing.T, rep *eval.Report)
	}{
		{schemas.EdgeJSON, "", 0, func(t *testing.T, rep *eval.Report) {
			if rep.EdgeJSON.JSONExact != 1 || rep.EdgeJSON.SchemaCompliance != 1 {
				t.Errorf("edgejson %+v", rep.EdgeJSON.JSONScores)
			}
		}},
		{schemas.EdgeFuncCall, "", 0, func(t *testing.T, rep *eval.Report) {
			if m := rep.EdgeFuncCall; m.FunctionExact != 1 || m.ParseFailures != 0 {
				t.Errorf("edgefunccall %+v", m)
			}
		}},
		{schemas.EdgeIntent, "assistant-50", 4, func(t *testing.T, rep *eval.Report) {
			want := 1 - float64((rep.EdgeIntent.N+3)/4)/float64(rep.EdgeIntent.N)
			if d := rep.EdgeIntent.Top1 - want; d > 1e-9 || d < -1e-9 {
				t.Errorf("top-1 %.4f, want %.4f (every 4th answer wrong)", rep.EdgeIntent.Top1, want)
			}
			if rep.EdgeIntent.Top5 < rep.EdgeIntent.Top1 {
				t.Errorf("top-5 %.3f below top-1 %.3f", rep.EdgeIntent.Top5, rep.EdgeIntent.Top1)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(string(tc.task), func(t *testing.T) {
			recs := builtinRecords(t, cat, tc.task, tc.variant, "test", 24, 3)
			srv := ollamatest.New(t, ollamatest.WithModel("qwen2.5:0.5b", "sha256:abc", "Q4_K_M"),
				ollamatest.WithResponder(goldResponder(recs, tc.wrong)))
			r, err := NewOllama(srv.URL, "qwen2.5:0.5b", cat)
			if err != nil {
				t.Fatal(err)
			}
			info, err := r.Info(context.Background())
			if err != nil || info.Digest != "sha256:abc" || info.Quantization != "Q4_K_M" {
				t.Fatalf("info %+v, %v", info, err)
			}
			done := 0
			preds, err := r.Predict(context.Background(), recs, Options{Progress: func(n int) { done = n }})
			if err != nil {
				t.Fatal(err)
			}
			if done != len(recs) || len(preds) != len(recs) {
				t.Fatalf("%d predictions, progress %d, for %d records", len(preds), done, len(recs))
			}
			last := srv.LastChat()
			if opt := last.Options["temperature"]; opt != float64(0) {
				t.Errorf("temperature %v, want 0", opt)
			}
			if tc.task == schemas.EdgeJSON && (len(last.Format) < 2 || last.Format[0] != '{') {
				t.Errorf("edgejson request format %s, want the record's schema", last.Format)
			}
			if tc.task == schemas.EdgeIntent && (!last.Logprobs || last.TopLogprobs != 20 || last.Options["num_predict"] != float64(10)) {
				t.Errorf("intent request: logprobs %v top %d num_predict %v", last.Logprobs, last.TopLogprobs, last.Options["num_predict"])
			}
			rep, err := scorer.Score(recs, preds)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, rep)
			if preds[0].Cost.LatencyMS <= 0 || preds[0].Cost.OutputTokens <= 0 {
				t.Errorf("cost not recorded: %+v", preds[0].Cost)
			}
		})
	}
}

func TestOllamaRunnerMissingModel(t *testing.T) {
	cat, _ := schemas.Load()
	srv := ollamatest.New(t)
	r, _ := NewOllama(srv.URL, "nope:1b", cat)
	if _, err := r.Info(context.Background()); err == nil || !strings.Contains(err.Error(), "ollama pull nope:1b") {
		t.Errorf("Info error %v, want a hint to pull the model", err)
	}
	recs := builtinRecords(t, cat, schemas.EdgeIntent, "assistant-50", "test", 2, 1)
	if _, err := r.Predict(context.Background(), recs, Options{}); err == nil {
		t.Error("Predict with a missing model did not fail")
	}
}

func TestFewShotDeterministic(t *testing.T) {
	var tr []datasets.Record
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		tr = append(tr, datasets.Record{ID: id})
	}
	a, b := fewShot("x", tr, 5), fewShot("x", tr, 5)
	if len(a) != 5 || a[0].ID != b[0].ID || a[4].ID != b[4].ID {
		t.Fatalf("few-shot not deterministic: %v %v", a, b)
	}
	if len(fewShot("x", tr, 0)) != 0 || len(fewShot("x", nil, 5)) != 0 {
		t.Error("0 shots or no train split must give no examples")
	}
	if Category(4_000_000, 16_000_000) != "Nano MLM" || Category(4_000_000, 4_100_000) != "NLM" || Category(4_000_000, 0) != "unknown" {
		t.Errorf("a 4M model: float32 16 MB %q, INT8 4 MB %q, size unknown %q", Category(4_000_000, 16_000_000),
			Category(4_000_000, 4_100_000), Category(4_000_000, 0))
	}
	if Category(135_000_000, 540_000_000) != "Compact MLM" || Category(5_000_000, 5_400_000) != "NLM" || Category(60_000_000, 240_000_000) != "Micro MLM" {
		t.Error("categories by size")
	}
}
