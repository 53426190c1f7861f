package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/internal/testutil"
	"github.com/cyclecore/mlmforge/schemas"
)

// buildTestData tokenizes records with the byte tokenizer, labels from the records.
func buildTestData(t *testing.T, arch string, recs []datasets.Record, seqLen int) *Data {
	t.Helper()
	spec := DataSpec{Arch: arch, SeqLen: seqLen, Tokenizer: byteTok{}, Catalog: testutil.Catalog(t)}
	if arch == model.ArchEncoder {
		labels, err := Labels(recs)
		if err != nil {
			t.Fatal(err)
		}
		spec.Labels = labels
	}
	d, err := BuildData(spec, recs)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDecoderBatchMasking checks that prompt tokens and padding carry no loss and that
// the reply and EOS are the targets, shifted by one.
func TestDecoderBatchMasking(t *testing.T) {
	recs := intentRecords(2, "train")
	d := buildTestData(t, model.ArchDecoder, recs, 256)
	ex := d.Examples[0]
	system, user, err := Prompt(testutil.Catalog(t), &recs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(user, recs[0].Input) || !strings.Contains(system, "intent") {
		t.Errorf("prompt lacks the input or the instruction: %q / %q", system, user)
	}
	reply := `{"intent":"set_alarm"}`
	if got := string(toBytes(ex.Tokens[ex.Prompt : len(ex.Tokens)-1])); got != reply {
		t.Errorf("reply tokens %q, want %q", got, reply)
	}
	b := makeBatch(d, []*Example{&ex}, 256)
	var targets []int32
	for t0, tg := range b.Targets {
		switch {
		case t0 < ex.Prompt-1 && tg != -1:
			t.Fatalf("prompt position %d has target %d", t0, tg)
		case t0 >= len(ex.Tokens)-1 && (tg != -1 || b.Valid[t0] != 0 || b.Tokens[t0] != bytePad):
			t.Fatalf("padding position %d: target %d valid %g token %d", t0, tg, b.Valid[t0], b.Tokens[t0])
		case tg >= 0:
			targets = append(targets, tg)
		}
	}
	want := append(toInt32(reply), byteEOS)
	if !slices.Equal(targets, want) {
		t.Errorf("targets %v, want the reply and EOS %v", targets, want)
	}
	// A prompt longer than SeqLen leaves nothing to learn: the example is dropped.
	if _, err := BuildData(DataSpec{Arch: model.ArchDecoder, SeqLen: 16, Tokenizer: byteTok{}, Catalog: testutil.Catalog(t)}, recs); err == nil ||
		!strings.Contains(err.Error(), "2 dropped") {
		t.Errorf("error %v, want every record dropped", err)
	}
	short := buildTestData(t, model.ArchDecoder, recs, ex.Prompt+3)
	if short.Truncated != 2 || len(short.Examples) != 2 {
		t.Errorf("truncated %d of %d, want 2 of 2", short.Truncated, len(short.Examples))
	}
}

func toBytes(ids []int32) []byte {
	b := make([]byte, len(ids))
	for i, id := range ids {
		b[i] = byte(id)
	}
	return b
}

func toInt32(s string) []int32 {
	out := make([]int32, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = int32(s[i])
	}
	return out
}

// TestEncoderLabels checks the sorted label list, class ids, soft labels and errors.
func TestEncoderLabels(t *testing.T) {
	recs := intentRecords(6, "train")
	recs[1].SoftLabels = `{"play_music": 3, "set_alarm": 1}`
	recs[2].Intent = "" // falls back to the target's intent
	d := buildTestData(t, model.ArchEncoder, recs, 64)
	if !slices.Equal(d.Labels, []string{"get_weather", "play_music", "set_alarm"}) {
		t.Errorf("labels %v, want sorted", d.Labels)
	}
	if d.Examples[0].Label != 2 || d.Examples[2].Label != 0 {
		t.Errorf("labels %d %d, want 2 (set_alarm) 0 (get_weather)", d.Examples[0].Label, d.Examples[2].Label)
	}
	if !slices.Equal(d.Examples[1].Soft, []float32{0, 0.75, 0.25}) {
		t.Errorf("soft %v, want normalised [0 0.75 0.25]", d.Examples[1].Soft)
	}
	b := makeBatch(d, []*Example{&d.Examples[0], &d.Examples[1]}, 64)
	if !slices.Equal(b.Soft, []float32{0, 0, 1, 0, 0.75, 0.25}) || !slices.Equal(b.Labels, []int32{2, 1}) {
		t.Errorf("batch soft %v labels %v", b.Soft, b.Labels)
	}
	if n := countTokens(b); n != len(recs[0].Input)+len(recs[1].Input) {
		t.Errorf("%d valid tokens, want %d", n, len(recs[0].Input)+len(recs[1].Input))
	}
	labels := d.Labels
	for _, tc := range []struct {
		name string
		edit func(r *datasets.Record)
		want string
	}{
		{"unknown label", func(r *datasets.Record) { r.Intent = "order_pizza" }, `label "order_pizza" is not one of`},
		{"soft unknown class", func(r *datasets.Record) { r.SoftLabels = `{"x": 1}` }, `class "x" is not a training class`},
		{"soft not a map", func(r *datasets.Record) { r.SoftLabels = `[1]` }, "field soft_labels"},
		{"soft zero", func(r *datasets.Record) { r.SoftLabels = `{"set_alarm": 0}` }, "sum to 0"},
		{"no label", func(r *datasets.Record) { r.Intent, r.Target = "", `{}` }, "no intent label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := intentRecords(1, "test")
			tc.edit(&rs[0])
			_, err := BuildData(DataSpec{Arch: model.ArchEncoder, SeqLen: 64, Tokenizer: byteTok{}, Labels: labels}, rs)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "test-000") {
				t.Errorf("error %v, want %q naming the record", err, tc.want)
			}
		})
	}
}

