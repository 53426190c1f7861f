package activities

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/eval/report"
	"github.com/cyclecore/mlmforge/eval/runner"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/builtin"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// intentReport writes a report in which the student checkpoint answers the
// first `right` of the records correctly and the rest wrongly.
func intentReport(t *testing.T, dir, checkpoint string, recs []datasets.Record, right int) {
	t.Helper()
	cat, _ := schemas.Load()
	sc, _ := eval.NewScorer(cat)
	var preds []eval.Prediction
	for i, r := range recs {
		raw := r.Target
		if i >= right {
			raw = `{"intent":"definitely_wrong"}`
		}
		preds = append(preds, eval.Prediction{ID: r.ID, Raw: raw, Cost: eval.Cost{LatencyMS: 1}})
	}
	rep, err := sc.Score(recs, preds)
	if err != nil {
		t.Fatal(err)
	}
	res := []report.Result{{Model: runner.ModelInfo{Ref: "student:" + checkpoint, Kind: "student", Params: 200000, SizeBytes: 900000},
		Dataset: report.Dataset{Task: "edgeintent", Version: "v1", Split: "test", N: len(recs)}, Report: rep}}
	if _, err := report.Write(dir, res, report.Lineage{}); err != nil {
		t.Fatal(err)
	}
}

func TestPromoteKeepsTheBetterModel(t *testing.T) {
	home := t.TempDir()
	a := &Activities{Home: home, Identity: "test"}
	cat, _ := schemas.Load()
	recs, err := builtin.Generate(context.Background(), cat,
		generator.Spec{Task: schemas.EdgeIntent, Variant: "50", Counts: map[string]int{"test": 50}, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	policy := workflows.PromotionPolicy{Thresholds: map[string]float64{"edgeintent.top1": 0.8}, Tolerance: 0.02}
	run := func(runID, ckpt string, right int) workflows.Promotion {
		dir := filepath.Join(home, "reports", runID)
		intentReport(t, dir, ckpt, recs, right)
		res, err := a.Promote(context.Background(), workflows.PromoteInput{Pipeline: "weekly", RunID: runID, Policy: policy, ReportDir: dir,
			Students: []workflows.PromoteStudent{{Name: "intent", Task: "edgeintent", Checkpoint: ckpt}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(res.Lineage); err != nil {
			t.Error(err)
		}
		return res.Promotions[0]
	}
	// 1: 45/50 = 0.90 clears the threshold: promoted.
	if p := run("run-1", "/ck/a", 45); !p.Promoted || !strings.Contains(p.Reason, "edgeintent.top1 0.900 >= 0.800") {
		t.Fatalf("first run %+v", p)
	}
	// 2: 0.84 clears the threshold but falls 0.06 below the promoted 0.90.
	p := run("run-2", "/ck/b", 42)
	if p.Promoted || p.Previous != "/ck/a" || !strings.Contains(p.Reason, "below the promoted model's 0.900") ||
		!strings.Contains(p.Reason, "/ck/a stays promoted") {
		t.Fatalf("worse run %+v", p)
	}
	// 3: below the threshold.
	if p := run("run-3", "/ck/c", 20); p.Promoted || !strings.Contains(p.Reason, "< threshold 0.800") {
		t.Fatalf("bad run %+v", p)
	}
	// 4: within the tolerance of the promoted model: promoted.
	if p := run("run-4", "/ck/d", 45); !p.Promoted {
		t.Fatalf("equal run %+v", p)
	}
}

// TestPromoteNeedsTheHeadline checks that a model is promoted on its headline
// metric only: a policy that thresholds another metric (schema compliance of a
// JSON student that gets no example right) promotes nothing and says why.
func TestPromoteNeedsTheHeadline(t *testing.T) {
	metrics := map[string]float64{"edgejson.json_exact": 0, "edgejson.schema_compliance": 0.4}
	s := workflows.PromoteStudent{Name: "tiny-json", Task: "edgejson", Checkpoint: "/ck/j"}
	p := judge(s, metrics, map[string]float64{"edgejson.schema_compliance": 0.3}, promotedModel{}, false, 0.01)
	if p.Promoted || !strings.Contains(p.Reason, "no threshold on edgejson.json_exact, the headline metric") {
		t.Fatalf("schema compliance alone: %+v", p)
	}
	p = judge(s, metrics, map[string]float64{"edgejson.schema_compliance": 0.3, "edgejson.json_exact": 0.5}, promotedModel{}, false, 0.01)
	if p.Promoted || !strings.HasPrefix(p.Reason, "not promoted: edgejson.json_exact 0.000 < threshold 0.500") {
		t.Fatalf("headline below its threshold: %+v", p)
	}
	metrics["edgejson.json_exact"] = 0.6
	if p = judge(s, metrics, map[string]float64{"edgejson.json_exact": 0.5}, promotedModel{}, false, 0.01); !p.Promoted {
		t.Fatalf("headline above its threshold: %+v", p)
	}
}
