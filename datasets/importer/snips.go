package importer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// SNIPSVariant is the Variant of SNIPS records.
const SNIPSVariant = "snips"

// snipsFileRE matches the benchmark's file names: validate_<Intent>.json (the
// 100 held-out utterances per intent), train_<Intent>.json and its superset
// train_<Intent>_full.json.
var snipsFileRE = regexp.MustCompile(`^(validate|train)_([A-Za-z]+?)(_full)?\.json$`)

// SNIPSOptions are the SNIPS import options.
type SNIPSOptions struct {
	// Task is schemas.EdgeJSON (slots as JSON extraction, the default) or
	// schemas.EdgeIntent (the 7 intents).
	Task schemas.Task `json:"task"`
}

// SNIPSSpan is one slot span of a SNIPS utterance.
type SNIPSSpan struct {
	// Slot is the slot (entity) name, e.g. "city".
	Slot string `json:"slot"`
	// Text is the span's text as the utterance has it.
	Text string `json:"text"`
	// Start and End are character (not byte) offsets into the record's input.
	Start int `json:"start"`
	End   int `json:"end"`
}

// SNIPSMeta is the meta column of a SNIPS record.
type SNIPSMeta struct {
	// Intent is the SNIPS intent name, e.g. "GetWeather".
	Intent string `json:"snips_intent"`
	// SchemaID is the EdgeJSON schema id, e.g. "snips.get_weather" (also the
	// EdgeJSON record's cell).
	SchemaID string `json:"schema_id"`
	// Schema is the intent's JSON Schema (EdgeJSON records only); see RecordSchema.
	Schema json.RawMessage `json:"schema,omitempty"`
	// Slots is the slot object (EdgeIntent records only; EdgeJSON has it as target).
	Slots map[string]any `json:"slots,omitempty"`
	// Spans are the slot spans in utterance order.
	Spans []SNIPSSpan `json:"spans"`
}

// snipsUtterance is one parsed utterance.
type snipsUtterance struct {
	intent, split string
	index, file   int
	text          string
	spans         []SNIPSSpan
}

// ImportSNIPS reads the SNIPS 2017 benchmark directory (validate_<Intent>.json,
// and train_<Intent>[_full].json when present) into EdgeJSON or EdgeIntent
// records. Validate files become split "test", train files split "train".
//
// EdgeJSON: the input is the utterance and the target a flat object of slot
// name -> value, an array of values when a slot occurs more than once. Each
// intent gets a JSON Schema (SNIPSSchema) built from every slot name seen with
// it; it is stored in each record's Meta "schema" field, since these schemas are
// not in the catalog, and every target is validated against it. The cell is the
// schema id "snips.<intent_snake_case>".
//
// EdgeIntent: the target is {"intent": "<intent_snake_case>"} (our class id
// style; Meta keeps the SNIPS name and the slots).
//
// Ids are "snips-<intent_snake_case>-<split>-<index>", the same for both tasks,
// so the two versions of one utterance can be joined.
func ImportSNIPS(dir string, opts SNIPSOptions) (*Dataset, error) {
	if opts.Task == "" {
		opts.Task = schemas.EdgeJSON
	}
	if opts.Task != schemas.EdgeJSON && opts.Task != schemas.EdgeIntent {
		return nil, fmt.Errorf("import snips: task %q: want edgejson or edgeintent", opts.Task)
	}
	b, err := newBuilder(opts.Task, "snips", opts)
	if err != nil {
		return nil, err
	}
	utts, err := b.readSNIPS(dir)
	if err != nil {
		return nil, err
	}
	slots := map[string][]string{}
	for _, u := range utts {
		for _, s := range u.spans {
			if !slices.Contains(slots[u.intent], s.Slot) {
				slots[u.intent] = append(slots[u.intent], s.Slot)
			}
		}
	}
	schemasByIntent := map[string]*snipsSchema{}
	for intent, names := range slots {
		if schemasByIntent[intent], err = newSNIPSSchema(intent, names); err != nil {
			return nil, fmt.Errorf("import snips: %w", err)
		}
	}
	for _, u := range utts {
		if err := b.addSNIPS(u, schemasByIntent[u.intent]); err != nil {
			return nil, fmt.Errorf("import snips: %w", err)
		}
	}
	return b.finish()
}

// readSNIPS reads every benchmark file of dir, in name order.
func (b *builder) readSNIPS(dir string) ([]snipsUtterance, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("import snips: %w", err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
	}
	var utts []snipsUtterance
	for _, e := range entries {
		m := snipsFileRE.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		if m[1] == "train" && m[3] == "" && names["train_"+m[2]+"_full.json"] {
			continue // a subset of the _full file
		}
		split := map[string]string{"validate": "test", "train": "train"}[m[1]]
		u, err := b.readSNIPSFile(filepath.Join(dir, e.Name()), m[2], split)
		if err != nil {
			return nil, err
		}
		utts = append(utts, u...)
	}
	if len(utts) == 0 {
		return nil, fmt.Errorf("import snips: %s: no validate_<Intent>.json or train_<Intent>.json files", dir)
	}
	return utts, nil
}