// TestPromptEdgeJSON checks that the schema id and its fields are in the prompt in
// declaration order, that the reply writes the fields in that order, that a
// record's own schema (Meta) wins over a catalog schema of the same id, and that a
// record without any schema is an error naming it.
func TestPromptEdgeJSON(t *testing.T) {
	cat := testutil.Catalog(t)
	s := cat.Schemas[0]
	r := datasets.Record{ID: "j1", Task: "edgejson", Cell: s.ID, Input: "some text", Target: `{"a": 1}`}
	_, user, err := Prompt(cat, &r)
	if err != nil {
		t.Fatal(err)
	}
	props, err := parseOrdered(s.Schema)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(user, "Schema "+s.ID+": {") || !strings.HasSuffix(user, "Text: some text") {
		t.Errorf("prompt %q lacks the schema id or the text", user)
	}
	last := -1
	for _, name := range props.get("properties").keys {
		at := strings.Index(user, name)
		if at < 0 || at < last {
			t.Errorf("prompt lacks field %s or lists it out of declaration order: %q", name, user)
		}
		last = at
	}

	// An imported record: its own schema, property order kept, even with a
	// catalog schema's id as its cell; the reply follows that order, nested too.
	own := `{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"object",` +
		`"properties":{"y":{"type":"integer"},"b":{"type":"number"}},"required":["y"]}},"required":["zeta"]}`
	r.Meta = `{"schema":` + own + `,"system":["Answer in German."]}`
	r.Target = `{"alpha": {"b": 5.0, "y": 2}, "zeta": "Zürich", "extra": true}`
	system, user, err := Prompt(cat, &r)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Schema " + s.ID + ": {zeta: string, alpha?: {y: integer, b?: number}}\nText: some text"; user != want {
		t.Errorf("prompt %q, want %q", user, want)
	}
	if !strings.HasPrefix(system, "Answer in German.\n") || !strings.HasSuffix(system, instructJSON) {
		t.Errorf("system %q, want the record's system message, then the instruction", system)
	}
	reply, err := Reply(cat, &r)
	if want := `{"zeta":"Zürich","alpha":{"y":2,"b":5.0},"extra":true}`; err != nil || reply != want {
		t.Errorf("reply %q, %v; want %q", reply, err, want)
	}

	r.Cell, r.Meta = "no.such_schema", ""
	if _, _, err := Prompt(cat, &r); err == nil || !strings.Contains(err.Error(), "record j1") || !errors.Is(err, errNoSchema) {
		t.Errorf("error %v, want an unknown-schema error naming the record", err)
	}
}

