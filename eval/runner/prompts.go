package runner

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/ollama/ollama/api"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/schemas"
)

// The seed paper's generation limits per task (tokens).
const (
	maxTokensJSON     = 512
	maxTokensIntent   = 10
	maxTokensFuncCall = 256
)

const (
	systemJSON = "You extract structured data. Read the text and answer with one JSON object that matches the " +
		"JSON schema. Use only information stated in the text; leave out optional fields the text does not " +
		"mention. Answer with JSON only."
	systemIntent = "Classify the user's request into exactly one of the intents below. Answer with the intent id " +
		"only, nothing else."
	systemFuncCall = "You are a function-calling assistant. For each user turn decide: call functions " +
		`({"action":"call","calls":[{"name":"...","arguments":{...}}]}), ask for missing or invalid parameters ` +
		`({"action":"ask","missing":["param"],"invalid":["param"]}), or make no call when no function fits ` +
		`({"action":"none"}). Answer with JSON only: {"turns":[one object per user turn]}.`
)

// chat is one rendered evaluation request.
type chat struct {
	messages  []api.Message
	format    json.RawMessage
	maxTokens int
	logprobs  bool
}

// renderChat builds the baseline prompt of r for its task.
func renderChat(cat *schemas.Catalog, r *datasets.Record, task schemas.Task, opts Options) (chat, error) {
	switch task {
	case schemas.EdgeJSON:
		schema, err := eval.RecordSchema(cat, r)
		if err != nil {
			return chat{}, err
		}
		return chat{
			messages: []api.Message{{Role: "system", Content: systemJSON},
				{Role: "user", Content: fmt.Sprintf("JSON schema:\n%s\n\nText:\n%s", schema, r.Input)}},
			format: schema, maxTokens: maxTokensJSON,
		}, nil
	case schemas.EdgeIntent:
		classes, err := intentClasses(cat, r, opts.Train)
		if err != nil {
			return chat{}, err
		}
		msgs := []api.Message{{Role: "system", Content: systemIntent + "\n\nIntents:\n" + strings.Join(classes, "\n")}}
		for _, ex := range fewShot(r.ID, opts.Train, opts.Shots) {
			label := ex.Intent
			if label == "" {
				label = targetIntent(ex.Target)
			}
			msgs = append(msgs, api.Message{Role: "user", Content: ex.Input}, api.Message{Role: "assistant", Content: label})
		}
		msgs = append(msgs, api.Message{Role: "user", Content: r.Input})
		return chat{messages: msgs, maxTokens: maxTokensIntent, logprobs: true}, nil
	default:
		_, user, err := train.Prompt(cat, r)
		if err != nil {
			return chat{}, err
		}
		return chat{messages: []api.Message{{Role: "system", Content: systemFuncCall}, {Role: "user", Content: user}},
			format: json.RawMessage(`"json"`), maxTokens: maxTokensFuncCall}, nil
	}
}

// intentClasses lists "id: description" for the record's taxonomy, or the
// labels of the train split for imported variants the catalog does not know.
func intentClasses(cat *schemas.Catalog, r *datasets.Record, trainSplit []datasets.Record) ([]string, error) {
	if tax, err := cat.Taxonomy(r.Variant); err == nil {
		out := make([]string, len(tax.Classes))
		for i, c := range tax.Classes {
			out[i] = c.ID + ": " + c.Description
		}
		return out, nil
	}
	seen := map[string]bool{}
	for _, t := range trainSplit {
		l := t.Intent
		if l == "" {
			l = targetIntent(t.Target)
		}
		if l != "" {
			seen[l] = true
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("record %s: taxonomy %q is not in the catalog and no train split gives the labels", r.ID, r.Variant)
	}
	out := make([]string, 0, len(seen))
	for l := range seen {
		out = append(out, l)
	}
	sort.Strings(out)
	return out, nil
}

func targetIntent(target string) string {
	var t struct {
		Intent string `json:"intent"`
	}
	_ = json.Unmarshal([]byte(target), &t)
	return t.Intent
}

// fewShot picks k train examples for the record deterministically: the train
// records ordered by a hash of (record id, example id), first k, so every
// model sees the same examples for the same record, and different records see
// different ones.
func fewShot(id string, trainSplit []datasets.Record, k int) []datasets.Record {
	if k <= 0 || len(trainSplit) == 0 {
		return nil
	}
	type keyed struct {
		h uint64
		r datasets.Record
	}
	ks := make([]keyed, len(trainSplit))
	for i, t := range trainSplit {
		h := fnv.New64a()
		h.Write([]byte(id))
		h.Write([]byte{0})
		h.Write([]byte(t.ID))
		ks[i] = keyed{h.Sum64(), t}
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].h < ks[j].h })
	out := make([]datasets.Record, 0, k)
	for _, x := range ks[:min(k, len(ks))] {
		out = append(out, x.r)
	}
	return out
}
