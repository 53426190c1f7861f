package builtin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// btTestTeacher returns a builtin teacher over the embedded catalog.
func btTestTeacher(t testing.TB) (*Teacher, *schemas.Catalog) {
	t.Helper()
	cat, err := schemas.Load()
	if err != nil {
		t.Fatalf("load catalog: %v", err)
	}
	return New(cat), cat
}

// btWrite runs one LabelFirst request and fails the test on error.
func btWrite(t testing.TB, b *Teacher, s generator.Sample, seed int64) string {
	t.Helper()
	resp, err := b.Write(context.Background(), generator.Request{Mode: generator.LabelFirst, Sample: s, Seed: seed})
	if err != nil {
		t.Fatalf("write %s seed %d: %v", s.Cell.Key, seed, err)
	}
	return resp.Input
}

// btSlotValue is the test value of an intent slot: its first listed value, or
// a fixed string for generated slots.
func btSlotValue(s schemas.Slot) string {
	if len(s.Values) > 0 {
		return s.Values[0]
	}
	return "Test " + btHumanize(s.Gen) + " Value"
}

// btIntentSample builds an EdgeIntent sample with the given slots.
func btIntentSample(tax, class string, slots map[string]string) generator.Sample {
	tg, _ := json.Marshal(generator.IntentTarget{Intent: class, Slots: slots})
	return generator.Sample{
		Cell:   generator.Cell{Key: class, Task: schemas.EdgeIntent, Variant: tax, Taxonomy: tax, Class: class},
		Target: tg,
		Slots:  slots,
	}
}

// btPatternExamples are values for the catalog's string patterns.
var btPatternExamples = map[string]string{
	`^[0-9]{4}$`: "4821", `^[0-9]{9}$`: "021000021", `^REG-[0-9]{6}$`: "REG-482913", `^INV-[0-9]{6}$`: "INV-100234",
	`^LA-[0-9]{8}$`: "LA-20260314", `^REF-[0-9]{6}$`: "REF-556677", `^E[0-9]{3}$`: "E042", `^[1-5A-E]$`: "C",
}

// btTestValue builds a value for a raw JSON Schema node: the k-th enum
// member, the minimum (plus k), a format example, or a string naming the
// path, so that every value is distinct and easy to find in a text.
func btTestValue(node map[string]any, path string, k int) any {
	// Offset formatted values by the path, so that two dates differ.
	h := 0
	for _, c := range path {
		h = (h*31 + int(c)) % 1000
	}
	if enum, ok := node["enum"].([]any); ok && len(enum) > 0 {
		return enum[k%len(enum)]
	}
	num := func(key string) (float64, bool) {
		f, ok := node[key].(float64)
		return f, ok
	}
	switch node["type"] {
	case "object":
		props, _ := node["properties"].(map[string]any)
		obj := map[string]any{}
		for name, child := range props {
			obj[name] = btTestValue(child.(map[string]any), btJoinPath(path, name), k)
		}
		return obj
	case "array":
		items, _ := node["items"].(map[string]any)
		return []any{btTestValue(items, path+" one", k), btTestValue(items, path+" two", k+1)}
	case "boolean":
		return k%2 == 0
	case "integer", "number":
		lo, _ := num("minimum")
		hi, ok := num("maximum")
		v := lo + float64(k)
		if node["type"] == "number" {
			v += 0.5
		}
		if ok && v > hi {
			v = lo
		}
		return json.Number(fmt.Sprint(v))
	}
	switch node["format"] {
	case "date":
		return fmt.Sprintf("2026-%02d-%02d", 1+h%12, 1+(h+k)%28)
	case "date-time":
		return fmt.Sprintf("2026-%02d-%02dT%02d:30:00Z", 1+h%12, 1+(h+k)%28, h%24)
	case "time":
		return fmt.Sprintf("%02d:%02d", (h+k)%24, h%60)
	case "email":
		return strings.ReplaceAll(strings.ReplaceAll(path, ".", "-"), " ", "-") + "@example.com"
	case "phone":
		return fmt.Sprintf("+1 555 010 %04d", 2000+k)
	case "uri":
		return "https://example.com/" + strings.ReplaceAll(path, ".", "/")
	case "uuid":
		return "123e4567-e89b-12d3-a456-42661417400" + fmt.Sprint(k%10)
	}
	if p, ok := node["pattern"].(string); ok {
		if v, ok := btPatternExamples[p]; ok {
			return v
		}
		return "report_" + fmt.Sprint(k) + ".pdf"
	}
	return "test " + btHumanize(path) + " value"
}

// btRawSchema decodes a schema into generic JSON (numbers as float64).
func btRawSchemaMap(t testing.TB, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode schema: %v", err)
	}
	return m
}

