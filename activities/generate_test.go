package activities

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/ollama"
	"github.com/cyclecore/mlmforge/generator/ollamatest"
	"github.com/cyclecore/mlmforge/generator/validate"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// runDataset drives the four generation activities the way the workflow does
// (one round, one batch per item list), in the activity test environment.
func runDataset(t *testing.T, a *Activities, spec generator.Spec) (workflows.BatchResult, workflows.CommitResult, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	v, err := env.ExecuteActivity(a.PlanDataset, workflows.PlanInput{Spec: spec, RunID: "run-" + t.Name()})
	if err != nil {
		return workflows.BatchResult{}, workflows.CommitResult{}, err
	}
	var plan workflows.PlanResult
	if err := v.Get(&plan); err != nil {
		t.Fatal(err)
	}
	var items []generator.Item
	for i, c := range plan.Cells {
		for _, split := range plan.Splits {
			if q := c.Quota[split]; q > 0 {
				items = append(items, generator.Item{Cell: i, Split: split, Need: q, MaxAttempt: plan.AttemptFactor*q + 8})
			}
		}
	}
	v, err = env.ExecuteActivity(a.GenerateBatch, workflows.BatchInput{PlanPath: plan.PlanPath, RunDir: plan.RunDir, Items: items})
	if err != nil {
		return workflows.BatchResult{}, workflows.CommitResult{}, err
	}
	var br workflows.BatchResult
	if err := v.Get(&br); err != nil {
		t.Fatal(err)
	}
	v, err = env.ExecuteActivity(a.CommitDataset, workflows.CommitInput{ShardSet: workflows.ShardSet{PlanPath: plan.PlanPath, Shards: []string{br.Shard}},
		RunID: "run-" + t.Name(), Stats: br.Stats})
	if err != nil {
		return br, workflows.CommitResult{}, err
	}
	var cr workflows.CommitResult
	if err := v.Get(&cr); err != nil {
		t.Fatal(err)
	}
	return br, cr, nil
}

// teacherLike answers EdgeIntent prompts the way a decent model would: it
// mentions the requested slot values verbatim in varied wording.
func teacherLike(req api.ChatRequest) string {
	prompt := req.Messages[len(req.Messages)-1].Content
	var values []string
	if _, rest, ok := strings.Cut(prompt, "<slots>"); ok {
		block, _, _ := strings.Cut(rest, "</slots>")
		var slots map[string]string
		if json.Unmarshal([]byte(strings.TrimSpace(block)), &slots) == nil {
			for _, v := range slots {
				values = append(values, v)
			}
			sort.Strings(values) // a deterministic teacher, like seeded Ollama

		}
	}
	seed, _ := req.Options["seed"].(float64)
	r := rand.New(rand.NewPCG(uint64(int64(seed)), 7))
	words := []string{"kindly", "quickly", "maybe", "today", "right away", "if possible", "for me", "again", "soon", "now"}
	text := fmt.Sprintf("%s %s could you sort this out %s %s %d",
		words[r.IntN(len(words))], strings.Join(values, " and "), words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(1_000_000))
	b, _ := json.Marshal(map[string]string{"input": text})
	return string(b)
}

