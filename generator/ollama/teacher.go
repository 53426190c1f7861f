package ollama

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/ollama/ollama/api"
)

// OllamaConfig configures an OllamaTeacher. cmd/ parses OLLAMA_HOST and its
// flags and fills it in: this package reads no environment variables.
type Config struct {
	// Host is the server's base URL, e.g. "http://127.0.0.1:11434". A host
	// without a scheme gets "http://".
	Host string
	// Model is the model reference, e.g. "qwen2.5:7b".
	Model string
	// HTTPClient is optional. The default keeps up to 64 idle connections per
	// host, so that concurrent generation workers reuse their connections.
	HTTPClient *http.Client
	// MaxRetries is how often a failed attempt is retried: 0 means 4, a
	// negative value means never.
	MaxRetries int
	// RequestTimeout bounds one attempt (default 2m), including the wait for the
	// first chunk, which covers model loading and prompt evaluation.
	RequestTimeout time.Duration
	// StallTimeout aborts an attempt when no chunk arrives for this long once
	// the stream has started (default 30s): a wedged runner otherwise holds a
	// worker for the whole RequestTimeout.
	StallTimeout time.Duration
	// BackoffBase and BackoffMax shape the exponential backoff between
	// attempts (defaults 200ms and 5s); each wait is drawn from [d/2, d].
	BackoffBase, BackoffMax time.Duration
	// NumCtx sets the context window (Ollama's num_ctx) when > 0. Leave it 0
	// to keep the server's default: a request with another num_ctx makes
	// Ollama reload the model. EdgeIntent extract prompts for a 200-class
	// taxonomy need about 4k tokens.
	NumCtx int
	// JitterSeed seeds the backoff jitter, so that retry timing is reproducible
	// in tests (0 means 1).
	JitterSeed uint64
}

// OllamaTeacher is a Teacher that asks a model served by Ollama, through the
// streaming /api/chat endpoint with structured outputs. It is safe for
// concurrent use.
type Teacher struct {
	cfg    Config
	host   string
	client *api.Client

	jitterMu sync.Mutex
	jitter   *rand.Rand

	// infoSem serializes the first Info calls, so that concurrent workers make
	// one pair of look-ups; a channel rather than a mutex so that a waiter
	// can give up when its context ends.
	infoSem chan struct{}
	info    *OllamaModelInfo
}

var _ generator.Teacher = (*Teacher)(nil)

// The defaults of OllamaConfig.
const (
	defaultMaxRetries     = 4
	defaultRequestTimeout = 2 * time.Minute
	defaultStallTimeout   = 30 * time.Second
	defaultBackoffBase    = 200 * time.Millisecond
	defaultBackoffMax     = 5 * time.Second
)

// NewOllamaTeacher checks cfg, fills in its defaults and returns a teacher. It
// does not contact the server: Info does.
func New(cfg Config) (*Teacher, error) {
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("new ollama teacher: model is empty")
	}
	base, err := parseOllamaHost(cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("new ollama teacher: %w", err)
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = defaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	cfg.RequestTimeout = durationOr(cfg.RequestTimeout, defaultRequestTimeout)
	cfg.StallTimeout = durationOr(cfg.StallTimeout, defaultStallTimeout)
	cfg.BackoffBase = durationOr(cfg.BackoffBase, defaultBackoffBase)
	cfg.BackoffMax = max(durationOr(cfg.BackoffMax, defaultBackoffMax), cfg.BackoffBase)
	if cfg.JitterSeed == 0 {
		cfg.JitterSeed = 1
	}
	if cfg.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// The default of 2 idle connections per host makes every worker beyond
		// the second open a new connection per request.
		tr.MaxIdleConnsPerHost = 64
		cfg.HTTPClient = &http.Client{Transport: tr}
	}
	return &Teacher{
		cfg:     cfg,
		host:    base.String(),
		client:  api.NewClient(base, cfg.HTTPClient),
		jitter:  rand.New(rand.NewPCG(cfg.JitterSeed, 0x6f6c6c616d61)),
		infoSem: make(chan struct{}, 1),
	}, nil
}

// parseOllamaHost turns OllamaConfig.Host into a base URL.
func parseOllamaHost(host string) (*url.URL, error) {
	host = strings.TrimRight(strings.TrimSpace(host), "/")
	if host == "" {
		return nil, errors.New("host is empty")
	}
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("parse host %q: %w", host, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("host %q: scheme must be http or https", host)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("host %q has no host name", host)
	}
	return u, nil
}

func durationOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Model returns the configured model reference.
func (t *Teacher) Model() string { return t.cfg.Model }

// Host returns the server's base URL.
func (t *Teacher) Host() string { return t.host }

// OllamaModelInfo is what Ollama reports about the teacher's model.
// TeacherInfo has no room for Family and ParameterSize, so they live here.
type OllamaModelInfo struct {
	generator.TeacherInfo
	// Family is the model family, e.g. "qwen2".
	Family string `json:"family,omitempty"`
	// ParameterSize is the size as Ollama reports it, e.g. "7.6B".
	ParameterSize string `json:"parameter_size,omitempty"`
}

// Info returns the model's name, digest and quantization for provenance.
func (t *Teacher) Info(ctx context.Context) (generator.TeacherInfo, error) {
	mi, err := t.ModelInfo(ctx)
	return mi.TeacherInfo, err
}

// ModelInfo asks /api/tags for the model's digest and /api/show for its
// details. The first successful answer is cached: a model is not swapped
// under a running generation, and provenance must not change mid-run. An
// unknown model gives an error that wraps ErrModelNotFound.
func (t *Teacher) ModelInfo(ctx context.Context) (OllamaModelInfo, error) {
	select {
	case t.infoSem <- struct{}{}:
		defer func() { <-t.infoSem }()
	case <-ctx.Done():
		return OllamaModelInfo{}, fmt.Errorf("ollama model info for %q: %w", t.cfg.Model, context.Cause(ctx))
	}
	if t.info != nil {
		return *t.info, nil
	}
	var list *api.ListResponse
	err := t.retry(ctx, "list models", func(ctx context.Context) (err error) {
		list, err = t.client.List(ctx)
		return err
	})
	if err != nil {
		return OllamaModelInfo{}, err
	}
	lm, ok := findOllamaModel(list.Models, t.cfg.Model)
	if !ok {
		return OllamaModelInfo{}, &Error{Op: "list models", Model: t.cfg.Model, Host: t.host,
			Attempts: 1, Permanent: true, Err: t.notFound(nil)}
	}
	var show *api.ShowResponse
	err = t.retry(ctx, "show model", func(ctx context.Context) (err error) {
		show, err = t.client.Show(ctx, &api.ShowRequest{Model: t.cfg.Model})
		return err
	})
	if err != nil {
		return OllamaModelInfo{}, err
	}
	d := show.Details
	if d.QuantizationLevel == "" {
		d = lm.Details
	}
	t.info = &OllamaModelInfo{
		TeacherInfo: generator.TeacherInfo{
			Name:         "ollama:" + t.cfg.Model,
			Model:        t.cfg.Model,
			Digest:       lm.Digest,
			Quantization: d.QuantizationLevel,
		},
		Family:        d.Family,
		ParameterSize: d.ParameterSize,
	}
	return *t.info, nil
}

// findOllamaModel finds name in a /api/tags answer; "qwen2.5" matches the
// "qwen2.5:latest" that Ollama lists.
func findOllamaModel(models []api.ListModelResponse, name string) (api.ListModelResponse, bool) {
	names := []string{name}
	if !strings.Contains(name[strings.LastIndex(name, "/")+1:], ":") {
		names = append(names, name+":latest")
	}
	for _, m := range models {
		for _, n := range names {
			if m.Name == n || m.Model == n {
				return m, true
			}
		}
	}
	return api.ListModelResponse{}, false
}

// ErrModelNotFound is wrapped by the error for a model that the Ollama server
// does not have. It is permanent: retrying does not pull the model.
var ErrModelNotFound = errors.New("model not found")

// modelNotFoundError tells the user how to fix a missing model.
type modelNotFoundError struct {
	model, host string
	cause       error
}

// Error says which model is missing where, and how to get it.
func (e *modelNotFoundError) Error() string {
	return fmt.Sprintf("model %q not found on OLLAMA at %s: run 'ollama pull %s'", e.model, e.host, e.model)
}

// Unwrap makes the error match ErrModelNotFound and its cause.
func (e *modelNotFoundError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrModelNotFound}
	}
	return []error{ErrModelNotFound, e.cause}
}

func (t *Teacher) notFound(cause error) error {
	return &modelNotFoundError{model: t.cfg.Model, host: t.host, cause: cause}
}