// btSpellings are the ways a leaf may be written: verbatim, enum codes with
// spaces, and the date and time spellings the grounding validator reads.
func btSpellings(v string) []string {
	out := []string{v, strings.ReplaceAll(v, "_", " ")}
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		out = append(out, d.Format("January 2, 2006"), d.Format("2 January 2006"))
	}
	if d, err := time.Parse(time.RFC3339, v); err == nil {
		out = append(out, d.Format("2006-01-02")+" at "+d.Format("15:04"))
	}
	if len(v) == 5 && v[0] == '0' && v[2] == ':' {
		out = append(out, v[1:])
	}
	return out
}

// btMentions reports whether text states the leaf value v (case-insensitive).
func btMentions(text string, v any) bool {
	lower := strings.ToLower(text)
	for _, s := range btSpellings(btText(v)) {
		if strings.Contains(lower, strings.ToLower(s)) {
			return true
		}
	}
	return false
}

// btCheckLeaves fails the test for each non-boolean leaf of v not in text.
func btCheckLeaves(t *testing.T, what, text string, v any) {
	t.Helper()
	for _, l := range btLeaves("$", v) {
		if _, isBool := l.v.(bool); isBool || l.v == nil {
			continue
		}
		if !btMentions(text, l.v) {
			t.Errorf("%s: %s %q is not in the text:\n%s", what, l.path, btText(l.v), text)
		}
	}
}

// btLeaf is one scalar of a JSON value.
type btLeaf struct {
	path string
	v    any
}

// btLeaves flattens a generic JSON value.
func btLeaves(path string, v any) []btLeaf {
	switch x := v.(type) {
	case map[string]any:
		var out []btLeaf
		for _, k := range slices.Sorted(maps.Keys(x)) {
			out = append(out, btLeaves(path+"."+k, x[k])...)
		}
		return out
	case []any:
		var out []btLeaf
		for i, e := range x {
			out = append(out, btLeaves(fmt.Sprintf("%s[%d]", path, i), e)...)
		}
		return out
	}
	return []btLeaf{{path, v}}
}

// btCheckClean fails on template placeholders and empty text.
func btCheckClean(t *testing.T, what, text string) {
	t.Helper()
	if strings.TrimSpace(text) == "" {
		t.Errorf("%s: empty text", what)
	}
	if strings.ContainsAny(text, "{}") {
		t.Errorf("%s: a brace is left in the text: %q", what, text)
	}
}

func TestBuiltinInfo(t *testing.T) {
	b, _ := btTestTeacher(t)
	info, err := b.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info != (generator.TeacherInfo{Name: "builtin", Version: Version}) || Version == "" {
		t.Errorf("Info = %+v, want builtin %s", info, Version)
	}
}

