package pipelinespec

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/workflows"
)

// minimalSpec is the smallest spec that runs.
const minimalSpec = `
name: nightly
datasets:
  - spec: {task: edgeintent, variant: "50", counts: {train: 40, test: 10}}
models:
  - {name: intent, task: edgeintent, train: {preset: tiny-intent}}
`

func TestParsePipelineSpecDefaults(t *testing.T) {
	s, err := Parse([]byte(minimalSpec))
	if err != nil {
		t.Fatal(err)
	}
	if s.Review.Policy != workflows.ReviewRequired || s.Eval.Split != "test" || s.Promotion.Tolerance != 0.01 {
		t.Errorf("defaults: review %q, split %q, tolerance %g", s.Review.Policy, s.Eval.Split, s.Promotion.Tolerance)
	}
	if d := s.Datasets[0].Spec; d.Task != "edgeintent" || d.Variant != "50" || d.Counts["train"] != 40 || d.Counts["test"] != 10 {
		t.Errorf("dataset spec = %+v", d)
	}
	// Generation defaults stay with the Dataset workflow (they are hashed there).
	if d := s.Datasets[0].Spec; d.Teacher != "" || d.Mode != "" {
		t.Errorf("generation defaults filled in the spec: %+v", d)
	}
	if m := s.Models[0]; m.Name != "intent" || m.Train.Preset != "tiny-intent" {
		t.Errorf("model = %+v", m)
	}
	// Explicit values are kept.
	s, err = Parse([]byte(minimalSpec + "review: {policy: auto}\neval: {split: train}\npromotion: {tolerance: 0.05}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Review.Policy != "auto" || s.Eval.Split != "train" || s.Promotion.Tolerance != 0.05 {
		t.Errorf("explicit values overwritten: %+v %+v %+v", s.Review, s.Eval, s.Promotion)
	}
}

func TestParsePipelineSpecJSONEqualsYAML(t *testing.T) {
	js := `{"name": "nightly", "datasets": [{"spec": {"task": "EdgeIntent", "variant": "50", "counts": {"train": 40, "test": 10}}}],
	 "models": [{"name": "intent", "task": "edgeintent", "train": {"preset": "tiny-intent"}}]}`
	a, err := Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse([]byte(minimalSpec))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("JSON and YAML differ:\n%+v\n%+v", a, b)
	}
}

func TestParsePipelineSpecErrors(t *testing.T) {
	tests := []struct{ name, add, replace, with, want string }{
		{"misspelt top-level field", "reveiw: {policy: auto}\n", "", "", `unknown field "reveiw" (did you mean "review"?)`},
		{"misspelt nested field", "", "preset: tiny-intent", "preset: tiny-intent, stesp: 5", `unknown field "models[0].train.stesp" (did you mean "steps"?)`},
		{"misspelt spec field", "", "variant:", "varient:", `unknown field "datasets[0].spec.varient"`},
		{"wrong type", "", "{train: 40, test: 10}", "{train: many, test: 10}", `datasets[0].spec.counts.train: want an integer, got "many"`},
		{"list expected", "baselines: ollama:qwen\n", "", "", `baselines: want a list, got "ollama:qwen"`},
		{"fraction for an integer", "", "test: 10", "test: 2.5", "datasets[0].spec.counts.test: want an integer, got 2.5"},
		{"mapping for a string", "eval: {split: {a: 1}}\n", "", "", "eval.split: want a string, got a mapping"},
		{"bad yaml", "name: [\n", "", "", "yaml"},
		{"two documents", "", "", "", ""},
		{"no name", "", "name: nightly", "", "name is required"},
		{"bad name", "", "name: nightly", "name: ../etc", `name "../etc"`},
		{"unknown task", "", "task: edgeintent, variant", "task: edgevision, variant", "datasets[0].spec.task: unknown task"},
		{"bad mode", "", `variant: "50",`, `variant: "50", mode: guess,`, `datasets[0].spec.mode "guess"`},
		{"bad holdout share", "", `variant: "50",`, `variant: "50", holdout_templates: 2,`, "datasets[0].spec.holdout_templates 2: must be in [0, 1)"},
		{"bad teacher", "", `variant: "50",`, `variant: "50", teacher: gpt4,`, `datasets[0].spec.teacher "gpt4"`},
		{"no eval split examples", "", "test: 10", "test: 0", `datasets[0].spec.counts: no "test" examples`},
		{"bad review policy", "review: {policy: maybe}\n", "", "", `review.policy "maybe"`},
		{"bad review threshold", "review: {threshold: 2}\n", "", "", "review.threshold 2"},
		{"model without dataset", "", "name: intent, task: edgeintent", "name: intent, task: edgejson", `models[0].task "edgejson": no dataset step`},
		{"no preset", "", "preset: tiny-intent", "steps: 5", "models[0].train.preset is required"},
		{"unknown preset", "", "tiny-intent", "huge-intent", `models[0].train.preset: unknown preset "huge-intent"`},
		{"preset for another task", "", "tiny-intent", "tiny-json", "models[0].train.preset tiny-json is meant for edgejson"},
		{"dataset set in train", "", "preset: tiny-intent", "preset: tiny-intent, dataset: edgeintent@v1", "models[0].train.dataset: leave it out"},
		{"bad baseline", "baselines: [qwen2.5]\n", "", "", `baselines[0] "qwen2.5"`},
		{"bad threshold key", "promotion: {thresholds: {top1: 0.8}}\n", "", "", `promotion.thresholds "top1": want TASK.METRIC`},
		{"threshold for absent task", "promotion: {thresholds: {edgejson.json_exact: 0.5}}\n", "", "", `no dataset step for task "edgejson"`},
		{"negative tolerance", "promotion: {tolerance: -0.1}\n", "", "", "promotion.tolerance -0.1"},
		{"bad reuse", "", "- spec:", "- reuse: edgeintent\n    spec:", `datasets[0].reuse "edgeintent": want TASK@VERSION`},
		{"reuse of another task", "", "- spec:", "- reuse: edgejson@v1\n    spec:", "not a version of task edgeintent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := minimalSpec
			if tt.replace != "" {
				if !strings.Contains(doc, tt.replace) {
					t.Fatalf("test bug: %q not in the spec", tt.replace)
				}
				doc = strings.Replace(doc, tt.replace, tt.with, 1)
			}
			doc += tt.add
			want := tt.want
			if tt.name == "two documents" {
				doc, want = minimalSpec+"---\nname: other\n", "more than one YAML document"
			}
			_, err := Parse([]byte(doc))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error = %v, want it to contain %q", err, want)
			}
		})
	}
}

func TestLoadPipelineSpecNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(path, []byte(minimalSpec+"reveiw: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "pipeline spec "+path+": unknown field \"reveiw\"") {
		t.Errorf("error = %v", err)
	}
	_, err = Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if err == nil || !strings.Contains(err.Error(), "missing.yaml: no such file") {
		t.Errorf("error = %v", err)
	}
}

// TestPipelineDocsAndExample keeps docs/pipeline.md and examples/pipeline.yaml
// honest: both examples load, and every field of the spec is documented.
func TestPipelineDocsAndExample(t *testing.T) {
	ex, err := Load(filepath.Join("..", "examples", "pipeline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if ex.Review.Policy != workflows.ReviewAuto || ex.Datasets[0].Spec.Teacher != "builtin" {
		t.Errorf("examples/pipeline.yaml: want review auto and the builtin teacher, got %q %q", ex.Review.Policy, ex.Datasets[0].Spec.Teacher)
	}
	for _, m := range ex.Models {
		if !strings.HasPrefix(m.Train.Preset, "tiny-") {
			t.Errorf("examples/pipeline.yaml: model %s uses %s, want a tiny preset", m.Name, m.Train.Preset)
		}
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "pipeline.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(doc)
	if block == nil {
		t.Fatal("docs/pipeline.md has no yaml example")
	}
	if _, err := Parse(block[1]); err != nil {
		t.Errorf("docs/pipeline.md example: %v", err)
	}
	paths := fieldPaths(reflect.TypeFor[workflows.PipelineSpec](), "")
	if len(paths) < 40 {
		t.Fatalf("only %d field paths found: %v", len(paths), paths)
	}
	for _, p := range paths {
		if !strings.Contains(string(doc), "`"+p+"`") {
			t.Errorf("docs/pipeline.md does not document `%s`", p)
		}
	}
}

// TestExampleRecipes loads every spec under examples/: the recipes for the
// real presets name presets, methods and threshold keys the loader accepts,
// and each promotes its students on a headline metric.
func TestExampleRecipes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if err != nil || len(files) < 5 {
		t.Fatalf("examples: %v %v", files, err)
	}
	headline := []string{"edgejson.json_exact", "edgeintent.top1", "edgefunccall.function_exact", "edgefunccall.example_accuracy"}
	for _, f := range files {
		spec, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		n := 0
		for k := range spec.Promotion.Thresholds {
			if slices.Contains(headline, k) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s: no threshold on a headline metric: %v", f, spec.Promotion.Thresholds)
		}
	}
}

// fieldPaths lists the JSON paths of every field of a spec type, lists as
// "[]", e.g. "models[].train.steps".
func fieldPaths(t reflect.Type, prefix string) []string {
	var out []string
	for _, ft := range jsonFields(t) {
		p := joinPath(prefix, ft.name)
		out = append(out, p)
		typ := ft.typ
		if typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.Struct {
			p, typ = p+"[]", typ.Elem()
		}
		if typ.Kind() == reflect.Struct {
			out = append(out, fieldPaths(typ, p)...)
		}
	}
	return out
}