// TestPromptOwnFunctions checks that a record carrying its own function docs
// (BFCL's "function" list, in BFCL's dialect) is offered exactly those, and that
// call arguments in the reply follow the parameters' order.
func TestPromptOwnFunctions(t *testing.T) {
	cat := testutil.Catalog(t)
	docs := `[{"name":"calc.area","description":"Area of a triangle.","parameters":{"type":"dict","properties":` +
		`{"base":{"type":"integer"},"height":{"type":"float"},"unit":{"type":"string","enum":["cm","m"]}},"required":["base","height"]}},` +
		`{"name":"math.hypot","description":"Hypotenuse.","parameters":{"type":"dict","properties":{"xs":{"type":"tuple","items":{"type":"float"}}}}}]`
	r := datasets.Record{ID: "bfcl-simple_1", Task: "edgefunccall", Cell: "simple", Input: "area of base 10 height 5",
		Target: `{"scenario":"single_turn","turns":[{"action":"call","calls":[{"name":"calc.area","arguments":{"height":5.0,"base":10}}]}]}`,
		Meta:   `{"functions":` + docs + `,"system":["You are a math helper."]}`}
	system, user, err := Prompt(cat, &r)
	if err != nil {
		t.Fatal(err)
	}
	want := "Functions:\n- calc.area(base: integer, height: float, unit?: cm|m): Area of a triangle.\n" +
		"- math.hypot(xs?: [float]): Hypotenuse.\nUser: area of base 10 height 5"
	if user != want || !strings.HasPrefix(system, "You are a math helper.\n") {
		t.Errorf("prompt\n%s\nsystem %q; want\n%s", user, system, want)
	}
	reply, err := Reply(cat, &r)
	if want := `{"turns":[{"action":"call","calls":[{"name":"calc.area","arguments":{"base":10,"height":5.0}}]}]}`; err != nil || reply != want {
		t.Errorf("reply %s, %v; want %s", reply, err, want)
	}
}

// TestPromptFuncCall checks that the candidate list holds the gold function and exactly
// maxDistractors others of its domain (none of other domains), the same for the same
// record, with required and optional parameters told apart, and multi-turn inputs.
func TestPromptFuncCall(t *testing.T) {
	cat := testutil.Catalog(t)
	gold := cat.Functions[0]
	target, _ := json.Marshal(generator.FuncCallTarget{Scenario: schemas.MultiTurn,
		Turns: []generator.GoldTurn{{Action: generator.ActionCall, Calls: []generator.Call{{Name: gold.Name, Arguments: map[string]any{}}}}}})
	r := datasets.Record{ID: "f1", Task: "edgefunccall", Function: gold.Name, Input: `["first thing", "then this"]`, Target: string(target)}
	_, user, err := Prompt(cat, &r)
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	for _, f := range cat.Functions {
		in := strings.Contains(user, "- "+f.Name+"(")
		switch {
		case f.Name == gold.Name && !in:
			t.Errorf("the gold function %s is not listed", f.Name)
		case in && f.Domain != gold.Domain:
			t.Errorf("function %s of domain %s listed for gold domain %s", f.Name, f.Domain, gold.Domain)
		case in:
			listed++
		}
	}
	if listed != 1+maxDistractors {
		t.Errorf("%d functions listed, want the gold one and %d distractors", listed, maxDistractors)
	}
	if _, again, _ := Prompt(cat, &r); again != user {
		t.Error("the same record gave a different prompt")
	}
	if !strings.Contains(user, "[turn 1] first thing\n[turn 2] then this") {
		t.Errorf("multi-turn input not rendered per turn: %q", user)
	}
	if !strings.Contains(user, "?: ") {
		t.Errorf("no optional parameter marked in %q", user)
	}
	// Irrelevant requests get one distractor domain, the same one every time.
	irr := datasets.Record{ID: "f2", Task: "edgefunccall", Input: "tell me a joke",
		Target: `{"scenario":"irrelevant","turns":[{"action":"none"}]}`}
	_, u2, err := Prompt(cat, &irr)
	_, u3, _ := Prompt(cat, &irr)
	if err != nil || u2 != u3 || !strings.Contains(u2, "Functions:\n- ") {
		t.Errorf("irrelevant prompt %q (err %v) not deterministic or has no functions", u2, err)
	}
}