func TestBuiltinModes(t *testing.T) {
	b, _ := btTestTeacher(t)
	ctx := context.Background()
	s := btIntentSample("assistant-50", "weather_current", map[string]string{"city": "Lisbon"})

	_, err := b.Write(ctx, generator.Request{Mode: generator.TeacherLabels, Sample: generator.Sample{Cell: s.Cell}})
	if !errors.Is(err, ErrModeUnsupported) {
		t.Errorf("TeacherLabels: err = %v, want ErrModeUnsupported", err)
	}
	if _, err := b.Write(ctx, generator.Request{Mode: "bogus", Sample: s}); !errors.Is(err, ErrModeUnsupported) {
		t.Errorf("unknown mode: err = %v, want ErrModeUnsupported", err)
	}

	resp, err := b.Write(ctx, generator.Request{Mode: generator.Extract, Sample: s, Text: "what's the weather in Lisbon"})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	if !btSameJSON(resp.Target, s.Target) || resp.Input != "" {
		t.Errorf("Extract = input %q target %s, want no input and the sample's target %s", resp.Input, resp.Target, s.Target)
	}
	if _, err := b.Write(ctx, generator.Request{Mode: generator.Extract, Sample: generator.Sample{Cell: s.Cell}}); err == nil {
		t.Error("Extract without a target: no error")
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Write(cancelled, generator.Request{Mode: generator.LabelFirst, Sample: s}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v, want context.Canceled", err)
	}
}

// btSameJSON compares two JSON documents by value.
func btSameJSON(a, b json.RawMessage) bool {
	va, ea := btDecode(a)
	vb, eb := btDecode(b)
	return ea == nil && eb == nil && fmt.Sprint(va) == fmt.Sprint(vb)
}

func TestBuiltinBadRequests(t *testing.T) {
	b, _ := btTestTeacher(t)
	for _, s := range []generator.Sample{
		{Cell: generator.Cell{Key: "x", Task: "nope"}},
		{Cell: generator.Cell{Key: "x", Task: schemas.EdgeIntent, Taxonomy: "assistant-50", Class: "no_such_class"}},
		{Cell: generator.Cell{Key: "x", Task: schemas.EdgeIntent, Taxonomy: "no-such-7"}},
		{Cell: generator.Cell{Key: "x", Task: schemas.EdgeJSON, SchemaID: "no.such"}, Target: json.RawMessage(`{}`)},
		{Cell: generator.Cell{Key: "x", Task: schemas.EdgeJSON, SchemaID: "finance.payment"}, Target: json.RawMessage(`[1]`)},
		{Cell: generator.Cell{Key: "x", Task: schemas.EdgeFuncCall, Scenario: schemas.SingleTurn}},
		{Cell: generator.Cell{Key: "x", Task: schemas.EdgeFuncCall}, Turns: []generator.TurnPlan{{Function: "no_such_function"}}},
		{Cell: generator.Cell{Key: "x", Task: schemas.EdgeFuncCall}, Turns: []generator.TurnPlan{{}}},
	} {
		if _, err := b.Write(context.Background(), generator.Request{Mode: generator.LabelFirst, Sample: s}); err == nil {
			t.Errorf("sample %+v: no error", s.Cell)
		}
	}
	if _, err := New(nil).Write(context.Background(), generator.Request{Mode: generator.LabelFirst,
		Sample: btIntentSample("assistant-50", "weather_current", nil)}); err == nil {
		t.Error("teacher without a catalog: no error")
	}
}

func TestBuiltinDeterminism(t *testing.T) {
	b, cat := btTestTeacher(t)
	samples := []generator.Sample{btIntentSample("assistant-50", "timer_set", map[string]string{"duration": "ten minutes", "label": "pasta"})}
	samples = append(samples, btDocSample(t, cat, "ecommerce.order_confirmation", btOrderConfirmation))
	samples = append(samples, btFuncSample(schemas.SingleTurn, generator.TurnPlan{Function: "lights_set_brightness",
		Args: map[string]any{"room": "kitchen", "brightness": 40, "transition_seconds": 5}}))
	for _, s := range samples {
		seen := map[string]bool{}
		for seed := int64(0); seed < 20; seed++ {
			a, c := btWrite(t, b, s, seed), btWrite(t, b, s, seed)
			if a != c {
				t.Errorf("%s seed %d: two writes differ:\n%s\n---\n%s", s.Cell.Key, seed, a, c)
			}
			seen[a] = true
		}
		if len(seen) < 10 {
			t.Errorf("%s: 20 seeds gave only %d texts", s.Cell.Key, len(seen))
		}
	}
	// A fresh teacher gives the same text: nothing is carried between calls.
	if a, c := btWrite(t, b, samples[0], 7), btWrite(t, New(cat), samples[0], 7); a != c {
		t.Errorf("two teachers differ: %q vs %q", a, c)
	}
}

// btFuncSample builds an EdgeFuncCall sample from turn plans.
func btFuncSample(sc schemas.Scenario, turns ...generator.TurnPlan) generator.Sample {
	key := string(sc)
	if len(turns) > 0 && turns[0].Function != "" {
		key = turns[0].Function + "/" + key
	}
	return generator.Sample{
		Cell:   generator.Cell{Key: key, Task: schemas.EdgeFuncCall, Function: turns[0].Function, Scenario: sc},
		Target: json.RawMessage(`{"scenario":"` + string(sc) + `","turns":[]}`),
		Turns:  turns,
	}
}

// btCheckTurn checks one utterance against its plan: no placeholders, every
// stated argument present, omitted and referred-to values absent.
func btCheckTurn(t *testing.T, what, text string, plan generator.TurnPlan, hidden map[string]any) {
	t.Helper()
	btCheckClean(t, what, text)
	for name, v := range plan.Args {
		if _, ref := plan.Refs[name]; ref {
			continue
		}
		nv, _ := btNormalize(v)
		btCheckLeaves(t, what+" arg "+name, text, nv)
	}
	for name, v := range hidden {
		if s, ok := v.(string); ok && len(s) >= 4 && strings.Contains(strings.ToLower(text), strings.ToLower(s)) {
			t.Errorf("%s: hidden %s value %q is stated: %q", what, name, s, text)
		}
	}
}

// btFuncArgs builds test arguments for a function: every parameter (all) or
// the required ones only.
func btFuncArgs(t *testing.T, f *schemas.Function, all bool, k int) map[string]any {
	raw := btRawSchemaMap(t, f.Parameters)
	args := btTestValue(raw, "", k).(map[string]any)
	if !all {
		req, _ := raw["required"].([]any)
		for name := range args {
			if !slices.Contains(req, any(name)) {
				delete(args, name)
			}
		}
	}
	nv, _ := btNormalize(args)
	return nv.(map[string]any)
}

// btRequired returns a function's required parameters.
func btRequired(t *testing.T, f *schemas.Function) []string {
	var p struct {
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(f.Parameters, &p); err != nil {
		t.Fatal(err)
	}
	return p.Required
}
