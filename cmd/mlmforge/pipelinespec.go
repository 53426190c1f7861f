package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/workflows"
)

// Defaults a pipeline spec file may leave out (docs/pipeline.md).
const (
	defaultEvalSplit          = "test"
	defaultPromotionTolerance = 0.01
)

// specName is what a pipeline name and a model name may look like: both end
// up in directory names (HOME/models/<pipeline>/) and workflow ids.
var specName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// docSeparator separates YAML documents.
var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// loadPipelineSpec reads a pipeline spec file (YAML or JSON, every field in
// docs/pipeline.md), fills the defaults and checks everything that can be
// checked before a run. Every error names the file and the field.
func loadPipelineSpec(path string) (workflows.PipelineSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return workflows.PipelineSpec{}, fmt.Errorf("pipeline spec: %w", err)
	}
	s, err := parsePipelineSpec(b)
	if err != nil {
		return workflows.PipelineSpec{}, fmt.Errorf("pipeline spec %s: %w", path, err)
	}
	return s, nil
}

// parsePipelineSpec decodes, defaults and validates the bytes of a spec file.
func parsePipelineSpec(b []byte) (workflows.PipelineSpec, error) {
	var s workflows.PipelineSpec
	// YAMLToJSON would silently drop every document after the first.
	docs := 0
	for _, d := range docSeparator.Split(string(b), -1) {
		for l := range strings.Lines(d) {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				docs++
				break
			}
		}
	}
	if docs > 1 {
		return s, errors.New("more than one YAML document (---): a spec file holds one pipeline")
	}
	js, err := yaml.YAMLToJSON(b)
	if err != nil {
		return s, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, decodeError(js, err)
	}
	fillPipelineDefaults(&s)
	return s, validatePipelineSpec(s)
}

// decodeError turns encoding/json's errors into ones that name the field with
// its full path: encoding/json names neither the path of an unknown field nor
// the list index or map key of a value of the wrong type.
func decodeError(js []byte, err error) error {
	var doc any
	if json.Unmarshal(js, &doc) != nil {
		return err
	}
	bad := findBadField(doc, reflect.TypeFor[workflows.PipelineSpec](), "")
	switch {
	case bad.path == "":
		return err
	case bad.want != "":
		return fmt.Errorf("%s: want %s, got %s", bad.path, bad.want, bad.got)
	}
	msg := fmt.Sprintf("unknown field %q", bad.path)
	leaf := bad.path[strings.LastIndexAny(bad.path, ".]")+1:]
	if near := nearest(leaf, bad.known); near != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", near)
	}
	return errors.New(msg)
}

// badField is the first problem findBadField met: an unknown key (with the
// names valid there) or a value of the wrong kind.
type badField struct {
	path      string
	known     []string
	want, got string
}

// findBadField walks a decoded document along the Go type it decodes into and
// reports the first unknown key or mismatched value, keys in sorted order.
func findBadField(v any, t reflect.Type, path string) badField {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) || t.Kind() == reflect.Interface || v == nil {
		return badField{}
	}
	if want, ok := kindMatches(v, t); !ok {
		return badField{path: path, want: want, got: describeValue(v)}
	}
	switch x := v.(type) {
	case map[string]any:
		var fields map[string]jsonField
		if t.Kind() == reflect.Struct {
			fields = jsonFields(t)
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			var elem reflect.Type
			if fields == nil {
				elem = t.Elem()
			} else {
				f, ok := fields[strings.ToLower(k)] // encoding/json matches names case-insensitively
				if !ok {
					known := make([]string, 0, len(fields))
					for _, f := range fields {
						known = append(known, f.name)
					}
					slices.Sort(known)
					return badField{path: joinPath(path, k), known: known}
				}
				elem = f.typ
			}
			if bad := findBadField(x[k], elem, joinPath(path, k)); bad.path != "" {
				return bad
			}
		}
	case []any:
		for i, e := range x {
			if bad := findBadField(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); bad.path != "" {
				return bad
			}
		}
	}
	return badField{}
}

// kindMatches says whether a decoded JSON value fits a Go type, and if not
// what the type wants in words.
func kindMatches(v any, t reflect.Type) (string, bool) {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		_, ok := v.(map[string]any)
		return "a mapping", ok
	case reflect.Slice, reflect.Array:
		_, ok := v.([]any)
		return "a list", ok || t.Elem().Kind() == reflect.Uint8 // []byte takes a string
	case reflect.String:
		_, ok := v.(string)
		return "a string", ok
	case reflect.Bool:
		_, ok := v.(bool)
		return "true or false", ok
	case reflect.Float32, reflect.Float64:
		_, ok := v.(float64)
		return "a number", ok
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		f, ok := v.(float64)
		return "an integer", ok && f == float64(int64(f))
	}
	return "", true
}

