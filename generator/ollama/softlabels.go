package ollama

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ollama/ollama/api"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/softlabel"
	"github.com/cyclecore/mlmforge/schemas"
)

// SoftLabelPromptID names the soft-label prompt below; bump its version when
// the text changes, as for the templates under prompts/.
const SoftLabelPromptID = "edgeintent-softlabels@v1"

// SoftLabelOptions configure an OllamaSoftLabeler.
type SoftLabelOptions struct {
	// TopLogprobs is how many alternatives of the answer token Ollama returns,
	// 1 to 20 (0 means 20, Ollama's maximum). Classes outside them get 0.
	TopLogprobs int
	// NumPredict caps the answer length (Ollama's num_predict), 1 to 3 (0
	// means 2). Only the first answer token is read; a little room keeps a
	// model that starts with a blank token from being cut before its code.
	NumPredict int
	// MinCodeMass rejects an answer whose class codes hold less probability
	// than this (0 means 0.5; negative accepts any). A model that starts
	// "The intent is ..." has not answered with a code, and renormalizing its
	// stray code probabilities would invent a distribution.
	MinCodeMass float64
	// OmitDescriptions lists the classes by id only: shorter prompts (a
	// 200-class list with descriptions is about 4k tokens), weaker answers.
	OmitDescriptions bool
}

// OllamaSoftLabeler asks a model served by Ollama to classify an utterance:
// the prompt lists the classes with short codes (ClassCodes), the model
// answers a code, and the log probabilities of the answer's first token over
// the codes are the distribution. It uses its OllamaTeacher's client,
// timeouts and retries, and is safe for concurrent use.
type SoftLabeler struct {
	t    *Teacher
	opts SoftLabelOptions
}

// NewOllamaSoftLabeler checks opts and returns a soft labeler that asks t's model.
func NewSoftLabeler(t *Teacher, opts SoftLabelOptions) (*SoftLabeler, error) {
	if t == nil {
		return nil, errors.New("new ollama soft labeler: no teacher")
	}
	switch {
	case opts.TopLogprobs == 0:
		opts.TopLogprobs = 20
	case opts.TopLogprobs < 1 || opts.TopLogprobs > 20:
		return nil, fmt.Errorf("new ollama soft labeler: top_logprobs %d: want 1 to 20", opts.TopLogprobs)
	}
	switch {
	case opts.NumPredict == 0:
		opts.NumPredict = 2
	case opts.NumPredict < 1 || opts.NumPredict > 3:
		return nil, fmt.Errorf("new ollama soft labeler: num_predict %d: want 1 to 3", opts.NumPredict)
	}
	if opts.MinCodeMass == 0 {
		opts.MinCodeMass = 0.5
	}
	return &SoftLabeler{t: t, opts: opts}, nil
}

// Teacher returns the teacher whose model answers.
func (l *SoftLabeler) Teacher() *Teacher { return l.t }