// TestLoaderOrder checks the seeded shuffle: every epoch is a permutation, epochs
// differ, and seeking to a saved cursor reproduces the following batches.
func TestLoaderOrder(t *testing.T) {
	d := buildTestData(t, model.ArchEncoder, intentRecords(10, "train"), 64)
	first := func(b model.Batch) int32 { return b.Tokens[0]<<16 | b.Tokens[12]<<8 | b.Tokens[20] }
	l := NewLoader(d, 5, 64, 42)
	var seen [][]int32
	for i := 0; i < 4; i++ {
		b := l.Next()
		var rows []int32
		for r := 0; r < 5; r++ {
			rows = append(rows, first(model.Batch{Tokens: b.Tokens[r*b.T:]}))
		}
		seen = append(seen, rows)
	}
	if l.Cursor() != (Cursor{Epoch: 1, Pos: 10}) {
		t.Errorf("cursor %+v after 4 batches of 5 from 10, want epoch 1 pos 10", l.Cursor())
	}
	e0, e1 := append(seen[0], seen[1]...), append(seen[2], seen[3]...)
	if slices.Equal(e0, e1) {
		t.Error("epochs 0 and 1 have the same order")
	}
	slices.Sort(e0)
	slices.Sort(e1)
	if !slices.Equal(e0, e1) {
		t.Error("epoch 1 is not a permutation of epoch 0")
	}
	if !slices.Equal(epochPerm(10, 42, 3), epochPerm(10, 42, 3)) || slices.Equal(epochPerm(10, 42, 3), epochPerm(10, 43, 3)) {
		t.Error("permutation not a function of (seed, epoch)")
	}
	a := NewLoader(d, 3, 64, 7)
	a.Next()
	cur := a.Cursor()
	want := a.Next()
	bl := NewLoader(d, 3, 64, 7)
	bl.Seek(cur)
	if !slices.Equal(bl.Next().Tokens, want.Tokens) {
		t.Error("seeking to a saved cursor does not reproduce the batch")
	}
	ev := EvalBatches(d, 4, 64, 10)
	if len(ev) != 3 || ev[2].B != 4 {
		t.Errorf("%d eval batches (last B=%d), want 3 full batches of 4 for 10 examples", len(ev), ev[2].B)
	}
}

// TestSplitHoldout checks that the held-out slice has about the asked size and does not
// depend on record order.
func TestSplitHoldout(t *testing.T) {
	recs := intentRecords(1000, "train")
	tr, held := SplitHoldout(recs, 0.1)
	if len(tr)+len(held) != 1000 || len(held) < 70 || len(held) > 130 {
		t.Fatalf("%d train, %d held out of 1000 at 10%%", len(tr), len(held))
	}
	rev := slices.Clone(recs)
	slices.Reverse(rev)
	_, held2 := SplitHoldout(rev, 0.1)
	ids := func(rs []datasets.Record) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(ids(held), ids(held2)) {
		t.Error("held-out slice depends on record order")
	}
}

