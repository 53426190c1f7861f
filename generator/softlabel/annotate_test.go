package softlabel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/builtin"
	"github.com/cyclecore/mlmforge/generator/ollama"
	"github.com/cyclecore/mlmforge/generator/ollamatest"
	"github.com/cyclecore/mlmforge/generator/softlabel"
	"github.com/cyclecore/mlmforge/schemas"
)

// intentRecords makes n EdgeIntent records; record i has class i%len(classes)
// and the utterance "utterance i".
func intentRecords(tax *schemas.Taxonomy, n int) []datasets.Record {
	recs := make([]datasets.Record, n)
	for i := range recs {
		c := tax.Classes[i%len(tax.Classes)].ID
		recs[i] = datasets.Record{ID: fmt.Sprintf("r%03d", i), Task: string(schemas.EdgeIntent), Split: "train",
			Input: fmt.Sprintf("utterance %d", i), Target: `{"intent":"` + c + `"}`, Variant: tax.ID}
		if i%2 == 0 {
			recs[i].Intent = c // the label is read from Intent, else from the target
		}
	}
	return recs
}

// recordIndex parses "utterance i".
func recordIndex(u string) int {
	var i int
	if _, err := fmt.Sscanf(u, "utterance %d", &i); err != nil {
		return -1
	}
	return i
}

