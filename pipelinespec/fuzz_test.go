package pipelinespec

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// FuzzPipelineSpec feeds arbitrary YAML or JSON to the pipeline spec parser
// (a schedule's spec file is untrusted text). It must not panic, and a spec
// it accepts written back as JSON parses to the same spec: defaults and
// validation are stable.
func FuzzPipelineSpec(f *testing.F) {
	f.Add([]byte(minimalSpec))
	if b, err := os.ReadFile("../examples/pipeline.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"name": "nightly", "datasets": [{"spec": {"task": "EdgeIntent", "variant": "50", "counts": {"train": 40, "test": 10}}}],
	 "models": [{"name": "intent", "task": "edgeintent", "train": {"preset": "tiny-intent"}}]}`))
	f.Add([]byte(minimalSpec + "review: {policy: auto, threshold: 0.5}\neval: {split: train, limit: 3}\npromotion: {tolerance: 0.05, thresholds: {edgeintent.top1: 0.5}}\nbaselines: [ollama:qwen2.5]\n"))
	f.Add([]byte(minimalSpec + "---\nname: other\n"))
	f.Add([]byte("name: &a [*a]\n"))
	f.Add([]byte("name: x\ndatasets: [{reuse: edgeintent@v1, spec: {task: edgeintent, counts: {train: 1000000000000, test: -1}}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		js, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("marshal accepted spec: %v", err)
		}
		s2, err := Parse(js)
		if err != nil {
			t.Fatalf("accepted spec, written as JSON, is refused: %v\n%s", err, js)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("spec changed across a write:\n%+v\n%+v", s, s2)
		}
	})
}