// TestGroupByLength checks that the loader's epoch order is still a permutation,
// that batches hold examples of similar length and are trimmed to what their
// longest needs, and that the order is the same for the same seed and epoch.
func TestGroupByLength(t *testing.T) {
	recs := intentRecords(200, "train")
	for i := range recs { // lengths 1..200 bytes, in a scrambled order
		recs[i].Input = strings.Repeat("x", 1+(i*73)%200)
	}
	d := buildTestData(t, model.ArchEncoder, recs, 256)
	l := NewLoader(d, 8, 256, 9)
	perm := slices.Clone(l.perm)
	sorted := slices.Sorted(slices.Values(perm))
	for i, v := range sorted {
		if v != i {
			t.Fatalf("epoch order is not a permutation of the examples")
		}
	}
	if again := NewLoader(d, 8, 256, 9); !slices.Equal(again.perm, perm) {
		t.Fatal("the same seed gave another order")
	}
	spread, padded := 0, 0
	for k := 0; k < 25; k++ {
		b := l.Next()
		lo, hi := 1<<30, 0
		for r := 0; r < b.B; r++ {
			n := 0
			for _, v := range b.Valid[r*b.T : (r+1)*b.T] {
				n += int(v)
			}
			lo, hi = min(lo, n), max(hi, n)
		}
		spread = max(spread, hi-lo)
		padded += b.B*b.T - countTokens(b)
		if b.T != batchLen(hi, 256) || b.T < hi {
			t.Fatalf("batch %d: T %d for a longest row of %d", k, b.T, hi)
		}
	}
	// 200 random lengths in one window of 32 batches: a batch spans about 8 of them.
	if spread > 16 {
		t.Errorf("a batch spans lengths %d apart, want similar lengths grouped", spread)
	}
	t.Logf("widest batch spread %d, %d padded positions over 25 batches", spread, padded)
}

// TestAlignCopies checks the span alignment of copy supervision.
func TestAlignCopies(t *testing.T) {
	// prompt: 0:a 1:x 2:y 3:z 4:a 5:x 6:q 7:, 8:, 9:, 10:, 11:, ; reply: a x q , w
	toks := []int32{'a', 'x', 'y', 'z', 'a', 'x', 'q', ',', ',', ',', ',', ',', 'a', 'x', 'q', ',', 'w'}
	off, src := alignCopies(toks, 12)
	got := func(k int) []int32 { return src[off[k]:off[k+1]] }
	for k, want := range [][]int32{{4}, {5}, {6}, {7, 8, 9, 10, 11}, nil} {
		// "a x q" occurs whole at 4-6 only; the comma run: every comma matches one
		// token (five candidates, too common alone), except none: w is nowhere.
		if k == 3 {
			want = nil
		}
		if !slices.Equal(got(k), want) {
			t.Errorf("reply token %d (%q): sources %v, want %v", k, rune(toks[12+k]), got(k), want)
		}
	}
	if len(off) != 6 {
		t.Errorf("%d offsets for 5 reply tokens", len(off))
	}
}

