package ollama

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/ollama/ollama/api"
)

// OllamaError is a failed call to Ollama: either a permanent failure, returned
// at once, or the last of the transient failures when the retries ran out.
type Error struct {
	// Op is the call: "chat", "list models" or "show model".
	Op string
	// Model and Host say which model on which server.
	Model, Host string
	// Attempts is the number of attempts made.
	Attempts int
	// Failures counts the failed attempts by kind, e.g. {"stall": 2, "http 500": 3}.
	Failures map[string]int
	// Permanent is true when retrying cannot help: an unknown model (wraps
	// ErrModelNotFound), a 4xx other than 408/429, a rejected authorization.
	Permanent bool
	// Err is the last attempt's error.
	Err error
}

// Error says what failed, how often and how, and the last error.
func (e *Error) Error() string {
	if e.Permanent {
		return fmt.Sprintf("ollama %s: %v", e.Op, e.Err)
	}
	kinds := make([]string, 0, len(e.Failures))
	for k := range e.Failures {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for i, k := range kinds {
		kinds[i] = fmt.Sprintf("%s x%d", k, e.Failures[k])
	}
	return fmt.Sprintf("ollama %s with model %q at %s: gave up after %d attempts (%s): last error: %v",
		e.Op, e.Model, e.Host, e.Attempts, strings.Join(kinds, ", "), e.Err)
}

// Unwrap returns the last attempt's error.
func (e *Error) Unwrap() error { return e.Err }

// Why an attempt was aborted, as the cause of its context.
var (
	errStall          = errors.New("stream stalled")
	errAttemptTimeout = errors.New("attempt timed out")
	errTruncated      = errors.New("stream ended before its final done chunk")
)

// ollamaFailure is the classification of one failed attempt.
type ollamaFailure struct {
	kind  string
	retry bool
	err   error
}

// classify decides whether a failed attempt is worth retrying. Ollama's client
// turns a line that is not JSON into a plain error carrying the line, and so
// it does an in-stream {"error": ...}: both are retried unless they say that
// the model was not found.
func (t *Teacher) classify(err error) ollamaFailure {
	var se api.StatusError
	var ae api.AuthorizationError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var nerr net.Error
	var uerr *url.Error
	switch {
	case errors.As(err, &se):
		code := se.StatusCode
		if code == http.StatusNotFound || strings.Contains(se.ErrorMessage, "not found") {
			return ollamaFailure{kind: "model not found", err: t.notFound(err)}
		}
		kind := fmt.Sprintf("http %d", code)
		retry := code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
		return ollamaFailure{kind: kind, retry: retry, err: err}
	case errors.As(err, &ae):
		return ollamaFailure{kind: fmt.Sprintf("http %d", ae.StatusCode), err: err}
	case errors.Is(err, errStall):
		return ollamaFailure{kind: "stall", retry: true, err: err}
	case errors.Is(err, errAttemptTimeout):
		return ollamaFailure{kind: "timeout", retry: true, err: err}
	case errors.Is(err, errTruncated):
		return ollamaFailure{kind: "truncated stream", retry: true, err: err}
	case errors.As(err, &syn), errors.As(err, &typ):
		return ollamaFailure{kind: "malformed stream", retry: true, err: err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return ollamaFailure{kind: "connection refused", retry: true, err: err}
	case errors.As(err, &nerr) && nerr.Timeout():
		return ollamaFailure{kind: "timeout", retry: true, err: err}
	case errors.As(err, &uerr), errors.As(err, new(*net.OpError)),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return ollamaFailure{kind: "network", retry: true, err: err}
	case strings.Contains(err.Error(), "not found"):
		return ollamaFailure{kind: "model not found", err: t.notFound(err)}
	default:
		return ollamaFailure{kind: "stream error", retry: true,
			err: fmt.Errorf("malformed stream line or server error: %w", err)}
	}
}

// retry runs attempt until it succeeds, fails permanently, the retries run
// out or ctx ends.
func (t *Teacher) retry(ctx context.Context, op string, attempt func(context.Context) error) error {
	failures := map[string]int{}
	for n := 1; ; n++ {
		err := attempt(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("ollama %s with model %q: %w", op, t.cfg.Model, context.Cause(ctx))
		}
		f := t.classify(err)
		failures[f.kind]++
		oerr := &Error{Op: op, Model: t.cfg.Model, Host: t.host, Attempts: n,
			Failures: failures, Permanent: !f.retry, Err: f.err}
		if !f.retry || n > t.cfg.MaxRetries {
			return oerr
		}
		if err := t.sleep(ctx, n); err != nil {
			return fmt.Errorf("ollama %s with model %q: waiting to retry after %v: %w", op, t.cfg.Model, f.err, err)
		}
	}
}

// sleep waits before retry n (1-based): exponential backoff from BackoffBase,
// capped at BackoffMax, with equal jitter so that workers that failed together
// do not retry together.
func (t *Teacher) sleep(ctx context.Context, n int) error {
	d := t.cfg.BackoffMax
	if n-1 < 30 {
		d = min(t.cfg.BackoffBase<<(n-1), t.cfg.BackoffMax)
	}
	t.jitterMu.Lock()
	wait := d/2 + time.Duration(t.jitter.Int64N(int64(d/2)+1))
	t.jitterMu.Unlock()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-timer.C:
		return nil
	}
}