func describeValue(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields maps the lower-cased JSON names of a struct's fields to the field.
func jsonFields(t reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				maps.Copy(out, jsonFields(f.Type))
				continue
			}
			name = f.Name
		}
		out[strings.ToLower(name)] = jsonField{name, f.Type}
	}
	return out
}

// nearest returns the known name closest to s by edit distance, if it is
// close enough to be a likely misspelling.
func nearest(s string, known []string) string {
	best, bestD := "", len(s)/2+1
	for _, k := range known {
		if d := schemas.EditDistance(strings.ToLower(s), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// fillPipelineDefaults fills what a spec may leave out and normalizes task
// names, so that the stored schedule shows what will run. Generation defaults
// are left to the Dataset workflow (generator.Spec.WithDefaults), which applies
// them before hashing, so the spec hash is the same either way.
func fillPipelineDefaults(s *workflows.PipelineSpec) {
	if s.Review.Policy == "" {
		s.Review.Policy = workflows.ReviewRequired
	}
	if s.Eval.Split == "" {
		s.Eval.Split = defaultEvalSplit
	}
	if s.Promotion.Tolerance == 0 {
		s.Promotion.Tolerance = defaultPromotionTolerance
	}
	for i := range s.Datasets {
		d := &s.Datasets[i]
		if d.Spec.Task == "" && d.Reuse != "" {
			task, _, _ := strings.Cut(d.Reuse, "@")
			d.Spec.Task = schemas.Task(task)
		}
		if t, err := schemas.ParseTask(string(d.Spec.Task)); err == nil {
			d.Spec.Task = t
		}
	}
	for i := range s.Models {
		if t, err := schemas.ParseTask(s.Models[i].Task); err == nil {
			s.Models[i].Task = string(t)
		}
	}
}

// validatePipelineSpec names the first field of a defaulted spec that cannot run.
func validatePipelineSpec(s workflows.PipelineSpec) error {
	if s.Name == "" {
		return errors.New("name is required")
	}
	if !specName.MatchString(s.Name) {
		return fmt.Errorf("name %q: use letters, digits, '.', '_' and '-' (it names a directory)", s.Name)
	}
	tasks, err := validateDatasets(s.Datasets, s.Eval.Split)
	if err != nil {
		return err
	}
	if err := validateReview(s.Review); err != nil {
		return err
	}
	if err := validateModels(s.Models, tasks); err != nil {
		return err
	}
	return validateEvalPromotion(s, tasks)
}

// validateDatasets checks the dataset steps and returns their tasks.
func validateDatasets(ds []workflows.PipelineDataset, split string) (map[string]bool, error) {
	if len(ds) == 0 {
		return nil, errors.New("datasets: give at least one dataset step")
	}
	tasks := map[string]bool{}
	for i, d := range ds {
		at := fmt.Sprintf("datasets[%d]", i)
		if _, err := schemas.ParseTask(string(d.Spec.Task)); err != nil {
			return nil, fmt.Errorf("%s.spec.task: %w", at, err)
		}
		if tasks[string(d.Spec.Task)] {
			return nil, fmt.Errorf("%s: a second dataset for task %s (one dataset per task)", at, d.Spec.Task)
		}
		tasks[string(d.Spec.Task)] = true
		if d.Reuse != "" {
			task, ver, ok := strings.Cut(d.Reuse, "@")
			if !ok || ver == "" || strings.ContainsAny(ver, `/\`) || ver == ".." {
				return nil, fmt.Errorf("%s.reuse %q: want TASK@VERSION, e.g. edgeintent@v3", at, d.Reuse)
			}
			if t, err := schemas.ParseTask(task); err != nil || t != d.Spec.Task {
				return nil, fmt.Errorf("%s.reuse %q: not a version of task %s", at, d.Reuse, d.Spec.Task)
			}
			continue
		}
		spec := d.Spec.WithDefaults()
		if err := spec.Validate(); err != nil {
			return nil, fmt.Errorf("%s.spec.%w", at, err)
		}
		if tag, ok := strings.CutPrefix(spec.Teacher, "ollama:"); spec.Teacher != "builtin" && (!ok || tag == "") {
			return nil, fmt.Errorf("%s.spec.teacher %q: want builtin or ollama:<model>", at, spec.Teacher)
		}
		if spec.Counts[split] <= 0 {
			return nil, fmt.Errorf("%s.spec.counts: no %q examples, and eval.split evaluates %q", at, split, split)
		}
	}
	return tasks, nil
}

func validateReview(r workflows.ReviewOptions) error {
	switch {
	case r.Policy != workflows.ReviewRequired && r.Policy != workflows.ReviewAuto:
		return fmt.Errorf("review.policy %q: want %s or %s", r.Policy, workflows.ReviewRequired, workflows.ReviewAuto)
	case r.Fraction < 0 || r.Fraction > 1:
		return fmt.Errorf("review.fraction %g: must be in (0, 1]", r.Fraction)
	case r.Threshold < 0 || r.Threshold > 1:
		return fmt.Errorf("review.threshold %g: must be in (0, 1]", r.Threshold)
	case r.DeadlineSeconds < 0:
		return fmt.Errorf("review.deadline_seconds %d: must be >= 0", r.DeadlineSeconds)
	case r.OnDeadline != "" && r.OnDeadline != "fail" && r.OnDeadline != "release":
		return fmt.Errorf("review.on_deadline %q: want fail or release", r.OnDeadline)
	case r.MaxRegenerations < 0:
		return fmt.Errorf("review.max_regenerations %d: must be >= 0", r.MaxRegenerations)
	}
	return nil
}

func validateModels(ms []workflows.PipelineModel, tasks map[string]bool) error {
	if len(ms) == 0 {
		return errors.New("models: give at least one student to train")
	}
	names := map[string]bool{}
	for i, m := range ms {
		at := fmt.Sprintf("models[%d]", i)
		switch {
		case m.Name == "":
			return fmt.Errorf("%s.name is required", at)
		case !specName.MatchString(m.Name):
			return fmt.Errorf("%s.name %q: use letters, digits, '.', '_' and '-'", at, m.Name)
		case names[m.Name]:
			return fmt.Errorf("%s.name %q: used twice", at, m.Name)
		case m.Task != "multi" && !tasks[m.Task]:
			return fmt.Errorf("%s.task %q: no dataset step for it (have %s, or multi for every one)", at, m.Task, strings.Join(slices.Sorted(maps.Keys(tasks)), ", "))
		case m.Task == "multi" && len(tasks) < 2:
			return fmt.Errorf("%s.task multi: a multi-task student needs at least two dataset steps", at)
		case len(m.Train.Datasets) > 0:
			return fmt.Errorf("%s.train.datasets: leave it out, task multi trains on every dataset step", at)
		case m.Train.Preset == "":
			return fmt.Errorf("%s.train.preset is required", at)
		case m.Train.Dataset != "":
			return fmt.Errorf("%s.train.dataset: leave it out, the pipeline trains on its dataset step's version", at)
		}
		names[m.Name] = true
		p, err := model.LookupPreset(m.Train.Preset)
		if err != nil {
			return fmt.Errorf("%s.train.preset: %w", at, err)
		}
		if (m.Task == "multi") != (p.Task == "multi") {
			return fmt.Errorf("%s.train.preset %s is meant for %s, task is %s (multi-task students: task multi with a multi preset)", at, p.Name, p.Task, m.Task)
		}
		if p.Task != m.Task && p.Task != "multi" {
			return fmt.Errorf("%s.train.preset %s is meant for %s, not %s", at, p.Name, p.Task, m.Task)
		}
		// The method is checked by the PrepareTrain activity, which knows
		// which methods fit which preset; it fails the run at once.
		if m.Train.Steps < 0 || m.Train.BatchSize < 0 || m.Train.SeqLen < 0 || m.Train.LR < 0 || m.Train.CheckpointEvery < 0 {
			return fmt.Errorf("%s.train: steps, batch_size, seq_len, lr and checkpoint_every must be >= 0", at)
		}
	}
	return nil
}

func validateEvalPromotion(s workflows.PipelineSpec, tasks map[string]bool) error {
	for i, b := range s.Baselines {
		if m, ok := strings.CutPrefix(b, "ollama:"); !ok || m == "" {
			return fmt.Errorf("baselines[%d] %q: want ollama:<model>", i, b)
		}
	}
	if s.Eval.Limit < 0 {
		return fmt.Errorf("eval.limit %d: must be >= 0 (0 = all)", s.Eval.Limit)
	}
	for i, n := range s.Eval.Shots {
		if n < 0 {
			return fmt.Errorf("eval.shots[%d] %d: must be >= 0", i, n)
		}
	}
	if t := s.Promotion.Tolerance; t < 0 || t >= 1 {
		return fmt.Errorf("promotion.tolerance %g: must be in [0, 1)", t)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Promotion.Thresholds)) {
		task, metric, ok := strings.Cut(k, ".")
		if !ok || metric == "" {
			return fmt.Errorf("promotion.thresholds %q: want TASK.METRIC, e.g. edgeintent.top1", k)
		}
		if !tasks[task] {
			return fmt.Errorf("promotion.thresholds %q: no dataset step for task %q", k, task)
		}
	}
	return nil
}
