package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/schemas"
)

// Ollama evaluates a model served by Ollama with the seed paper's settings:
// temperature 0, a fixed seed, 512 / 10 / 256 output tokens for JSON / intent /
// function calls, structured outputs (the record's JSON schema as the format)
// for EdgeJSON and JSON mode for function calls.
type Ollama struct {
	// Model is the Ollama tag, e.g. qwen2.5:0.5b.
	Model string
	// Timeout bounds one request (default 2 minutes).
	Timeout time.Duration

	client *api.Client
	cat    *schemas.Catalog
}

var _ Runner = (*Ollama)(nil)

// NewOllama returns a runner for model on the Ollama server at host
// (e.g. "http://127.0.0.1:11434"; a host without scheme gets http://).
func NewOllama(host, model string, cat *schemas.Catalog) (*Ollama, error) {
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("ollama host %q: %w", host, err)
	}
	return &Ollama{Model: model, Timeout: 2 * time.Minute, client: api.NewClient(u, http.DefaultClient), cat: cat}, nil
}

// Info asks /api/show for the model's size and quantization and /api/tags for its digest.
func (o *Ollama) Info(ctx context.Context) (ModelInfo, error) {
	mi := ModelInfo{Ref: "ollama:" + o.Model, Kind: "ollama", Details: map[string]string{"structured_outputs": "edgejson schema, edgefunccall json mode"}}
	list, err := o.client.List(ctx)
	if err != nil {
		return mi, fmt.Errorf("ollama list: %w", err)
	}
	found := false
	for _, m := range list.Models {
		if m.Name == o.Model || m.Model == o.Model {
			mi.Digest, mi.SizeBytes, found = m.Digest, m.Size, true
			mi.Quantization = m.Details.QuantizationLevel
			mi.Details["family"] = m.Details.Family
			mi.Details["parameter_size"] = m.Details.ParameterSize
			mi.Params = parseParamSize(m.Details.ParameterSize)
		}
	}
	if !found {
		return mi, fmt.Errorf("ollama model %q is not pulled (ollama pull %s)", o.Model, o.Model)
	}
	return mi, nil
}

// parseParamSize reads Ollama's "494.03M" / "7.6B" notation.
func parseParamSize(s string) int64 {
	s = strings.TrimSpace(strings.ToUpper(s))
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "B"):
		mult, s = 1e9, strings.TrimSuffix(s, "B")
	case strings.HasSuffix(s, "M"):
		mult, s = 1e6, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "K"):
		mult, s = 1e3, strings.TrimSuffix(s, "K")
	}
	var v float64
	if _, err := fmt.Sscanf(s, "%g", &v); err != nil {
		return 0
	}
	return int64(v * mult)
}

// Predict answers the records one at a time (Ollama serves one request per
// model at a time by default; concurrency would only queue on the server).
func (o *Ollama) Predict(ctx context.Context, recs []datasets.Record, opts Options) ([]eval.Prediction, error) {
	task, err := taskOf(recs)
	if err != nil {
		return nil, err
	}
	return predictEach(ctx, recs, opts, func(r *datasets.Record) (eval.Prediction, error) {
		return o.predictOne(ctx, r, task, opts)
	})
}

// predictEach answers recs one by one with one, in order, reporting progress
// after each; it stops at the first error or when ctx ends, returning the
// predictions made so far.
func predictEach(ctx context.Context, recs []datasets.Record, opts Options, one func(*datasets.Record) (eval.Prediction, error)) ([]eval.Prediction, error) {
	out := make([]eval.Prediction, 0, len(recs))
	for i := range recs {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		p, err := one(&recs[i])
		if err != nil {
			return out, err
		}
		out = append(out, p)
		if opts.Progress != nil {
			opts.Progress(i + 1)
		}
	}
	return out, nil
}

func (o *Ollama) predictOne(ctx context.Context, r *datasets.Record, task schemas.Task, opts Options) (eval.Prediction, error) {
	p := eval.Prediction{ID: r.ID}
	c, err := renderChat(o.cat, r, task, opts)
	if err != nil {
		// Not the model's failure: scoring it as a wrong answer would report 0.
		return p, fmt.Errorf("ollama %s: record %s: no prompt: %w", o.Model, r.ID, err)
	}
	stream := false
	req := &api.ChatRequest{Model: o.Model, Messages: c.messages, Stream: &stream, Format: c.format,
		Options: map[string]any{"temperature": 0, "seed": 0, "num_predict": c.maxTokens}}
	if c.logprobs {
		req.Logprobs, req.TopLogprobs = true, 20
	}
	rctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()
	var final api.ChatResponse
	var content strings.Builder
	var lps []api.Logprob
	err = o.client.Chat(rctx, req, func(resp api.ChatResponse) error {
		content.WriteString(resp.Message.Content)
		lps = append(lps, resp.Logprobs...)
		if resp.Done {
			final = resp
		}
		return nil
	})
	p.Cost.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		var se api.StatusError
		if errors.As(err, &se) && se.StatusCode >= 400 && se.StatusCode < 500 {
			return p, fmt.Errorf("ollama %s: %w", o.Model, err) // the model is missing or the request is wrong: stop
		}
		if ctx.Err() != nil {
			return p, ctx.Err()
		}
		return p, fmt.Errorf("ollama %s on record %s: %w", o.Model, r.ID, err)
	}
	p.Raw = content.String()
	p.Truncated = final.DoneReason == "length"
	p.Cost.PromptTokens, p.Cost.OutputTokens = final.PromptEvalCount, final.EvalCount
	if task == schemas.EdgeIntent {
		p.Ranked = rankFromLogprobs(o.cat, r, opts.Train, p.Raw, lps)
	}
	return p, nil
}

// rankFromLogprobs turns the first answer token's top-20 alternatives into a
// ranking of classes for top-5: each class scores the highest probability of
// an alternative token its id starts with; the generated answer ranks first.
// Alternatives that begin no class id are ignored. Without logprobs the
// ranking is just the answer (top-5 then equals top-1).
func rankFromLogprobs(cat *schemas.Catalog, r *datasets.Record, trainSplit []datasets.Record, raw string, lps []api.Logprob) []string {
	answer := strings.TrimSpace(strings.Trim(strings.TrimSpace(raw), "\"'`."))
	if len(lps) == 0 {
		return nil
	}
	classes, err := intentClasses(cat, r, trainSplit)
	if err != nil {
		return nil
	}
	ids := make([]string, len(classes))
	for i, c := range classes {
		ids[i], _, _ = strings.Cut(c, ": ")
	}
	score := map[string]float64{}
	for _, alt := range lps[0].TopLogprobs {
		tok := strings.ToLower(strings.TrimSpace(alt.Token))
		if tok == "" {
			continue
		}
		for _, id := range ids {
			if strings.HasPrefix(id, tok) {
				if s, ok := score[id]; !ok || alt.Logprob > s {
					score[id] = alt.Logprob
				}
			}
		}
	}
	ranked := []string{answer}
	rest := make([]string, 0, len(score))
	for id := range score {
		if !strings.EqualFold(id, answer) {
			rest = append(rest, id)
		}
	}
	sort.Slice(rest, func(i, j int) bool {
		if a, b := score[rest[i]], score[rest[j]]; a != b && !math.IsNaN(a-b) {
			return a > b
		}
		return rest[i] < rest[j]
	})
	return append(ranked, rest...)
}