func TestGenerateThroughOllamaFake(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.WithModel("qwen2.5:7b", "sha256:abc123", "Q4_K_M"),
		ollamatest.WithResponder(teacherLike),
		ollamatest.WithFaults(ollamatest.Fault500, ollamatest.FaultDrop, ollamatest.FaultMalformedJSON,
			ollamatest.FaultSchemaBreak, ollamatest.FaultHallucinate, ollamatest.FaultStall, ollamatest.Fault429))
	home := t.TempDir()
	a := &Activities{Home: home, Identity: "test", Ollama: ollama.Config{Host: srv.URL, StallTimeout: 500 * time.Millisecond}}
	spec := generator.Spec{Task: schemas.EdgeIntent, Variant: "50", Counts: map[string]int{"test": 100}, Teacher: "ollama:qwen2.5:7b", Seed: 3}
	br, cr, err := runDataset(t, a, spec)
	if err != nil {
		t.Fatal(err)
	}
	if cr.Counts["test"] != 100 {
		t.Fatalf("committed %v, want 100 test examples (batch stats %+v)", cr.Counts, br.Stats)
	}
	// Transport faults (500, 429, dropped and stalled streams, a garbled NDJSON
	// line) are retried; bad content is a counted rejection, never a row.
	if br.Stats.Rejects[generator.RejectSchema] != 1 || br.Stats.Rejects[generator.RejectGrounding] < 1 {
		t.Errorf("schema-breaking / hallucinated answers not counted as rejections: %+v", br.Stats.Rejects)
	}
	if got, min := srv.Requests(), br.Stats.Attempts+5; got < min {
		t.Errorf("server saw %d chat requests for %d attempts: transport faults were not retried", got, br.Stats.Attempts)
	}
	store, err := datasets.Open(filepath.Join(home, "datasets"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := store.Version(schemas.EdgeIntent, cr.Version)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := v.Read("test")
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := schemas.Load()
	val := validate.New(cat, validate.DefaultConfig())
	for _, r := range recs {
		var prov generator.Provenance
		if err := json.Unmarshal([]byte(r.Provenance), &prov); err != nil || prov.Teacher.Digest != "sha256:abc123" ||
			prov.Teacher.Quantization != "Q4_K_M" || prov.TemplateID != "edgeintent-input@v1" || len(prov.TemplateSHA) != 64 {
			t.Fatalf("provenance %s (%v)", r.Provenance, err)
		}
		var it generator.IntentTarget
		_ = json.Unmarshal([]byte(r.Target), &it)
		s := generator.Sample{Cell: generator.Cell{Key: r.Cell, Task: schemas.EdgeIntent, Variant: "assistant-50",
			Taxonomy: "assistant-50", Class: r.Intent}, Target: json.RawMessage(r.Target), Slots: it.Slots}
		if _, rej := val.Check(s, r.Input, json.RawMessage(r.Target)); rej != nil {
			t.Fatalf("a committed row fails validation: %v: %q", rej, r.Input)
		}
	}
}

func TestGenerateModelNotFoundIsPermanent(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.WithModel("qwen2.5:7b", "sha256:abc", "Q4_K_M"))
	a := &Activities{Home: t.TempDir(), Identity: "test", Ollama: ollama.Config{Host: srv.URL}}
	spec := generator.Spec{Task: schemas.EdgeIntent, Variant: "50", Counts: map[string]int{"test": 50}, Teacher: "ollama:llama9:1b", Seed: 3}
	_, _, err := runDataset(t, a, spec)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || !strings.Contains(err.Error(), "ollama pull llama9:1b") {
		t.Fatalf("err = %v, want a non-retryable error that says ollama pull", err)
	}
}

func TestGenerateBuiltinEveryTaskAndCommitIsIdempotent(t *testing.T) {
	for _, task := range schemas.Tasks {
		t.Run(string(task), func(t *testing.T) {
			home := t.TempDir()
			a := &Activities{Home: home, Identity: "test"}
			spec := generator.Spec{Task: task, Counts: map[string]int{"test": 60, "train": 40}, Seed: 5}
			br, cr, err := runDataset(t, a, spec)
			if err != nil {
				t.Fatal(err)
			}
			if cr.Counts["test"] != 60 || cr.Counts["train"] != 40 {
				t.Fatalf("counts %v (stats %+v)", cr.Counts, br.Stats)
			}
			// A retried commit of the same run returns the same version, not a second one.
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			env.RegisterActivity(a)
			plan := filepath.Join(home, "runs", "run-"+strings.ReplaceAll(t.Name(), "/", "_"), "plan.json")
			v, err := env.ExecuteActivity(a.CommitDataset, workflows.CommitInput{ShardSet: workflows.ShardSet{PlanPath: plan, Shards: []string{br.Shard}},
				RunID: "run-" + t.Name()})
			if err != nil {
				t.Fatal(err)
			}
			var again workflows.CommitResult
			if err := v.Get(&again); err != nil || again.Version != cr.Version {
				t.Fatalf("second commit = %+v, %v; want version %s again", again, err, cr.Version)
			}
			store, _ := datasets.Open(filepath.Join(home, "datasets"))
			if ms, _ := store.List(task); len(ms) != 1 {
				t.Fatalf("%d versions after a retried commit, want 1", len(ms))
			}
		})
	}
}

