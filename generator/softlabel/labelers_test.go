package softlabel_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/builtin"
	"github.com/cyclecore/mlmforge/generator/ollama"
	"github.com/cyclecore/mlmforge/generator/ollamatest"
	"github.com/cyclecore/mlmforge/generator/softlabel"
	"github.com/cyclecore/mlmforge/schemas"
)

func TestBuiltinSoftLabelsAreOneHot(t *testing.T) {
	tax := testTaxonomy(t, "assistant-50")
	b := builtin.New(nil)
	gold := tax.Classes[3].ID
	got, err := b.SoftLabels(context.Background(), softlabel.Request{Taxonomy: tax, Input: "whatever", Gold: gold})
	if err != nil {
		t.Fatal(err)
	}
	softlabel.AssertDistribution(t, got, map[string]float64{gold: 1})
	if _, err := b.SoftLabels(context.Background(), softlabel.Request{Taxonomy: tax, Gold: "no_such_class"}); err == nil {
		t.Error("unknown gold label accepted")
	}
}

func testTaxonomy(t testing.TB, id string) *schemas.Taxonomy {
	t.Helper()
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	tax, err := cat.Taxonomy(id)
	if err != nil {
		t.Fatal(err)
	}
	return tax
}

func utteranceOf(req api.ChatRequest) string {
	user := req.Messages[len(req.Messages)-1].Content
	for _, line := range strings.Split(user, "\n") {
		if rest, ok := strings.CutPrefix(line, "Utterance: "); ok {
			s, _ := strconv.Unquote(rest)
			return s
		}
	}
	return ""
}

func rankedAnswer(t testing.TB, tax *schemas.Taxonomy, first func(utterance string) int) func(api.ChatRequest) []api.Logprob {
	codes, err := softlabel.ClassCodes(len(tax.Classes))
	if err != nil {
		t.Fatal(err)
	}
	return func(req api.ChatRequest) []api.Logprob {
		f := first(utteranceOf(req))
		if f < 0 {
			return ollamatest.DistributionAnswer(map[string]float64{"Sorry": 0.9, "I": 0.1})
		}
		probs := map[string]float64{}
		var z float64
		for r := range codes {
			z += 1 / float64(r+1)
		}
		for r := range codes {
			probs[codes[(f+r)%len(codes)]] = 1 / float64(r+1) / z
		}
		return ollamatest.DistributionAnswer(probs)
	}
}