// SoftLabels asks the model for req.Input's class and reads the distribution
// off the log probabilities of its answer. Transport failures are retried
// like OllamaTeacher.Write's; an answer without a usable distribution is an
// *OutputError (RejectSoftLabels), which retrying the deterministic request
// would not change.
func (l *SoftLabeler) SoftLabels(ctx context.Context, req softlabel.Request) (map[string]float64, error) {
	if req.Taxonomy == nil {
		return nil, errors.New("ollama soft labels: no taxonomy")
	}
	if strings.TrimSpace(req.Input) == "" {
		return nil, errors.New("ollama soft labels: empty input")
	}
	system, user, codes, err := SoftLabelPrompt(req.Taxonomy, req.Input, !l.opts.OmitDescriptions)
	if err != nil {
		return nil, fmt.Errorf("ollama soft labels: %w", err)
	}
	classOf := make(map[string]string, len(codes))
	for i, c := range codes {
		classOf[c] = req.Taxonomy.Classes[i].ID
	}
	stream := true
	creq := &api.ChatRequest{
		Model:       l.t.cfg.Model,
		Messages:    []api.Message{{Role: "system", Content: system}, {Role: "user", Content: user}},
		Stream:      &stream,
		Think:       &api.ThinkValue{Value: false}, // a thinking model's first tokens would not be the code
		Logprobs:    true,
		TopLogprobs: l.opts.TopLogprobs,
		Options:     map[string]any{"seed": req.Seed, "temperature": 0, "num_predict": l.opts.NumPredict},
	}
	if l.t.cfg.NumCtx > 0 {
		creq.Options["num_ctx"] = l.t.cfg.NumCtx
	}
	var (
		content string
		lps     []api.Logprob
	)
	err = l.t.retry(ctx, "soft labels", func(ctx context.Context) (err error) {
		content, lps, err = l.chatLogprobs(ctx, creq)
		return err
	})
	if err != nil {
		return nil, err
	}
	probs, _, err := softlabel.CodeDistribution(lps, classOf, l.opts.MinCodeMass)
	if err != nil {
		return nil, &generator.OutputError{Reason: generator.RejectSoftLabels, Raw: content, Err: err}
	}
	return probs, nil
}

// chatLogprobs makes one streamed chat attempt and collects the answer and
// its log probabilities. The answer is 1-3 tokens, so RequestTimeout alone
// bounds it (no stall clock); as in chatOnce, only a stream that ends with
// its done line counts, since the client ends quietly on a dropped connection.
func (l *SoftLabeler) chatLogprobs(ctx context.Context, creq *api.ChatRequest) (string, []api.Logprob, error) {
	tctx, cancel := context.WithTimeoutCause(ctx, l.t.cfg.RequestTimeout, errAttemptTimeout)
	defer cancel()
	var (
		buf    strings.Builder
		lps    []api.Logprob
		done   bool
		chunks int
	)
	err := l.t.client.Chat(tctx, creq, func(r api.ChatResponse) error {
		chunks++
		buf.WriteString(r.Message.Content)
		lps = append(lps, r.Logprobs...)
		done = done || r.Done
		return nil
	})
	switch {
	case ctx.Err() != nil:
		return buf.String(), lps, context.Cause(ctx)
	case done:
		return buf.String(), lps, nil
	case errors.Is(context.Cause(tctx), errAttemptTimeout):
		return buf.String(), lps, fmt.Errorf("%w after %v (%d chunks)", errAttemptTimeout, l.t.cfg.RequestTimeout, chunks)
	case err != nil:
		return buf.String(), lps, err
	}
	return buf.String(), lps, fmt.Errorf("%w (%d chunks received)", errTruncated, chunks)
}

// SoftLabelPrompt renders the soft-label prompt for one utterance and returns
// the class codes it uses, in taxonomy class order. The class list comes
// first and the utterance last, so that a server's prompt cache reuses the
// list across utterances.
func SoftLabelPrompt(tax *schemas.Taxonomy, input string, descriptions bool) (system, user string, codes []string, err error) {
	codes, err = softlabel.ClassCodes(len(tax.Classes))
	if err != nil {
		return "", "", nil, fmt.Errorf("taxonomy %s: %w", tax.ID, err)
	}
	system = "You are an intent classifier. Read the user's utterance and pick the one intent from the list " +
		"that fits it best. Answer with that intent's code only: no intent name, no punctuation, no explanation."
	var b strings.Builder
	fmt.Fprintf(&b, "Intents (code: intent")
	if descriptions {
		b.WriteString(" - description")
	}
	b.WriteString("):\n")
	for i, c := range tax.Classes {
		fmt.Fprintf(&b, "%s: %s", codes[i], c.ID)
		if descriptions && c.Description != "" {
			fmt.Fprintf(&b, " - %s", strings.Join(strings.Fields(c.Description), " "))
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "\nUtterance: %q\n\nAnswer with the code only.", strings.TrimSpace(input))
	return system, b.String(), codes, nil
}