// TestPromptCompact checks PromptCompact: no task instruction and no catalog
// function descriptions, the same signatures, the record's own system
// messages and own function docs kept; and ParsePromptStyle.
func TestPromptCompact(t *testing.T) {
	cat := testutil.Catalog(t)
	gold := cat.Functions[0]
	target, _ := json.Marshal(generator.FuncCallTarget{Scenario: schemas.SingleTurn,
		Turns: []generator.GoldTurn{{Action: generator.ActionCall, Calls: []generator.Call{{Name: gold.Name, Arguments: map[string]any{}}}}}})
	r := datasets.Record{ID: "f1", Task: "edgefunccall", Function: gold.Name, Input: "do the thing", Target: string(target)}
	fullSys, full, err := PromptWith(cat, &r, PromptFull)
	if err != nil {
		t.Fatal(err)
	}
	sys, compact, err := PromptWith(cat, &r, PromptCompact)
	if err != nil {
		t.Fatal(err)
	}
	if sys != "" || fullSys != instructFuncCall {
		t.Errorf("compact system %q, full system %q", sys, fullSys)
	}
	if strings.Contains(compact, gold.Description) || !strings.Contains(full, gold.Description) {
		t.Errorf("compact prompt keeps the catalog description %q or full drops it:\n%s\n%s", gold.Description, compact, full)
	}
	// Every line of the compact list is the full line up to its description.
	fl, cl := strings.Split(full, "\n"), strings.Split(compact, "\n")
	if len(fl) != len(cl) || len(compact) >= len(full) {
		t.Fatalf("compact prompt\n%s\nfull\n%s", compact, full)
	}
	for i := range cl {
		if !strings.HasPrefix(fl[i], cl[i]) {
			t.Errorf("line %d: compact %q is not a prefix of %q", i, cl[i], fl[i])
		}
	}
	// A record's own docs and system messages are information: kept.
	own := datasets.Record{ID: "bfcl-1", Task: "edgefunccall", Cell: "simple", Input: "area of base 10",
		Target: `{"turns":[{"action":"call","calls":[{"name":"calc.area","arguments":{"base":10}}]}]}`,
		Meta:   `{"functions":[{"name":"calc.area","description":"Area of a triangle.","parameters":{"type":"dict","properties":{"base":{"type":"integer"}}}}],"system":["You are a math helper."]}`}
	sys, user, err := PromptWith(cat, &own, PromptCompact)
	if err != nil || sys != "You are a math helper." || !strings.Contains(user, "): Area of a triangle.") {
		t.Errorf("own docs: system %q user %q err %v", sys, user, err)
	}
	for in, want := range map[string]PromptStyle{"": PromptFull, "full": PromptFull, "compact": PromptCompact,
		"full+bounds": PromptFullBounds, "compact+bounds": PromptCompactBounds} {
		if got, err := ParsePromptStyle(in); err != nil || got != want {
			t.Errorf("ParsePromptStyle(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"terse", "+bounds", "terse+bounds", "compact+bounds+bounds"} {
		if _, err := ParsePromptStyle(bad); err == nil || !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Errorf("ParsePromptStyle(%q) err %v", bad, err)
		}
	}
}

// TestPromptBounds: with "+bounds" every function signature shows the value
// constraints of each parameter (numbers' ranges, strings' patterns), so that
// an "ask for a valid value" label can be decided from the prompt; without
// it (checkpoints from before) the signatures are as they were. EdgeJSON
// schemas are the same in every style.
func TestPromptBounds(t *testing.T) {
	cat := testutil.Catalog(t)
	var bounded int
	for _, f := range cat.Functions {
		target, _ := json.Marshal(generator.FuncCallTarget{Scenario: schemas.SingleTurn,
			Turns: []generator.GoldTurn{{Action: generator.ActionCall, Calls: []generator.Call{{Name: f.Name, Arguments: map[string]any{}}}}}})
		r := datasets.Record{ID: "b-" + f.Name, Task: "edgefunccall", Function: f.Name, Input: "x", Target: string(target)}
		line := func(style PromptStyle) string {
			_, user, err := PromptWith(cat, &r, style)
			if err != nil {
				t.Fatal(err)
			}
			for l := range strings.SplitSeq(user, "\n") {
				if strings.HasPrefix(l, "- "+f.Name+"(") {
					return l
				}
			}
			t.Fatalf("%s: no signature in\n%s", f.Name, user)
			return ""
		}
		plain, withBounds := line(PromptCompact), line(PromptCompactBounds)
		if full := line(PromptFullBounds); !strings.HasPrefix(full, withBounds) {
			t.Errorf("%s: full+bounds %q does not extend compact+bounds %q", f.Name, full, withBounds)
		}
		if strings.Contains(plain, "min ") || strings.Contains(plain, "max ") || strings.Contains(plain, "pattern ") {
			t.Errorf("%s: legacy signature shows constraints: %s", f.Name, plain)
		}
		var params struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(f.Parameters, &params); err != nil {
			t.Fatal(err)
		}
		for name, raw := range params.Properties {
			var p struct {
				Type    string       `json:"type"`
				Format  string       `json:"format"`
				Min     *json.Number `json:"minimum"`
				Max     *json.Number `json:"maximum"`
				Pattern string       `json:"pattern"`
			}
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			notes := []string{}
			if p.Format != "" {
				notes = append(notes, p.Format)
			}
			if p.Min != nil {
				notes = append(notes, "min "+p.Min.String())
			}
			if p.Max != nil {
				notes = append(notes, "max "+p.Max.String())
			}
			if p.Pattern != "" {
				notes = append(notes, "pattern "+p.Pattern)
			}
			if p.Min == nil && p.Max == nil && p.Pattern == "" {
				continue
			}
			bounded++
			sig := p.Type + "(" + strings.Join(notes, ", ") + ")"
			if !strings.Contains(withBounds, "("+name+": "+sig) && !strings.Contains(withBounds, " "+name+": "+sig) &&
				!strings.Contains(withBounds, " "+name+"?: "+sig) && !strings.Contains(withBounds, "("+name+"?: "+sig) {
				t.Errorf("%s: signature %q lacks %s: %s", f.Name, withBounds, name, sig)
			}
		}
	}
	if bounded < 50 {
		t.Errorf("only %d constrained parameters checked", bounded)
	}
	i := slices.IndexFunc(cat.Schemas, func(s *schemas.JSONSchema) bool { return bytes.Contains(s.Schema, []byte(`"minimum"`)) })
	if i < 0 {
		t.Fatal("no EdgeJSON schema with a minimum")
	}
	r := datasets.Record{ID: "j", Task: "edgejson", Cell: cat.Schemas[i].ID, Input: "text"}
	_, a, errA := PromptWith(cat, &r, PromptCompact)
	_, b, errB := PromptWith(cat, &r, PromptCompactBounds)
	if errA != nil || errB != nil || a != b {
		t.Errorf("EdgeJSON prompt changes with +bounds: %v %v\n%s\n%s", errA, errB, a, b)
	}
}

// TestLoaderTokenDropout: with token dropout an encoder batch hides about that
// share of its real tokens (never the first of a row, never padding), the
// same ones again after seeking to a saved cursor;
// the tokens and labels are untouched.
func TestLoaderTokenDropout(t *testing.T) {
	d := buildTestData(t, model.ArchEncoder, intentRecords(40, "train"), 64)
	plain, drop := NewLoader(d, 8, 64, 3), NewLoader(d, 8, 64, 3)
	drop.tokenDropout = 0.3
	real, hidden := 0, 0
	var first model.Batch
	var cur Cursor
	for i := range 10 {
		if i == 2 {
			cur = drop.Cursor()
		}
		a, b := plain.Next(), drop.Next()
		if i == 2 {
			first = b
		}
		if !slices.Equal(a.Tokens, b.Tokens) || !slices.Equal(a.Labels, b.Labels) {
			t.Fatal("token dropout changed the tokens or labels")
		}
		for j, v := range a.Valid {
			switch {
			case v == 0 && b.Valid[j] != 0:
				t.Fatalf("batch %d position %d: padding made valid", i, j)
			case v != 0 && j%a.T == 0 && b.Valid[j] == 0:
				t.Fatalf("batch %d: the first token of a row was hidden", i)
			case v != 0 && j%a.T != 0:
				real++
				if b.Valid[j] == 0 {
					hidden++
				}
			}
		}
	}
	if rate := float64(hidden) / float64(real); rate < 0.25 || rate > 0.35 {
		t.Errorf("hid %d of %d tokens (%.2f), want about 0.3", hidden, real, rate)
	}
	again := NewLoader(d, 8, 64, 3)
	again.tokenDropout = 0.3
	again.Seek(cur)
	if !slices.Equal(again.Next().Valid, first.Valid) {
		t.Error("seeking to a saved cursor hides other tokens")
	}
}