func TestOllamaSoftLabels(t *testing.T) {
	tax := testTaxonomy(t, "assistant-50")
	srv := ollamatest.New(t, ollamatest.WithLogprobs(rankedAnswer(t, tax, func(string) int { return 5 })))
	l, err := ollama.NewSoftLabeler(newTestTeacher(t, srv.URL), ollama.SoftLabelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.SoftLabels(context.Background(), softlabel.Request{Taxonomy: tax, Input: "wake me at 7", Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	// The server returns the 20 most probable codes: ranks 0..19 from class 5.
	want := map[string]float64{}
	var z float64
	for r := range 20 {
		z += 1 / float64(r+1)
	}
	for r := range 20 {
		want[tax.Classes[(5+r)%len(tax.Classes)].ID] = 1 / float64(r+1) / z
	}
	softlabel.AssertDistribution(t, got, want)

	req := srv.LastChat()
	if !req.Logprobs || req.TopLogprobs != 20 || req.Options["num_predict"] != 2.0 || req.Options["temperature"] != 0.0 ||
		req.Options["seed"] != 9.0 || req.Think == nil || req.Think.Bool() || len(req.Format) != 0 {
		t.Errorf("request = logprobs %v, top %d, options %v, think %v, format %s", req.Logprobs, req.TopLogprobs, req.Options, req.Think, req.Format)
	}
	user := req.Messages[1].Content
	codes, _ := softlabel.ClassCodes(50)
	if utteranceOf(req) != "wake me at 7" || !strings.Contains(user, "\nAA: "+tax.Classes[0].ID+" - ") ||
		!strings.Contains(user, "\n"+codes[49]+": "+tax.Classes[49].ID+" - ") {
		t.Errorf("prompt does not list the codes and the utterance:\n%s", user)
	}
}

func TestOllamaSoftLabelsRetriesAndRejects(t *testing.T) {
	tax := testTaxonomy(t, "assistant-50")
	answer := rankedAnswer(t, tax, func(u string) int {
		if u == "gibberish" {
			return -1
		}
		return 0
	})
	t.Run("transient faults are retried", func(t *testing.T) {
		srv := ollamatest.New(t, ollamatest.WithLogprobs(answer),
			ollamatest.WithFaults(ollamatest.Fault500, ollamatest.FaultDrop, ollamatest.FaultMalformedJSON, ollamatest.Fault429))
		l, _ := ollama.NewSoftLabeler(newTestTeacher(t, srv.URL), ollama.SoftLabelOptions{TopLogprobs: 3, MinCodeMass: -1})
		got, err := l.SoftLabels(context.Background(), softlabel.Request{Taxonomy: tax, Input: "hi"})
		if err != nil || srv.Requests() != 5 {
			t.Fatalf("SoftLabels = %v, %v after %d requests", got, err, srv.Requests())
		}
		softlabel.AssertDistribution(t, got, map[string]float64{tax.Classes[0].ID: 6.0 / 11, tax.Classes[1].ID: 3.0 / 11, tax.Classes[2].ID: 2.0 / 11})
	})
	t.Run("an answer without codes is an output error", func(t *testing.T) {
		srv := ollamatest.New(t, ollamatest.WithLogprobs(answer))
		l, _ := ollama.NewSoftLabeler(newTestTeacher(t, srv.URL), ollama.SoftLabelOptions{})
		_, err := l.SoftLabels(context.Background(), softlabel.Request{Taxonomy: tax, Input: "gibberish"})
		var oe *generator.OutputError
		if !errors.As(err, &oe) || oe.Reason != generator.RejectSoftLabels || oe.Raw != "Sorry" || srv.Requests() != 1 {
			t.Fatalf("error = %#v after %d requests", err, srv.Requests())
		}
	})
	t.Run("a missing model is permanent", func(t *testing.T) {
		srv := ollamatest.New(t, ollamatest.WithLogprobs(answer), ollamatest.WithFaults(ollamatest.FaultModelNotFound))
		l, _ := ollama.NewSoftLabeler(newTestTeacher(t, srv.URL), ollama.SoftLabelOptions{})
		_, err := l.SoftLabels(context.Background(), softlabel.Request{Taxonomy: tax, Input: "hi"})
		if !errors.Is(err, ollama.ErrModelNotFound) || srv.Requests() != 1 {
			t.Fatalf("error = %v after %d requests", err, srv.Requests())
		}
	})
	t.Run("options are checked", func(t *testing.T) {
		teacher := newTestTeacher(t, "127.0.0.1:1")
		for _, o := range []ollama.SoftLabelOptions{{TopLogprobs: 21}, {TopLogprobs: -1}, {NumPredict: 4}, {NumPredict: -2}} {
			if _, err := ollama.NewSoftLabeler(teacher, o); err == nil {
				t.Errorf("options %+v accepted", o)
			}
		}
	})
}

// newTestTeacher returns an Ollama teacher for the fake server at host, with
// timeouts short enough for failure tests.
func newTestTeacher(t *testing.T, host string) *ollama.Teacher {
	t.Helper()
	teacher, err := ollama.New(ollama.Config{
		Host:           host,
		Model:          ollamatest.DefaultModel,
		RequestTimeout: 10 * time.Second,
		StallTimeout:   200 * time.Millisecond,
		BackoffBase:    time.Millisecond,
		BackoffMax:     5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return teacher
}