// TestGenerateBatchResumesFromHeartbeat retries a batch with the heartbeat
// detail of an interrupted attempt: it must ask the teacher only for what is
// left and write the same shard as an uninterrupted run.
func TestGenerateBatchResumesFromHeartbeat(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.WithModel("qwen2.5:7b", "sha256:abc123", "Q4_K_M"), ollamatest.WithResponder(teacherLike))
	home := t.TempDir()
	a := &Activities{Home: home, Identity: "test", Ollama: ollama.Config{Host: srv.URL}, CheckpointEvery: time.Nanosecond}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	spec := generator.Spec{Task: schemas.EdgeIntent, Variant: "50", Counts: map[string]int{"test": 60}, Teacher: "ollama:qwen2.5:7b", Seed: 4}
	v, err := env.ExecuteActivity(a.PlanDataset, workflows.PlanInput{Spec: spec, RunID: "resume"})
	if err != nil {
		t.Fatal(err)
	}
	var plan workflows.PlanResult
	_ = v.Get(&plan)
	var items []generator.Item
	for i, c := range plan.Cells {
		items = append(items, generator.Item{Cell: i, Split: "test", Need: c.Quota["test"], MaxAttempt: 6*c.Quota["test"] + 8})
	}
	in := workflows.BatchInput{PlanPath: plan.PlanPath, RunDir: plan.RunDir, Items: items}

	var mid *batchHeartbeat
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var hb batchHeartbeat
		if details.Get(&hb) != nil || mid != nil || hb.Records < 1 {
			return
		}
		// Keep a copy of the partial shard as the interrupted attempt left it.
		keep := filepath.Join(t.TempDir(), "partial.parquet")
		if recs, err := datasets.ReadShard(hb.Partial); err == nil && datasets.WriteShard(keep, recs) == nil {
			hb.Partial = keep
			mid = &hb
		}
	})
	v, err = env.ExecuteActivity(a.GenerateBatch, in)
	if err != nil || mid == nil {
		t.Fatalf("first run: %v, checkpoint %v", err, mid)
	}
	var full workflows.BatchResult
	_ = v.Get(&full)
	want, _ := datasets.ReadShard(full.Shard)
	firstRequests := srv.Requests()

	env2 := s.NewTestActivityEnvironment()
	env2.RegisterActivity(a)
	env2.SetHeartbeatDetails(*mid)
	v, err = env2.ExecuteActivity(a.GenerateBatch, in)
	if err != nil {
		t.Fatal(err)
	}
	var resumed workflows.BatchResult
	_ = v.Get(&resumed)
	got, _ := datasets.ReadShard(resumed.Shard)
	if n, want := srv.Requests()-firstRequests, firstRequests-mid.Checkpoint.Stats.Attempts; n != want {
		t.Errorf("resumed run made %d teacher requests, want %d: the first made %d, %d of them before the checkpoint",
			n, want, firstRequests, mid.Checkpoint.Stats.Attempts)
	}
	if len(got) != len(want) || len(got) != 60 {
		t.Fatalf("resumed shard has %d records, uninterrupted %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Input != want[i].Input {
			t.Fatalf("record %d differs after resuming: %s %q %s vs %s %q %s (checkpoint %+v)", i, got[i].ID, got[i].Input, got[i].Cell, want[i].ID, want[i].Input, want[i].Cell, mid)
		}
	}
}