// readSNIPSFile parses {"<Intent>": [{"data": [{"text": ..., "entity": ...}]}]}.
func (b *builder) readSNIPSFile(path, intent, split string) ([]snipsUtterance, error) {
	data, file, err := b.readFile(path, filepath.Base(path))
	if err != nil {
		return nil, err
	}
	var doc map[string][]struct {
		Data []struct {
			Text   *string `json:"text"`
			Entity string  `json:"entity"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("import snips: %s: %w", path, err)
	}
	if len(doc) != 1 || doc[intent] == nil {
		return nil, fmt.Errorf("import snips: %s: want one key %q (the file's intent)", path, intent)
	}
	var out []snipsUtterance
	for i, ex := range doc[intent] {
		u := snipsUtterance{intent: intent, split: split, index: i, file: file}
		var sb strings.Builder
		pos := 0 // in characters
		for j, piece := range ex.Data {
			if piece.Text == nil {
				return nil, fmt.Errorf("import snips: %s: $.%s[%d].data[%d]: no \"text\"", path, intent, i, j)
			}
			t := *piece.Text
			if piece.Entity != "" {
				// Spans name the value without the padding some annotators left.
				lead := utf8.RuneCountInString(t) - utf8.RuneCountInString(strings.TrimLeftFunc(t, unicode.IsSpace))
				v := strings.TrimSpace(t)
				if v == "" {
					return nil, fmt.Errorf("import snips: %s: $.%s[%d].data[%d]: empty %q span", path, intent, i, j, piece.Entity)
				}
				start := pos + lead
				u.spans = append(u.spans, SNIPSSpan{Slot: piece.Entity, Text: v, Start: start, End: start + utf8.RuneCountInString(v)})
			}
			sb.WriteString(t)
			pos += utf8.RuneCountInString(t)
		}
		u.text = strings.TrimSpace(sb.String())
		if u.text == "" {
			return nil, fmt.Errorf("import snips: %s: $.%s[%d]: empty utterance", path, intent, i)
		}
		// Trimming the utterance moves every span left by the leading space removed.
		shift := utf8.RuneCountInString(sb.String()) - utf8.RuneCountInString(strings.TrimLeftFunc(sb.String(), unicode.IsSpace))
		for k := range u.spans {
			u.spans[k].Start -= shift
			u.spans[k].End -= shift
		}
		out = append(out, u)
	}
	return out, nil
}

// snipsSlots is the slot object of an utterance: one value as a string, repeated
// slots as an array in utterance order.
func snipsSlots(spans []SNIPSSpan) map[string]any {
	vals := map[string][]string{}
	for _, s := range spans {
		vals[s.Slot] = append(vals[s.Slot], s.Text)
	}
	out := make(map[string]any, len(vals))
	for k, v := range vals {
		if len(v) == 1 {
			out[k] = v[0]
		} else {
			out[k] = v
		}
	}
	return out
}

// addSNIPS adds one utterance as a record of the builder's task.
func (b *builder) addSNIPS(u snipsUtterance, sch *snipsSchema) error {
	class := snakeCase(u.intent)
	id := fmt.Sprintf("snips-%s-%s-%03d", class, u.split, u.index)
	loc := fmt.Sprintf("$.%s[%d]", u.intent, u.index)
	slots := snipsSlots(u.spans)
	meta := SNIPSMeta{Intent: u.intent, SchemaID: snipsSchemaID(u.intent), Spans: u.spans}
	if meta.Spans == nil {
		meta.Spans = []SNIPSSpan{}
	}
	r := datasets.Record{ID: id, Split: u.split, Input: u.text, Variant: SNIPSVariant}
	var target any
	var checks []string
	if b.d.Task == schemas.EdgeJSON {
		if sch == nil { // an intent none of whose utterances has a slot
			var err error
			if sch, err = newSNIPSSchema(u.intent, nil); err != nil {
				return err
			}
		}
		if err := sch.validate(slots); err != nil {
			return fmt.Errorf("%s: %s: target does not match its schema: %w", b.d.Files[u.file].Name, loc, err)
		}
		target, meta.Schema, checks = slots, sch.raw, []string{"json", "schema", "grounding"}
		r.Cell = meta.SchemaID
	} else {
		target, meta.Slots, checks = generator.IntentTarget{Intent: class}, slots, []string{"json", "label"}
		r.Cell, r.Intent = class, class
	}
	var err error
	if r.Target, err = mustJSON(target); err != nil {
		return fmt.Errorf("%s: %s: %w", b.d.Files[u.file].Name, loc, err)
	}
	if r.Meta, err = mustJSON(meta); err != nil {
		return fmt.Errorf("%s: %s: %w", b.d.Files[u.file].Name, loc, err)
	}
	r.Validation = validation(checks...)
	return b.add(r, u.file, 0, loc)
}

// snakeCase turns "SearchScreeningEvent" into "search_screening_event".
func snakeCase(s string) string {
	rs := []rune(s)
	var sb strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 &&
			(unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
			sb.WriteByte('_')
		}
		sb.WriteRune(unicode.ToLower(r))
	}
	return sb.String()
}