func TestAnnotateSoftLabelsWithOllama(t *testing.T) {
	tax := testTaxonomy(t, "assistant-50")
	// Every 7th utterance gets an answer without codes; every 3rd has the
	// teacher's top class one past the gold one.
	answer := rankedAnswer(t, tax, func(u string) int {
		i := recordIndex(u)
		switch {
		case i%7 == 0:
			return -1
		case i%3 == 0:
			return (i + 1) % len(tax.Classes)
		}
		return i % len(tax.Classes)
	})
	srv := ollamatest.New(t, ollamatest.WithLogprobs(answer))
	l, err := ollama.NewSoftLabeler(newTestTeacher(t, srv.URL), ollama.SoftLabelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	recs := intentRecords(tax, 70)
	var progress []int
	rep, err := softlabel.Annotate(context.Background(), l, tax, recs, softlabel.AnnotateOptions{Concurrency: 8,
		Progress: func(n int) { progress = append(progress, n) }})
	if err != nil {
		t.Fatal(err)
	}
	wantRejected, wantAgree := 0, 0
	for i := range 70 {
		switch {
		case i%7 == 0:
			wantRejected++
		case i%3 != 0:
			wantAgree++
		}
	}
	if rep.Labeled != 70-wantRejected || rep.Rejected[generator.RejectSoftLabels] != wantRejected || rep.Agree != wantAgree ||
		len(rep.Samples) != wantRejected || len(progress) != 70 || progress[69] != 70 {
		t.Fatalf("report %+v (progress %d calls), want %d labeled, %d rejected, %d agreeing",
			rep, len(progress), 70-wantRejected, wantRejected, wantAgree)
	}
	for i, r := range recs {
		if i%7 == 0 {
			if r.SoftLabels != "" {
				t.Errorf("record %s: rejected answer left soft labels %s", r.ID, r.SoftLabels)
			}
			continue
		}
		var probs map[string]float64
		if err := json.Unmarshal([]byte(r.SoftLabels), &probs); err != nil || len(probs) != 20 {
			t.Fatalf("record %s: soft labels %q (%v): want 20 classes", r.ID, r.SoftLabels, err)
		}
		if top := softlabel.Argmax(probs); top != tax.Classes[answerClass(i, len(tax.Classes))].ID {
			t.Errorf("record %s: top class %s", r.ID, top)
		}
	}

	// A rerun asks only for the records without soft labels, unless told to overwrite.
	before := srv.Requests()
	rep, err = softlabel.Annotate(context.Background(), l, tax, recs, softlabel.AnnotateOptions{})
	if err != nil || rep.Kept != 70-wantRejected || rep.Rejected[generator.RejectSoftLabels] != wantRejected ||
		srv.Requests()-before != wantRejected {
		t.Fatalf("rerun: report %+v, %v, %d requests", rep, err, srv.Requests()-before)
	}
	before = srv.Requests()
	if rep, err = softlabel.Annotate(context.Background(), l, tax, recs, softlabel.AnnotateOptions{Overwrite: true}); err != nil ||
		rep.Kept != 0 || srv.Requests()-before != 70 {
		t.Fatalf("overwrite: report %+v, %v, %d requests", rep, err, srv.Requests()-before)
	}
}

func answerClass(i, n int) int {
	if i%3 == 0 {
		return (i + 1) % n
	}
	return i % n
}

func TestAnnotateSoftLabelsStopsOnFailure(t *testing.T) {
	tax := testTaxonomy(t, "assistant-50")
	answer := rankedAnswer(t, tax, func(string) int { return 0 })
	t.Run("missing model", func(t *testing.T) {
		faults := make([]ollamatest.Fault, 100)
		for i := range faults {
			faults[i] = ollamatest.FaultModelNotFound
		}
		srv := ollamatest.New(t, ollamatest.WithLogprobs(answer), ollamatest.WithFaults(faults...))
		l, _ := ollama.NewSoftLabeler(newTestTeacher(t, srv.URL), ollama.SoftLabelOptions{})
		recs := intentRecords(tax, 100)
		rep, err := softlabel.Annotate(context.Background(), l, tax, recs, softlabel.AnnotateOptions{Concurrency: 3})
		if !errors.Is(err, ollama.ErrModelNotFound) || !strings.Contains(err.Error(), "record r0") || rep.Labeled != 0 {
			t.Fatalf("error %v, report %+v", err, rep)
		}
		if n := srv.Requests(); n > 10 {
			t.Errorf("%d requests after a permanent failure, want the run to stop", n)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		srv := ollamatest.New(t, ollamatest.WithLogprobs(answer))
		l, _ := ollama.NewSoftLabeler(newTestTeacher(t, srv.URL), ollama.SoftLabelOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := softlabel.Annotate(ctx, l, tax, intentRecords(tax, 10), softlabel.AnnotateOptions{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	})
	t.Run("bad records", func(t *testing.T) {
		b := builtin.New(nil)
		for name, edit := range map[string]func(*datasets.Record){
			"other task": func(r *datasets.Record) { r.Task = string(schemas.EdgeJSON) },
			"no label":   func(r *datasets.Record) { r.Intent, r.Target = "", `{}` },
		} {
			recs := intentRecords(tax, 3)
			edit(&recs[1])
			if _, err := softlabel.Annotate(context.Background(), b, tax, recs, softlabel.AnnotateOptions{}); err == nil ||
				!strings.Contains(err.Error(), "record r001") {
				t.Errorf("%s: error %v, want one naming record r001", name, err)
			}
		}
	})
}

// badLabeler answers a fixed, possibly invalid, distribution.
type badLabeler map[string]float64

func (b badLabeler) SoftLabels(context.Context, softlabel.Request) (map[string]float64, error) {
	return b, nil
}

func TestAnnotateSoftLabelsValidatesDistributions(t *testing.T) {
	tax := testTaxonomy(t, "assistant-50")
	a, b := tax.Classes[0].ID, tax.Classes[1].ID
	for name, probs := range map[string]badLabeler{
		"unknown class": {a: 0.5, "not_a_class": 0.5},
		"negative":      {a: 1.5, b: -0.5},
		"all zero":      {a: 0, b: 0},
		"empty":         {},
	} {
		recs := intentRecords(tax, 2)
		rep, err := softlabel.Annotate(context.Background(), probs, tax, recs, softlabel.AnnotateOptions{})
		if err != nil || rep.Rejected[generator.RejectSoftLabels] != 2 || recs[0].SoftLabels != "" {
			t.Errorf("%s: report %+v, %v, soft labels %q", name, rep, err, recs[0].SoftLabels)
		}
	}
	recs := intentRecords(tax, 2)
	rep, err := softlabel.Annotate(context.Background(), badLabeler{a: 3, b: 1}, tax, recs, softlabel.AnnotateOptions{})
	if err != nil || rep.Labeled != 2 || rep.Agree != 1 || recs[0].SoftLabels != `{"`+a+`":0.75,"`+b+`":0.25}` {
		t.Errorf("unnormalized: report %+v, %v, soft labels %q", rep, err, recs[0].SoftLabels)
	}
}
