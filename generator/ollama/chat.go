package ollama

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/ollama/ollama/api"
)

// ollamaChatResult is what one successful streamed chat attempt produced.
type ollamaChatResult struct {
	content                    string
	promptTokens, outputTokens int
}

// Write sends req's rendered prompt to /api/chat and parses the answer
// according to req.Mode. Transient failures are retried (see OllamaConfig);
// an answer that cannot be parsed is returned with Raw set and an
// *OutputError, which the caller counts as a rejection.
func (t *Teacher) Write(ctx context.Context, req generator.Request) (generator.Response, error) {
	start := time.Now()
	if strings.TrimSpace(req.Prompt.User) == "" {
		return generator.Response{}, errors.New("ollama write: request has no rendered prompt: render it with RenderPrompt")
	}
	creq := t.chatRequest(req)
	var res ollamaChatResult
	err := t.retry(ctx, "chat", func(ctx context.Context) (err error) {
		res, err = t.chatOnce(ctx, creq, req.Progress)
		return err
	})
	resp := generator.Response{
		Raw:          res.content,
		PromptTokens: res.promptTokens,
		OutputTokens: res.outputTokens,
		Duration:     time.Since(start),
	}
	if err != nil {
		return resp, err
	}
	input, target, err := generator.ParseAnswer(req, res.content)
	if err != nil {
		return resp, &generator.OutputError{Reason: generator.RejectJSONParse, Raw: res.content, Err: err}
	}
	if err := generator.CheckAnswerFormat(req.Prompt.Format, res.content); err != nil {
		return resp, &generator.OutputError{Reason: generator.RejectSchema, Raw: res.content, Err: err}
	}
	resp.Input, resp.Target = input, target
	return resp, nil
}

// chatRequest builds the /api/chat request for req.
func (t *Teacher) chatRequest(req generator.Request) *api.ChatRequest {
	stream := true
	opts := map[string]any{
		"seed":        req.Seed,
		"temperature": req.Temperature,
	}
	if req.MaxTokens > 0 {
		opts["num_predict"] = req.MaxTokens
	}
	if t.cfg.NumCtx > 0 {
		opts["num_ctx"] = t.cfg.NumCtx
	}
	var msgs []api.Message
	if req.Prompt.System != "" {
		msgs = append(msgs, api.Message{Role: "system", Content: req.Prompt.System})
	}
	msgs = append(msgs, api.Message{Role: "user", Content: req.Prompt.User})
	return &api.ChatRequest{
		Model:    t.cfg.Model,
		Messages: msgs,
		Stream:   &stream,
		Format:   req.Prompt.Format,
		Options:  opts,
	}
}

// chatOnce makes one streamed chat attempt. Ollama's client ends without an
// error when the connection drops mid-stream or its context is cancelled
// while reading, so the attempt only succeeds once the final done chunk has
// arrived, and the context's cause tells a stall from a timeout.
func (t *Teacher) chatOnce(ctx context.Context, creq *api.ChatRequest, progress func(int)) (ollamaChatResult, error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	tctx, cancelTimeout := context.WithTimeoutCause(actx, t.cfg.RequestTimeout, errAttemptTimeout)
	defer cancelTimeout()

	var (
		stall  *time.Timer
		buf    strings.Builder
		tokens int
		chunks int
		final  *api.ChatResponse
	)
	err := t.client.Chat(tctx, creq, func(r api.ChatResponse) error {
		// The stall clock starts with the first chunk: before it, the model
		// may be loading, which RequestTimeout bounds.
		if stall == nil {
			stall = time.AfterFunc(t.cfg.StallTimeout, func() { cancel(errStall) })
		} else {
			stall.Reset(t.cfg.StallTimeout)
		}
		chunks++
		buf.WriteString(r.Message.Content)
		if r.Message.Content != "" {
			tokens++
		}
		if r.Done {
			final = &r
			tokens = max(tokens, r.EvalCount)
		}
		if progress != nil {
			progress(tokens)
		}
		return nil
	})
	if stall != nil {
		stall.Stop()
	}
	res := ollamaChatResult{content: buf.String()}
	if ctx.Err() != nil {
		return res, context.Cause(ctx)
	}
	if final != nil {
		// Complete, even if the server then kept the connection open.
		res.promptTokens, res.outputTokens = final.PromptEvalCount, final.EvalCount
		return res, nil
	}
	switch cause := context.Cause(tctx); {
	case errors.Is(cause, errStall):
		return res, fmt.Errorf("%w: no chunk for %v after %d chunks", errStall, t.cfg.StallTimeout, chunks)
	case errors.Is(cause, errAttemptTimeout):
		return res, fmt.Errorf("%w after %v (%d chunks)", errAttemptTimeout, t.cfg.RequestTimeout, chunks)
	}
	if err != nil {
		return res, err
	}
	return res, fmt.Errorf("%w (%d chunks received)", errTruncated, chunks)
}
