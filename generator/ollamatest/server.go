// Package ollamatest serves Ollama's HTTP API from an httptest server, for
// tests of code that talks to Ollama. It speaks the real protocol of
// github.com/ollama/ollama v0.17.4 (see its api/types.go and server/routes.go):
// /api/chat streams NDJSON api.ChatResponse lines and ends with a done line
// that carries the token counts, errors are {"error": "..."} with a status
// code, /api/show and /api/tags describe the models. Scripted faults make the
// failures that a real server and its model produce: 5xx and 429 answers,
// malformed lines, stalled and dropped streams, and answers that are not JSON,
// break the requested format or invent values.
package ollamatest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
)

// The model a Server has when no WithModel option is given.
const (
	DefaultModel        = "qwen2.5:7b"
	DefaultDigest       = "845dbda0ea48ed749caafd9e6037047aa19acfcfd82e704d7ca97d631a0b697e"
	DefaultQuantization = "Q4_K_M"
)

// Server is a fake Ollama server. Its zero value is not usable: call New.
type Server struct {
	// URL is the base URL to give to a client, e.g. "http://127.0.0.1:40123".
	URL string

	ts        *httptest.Server
	closing   chan struct{}
	closeOnce sync.Once
	chunkSize int
	respond   func(api.ChatRequest) string
	logprobs  func(api.ChatRequest) []api.Logprob

	mu       sync.Mutex
	models   []api.ListModelResponse
	faults   []Fault
	requests int
	last     api.ChatRequest
}

// Option configures a Server.
type Option func(*Server)

// WithModel adds a model that /api/tags lists, /api/show describes and
// /api/chat serves. A server without this option serves DefaultModel.
func WithModel(name, digest, quantization string) Option {
	return func(s *Server) {
		s.models = append(s.models, api.ListModelResponse{
			Name:       name,
			Model:      name,
			Digest:     digest,
			Size:       4_683_087_332,
			ModifiedAt: time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC),
			Details: api.ModelDetails{
				Format:            "gguf",
				Family:            "qwen2",
				Families:          []string{"qwen2"},
				ParameterSize:     "7.6B",
				QuantizationLevel: quantization,
			},
		})
	}
}

// WithResponder sets the content streamed for a chat request. The default,
// Answer, builds a JSON answer that is valid against the request's format.
func WithResponder(f func(req api.ChatRequest) string) Option {
	return func(s *Server) { s.respond = f }
}

// WithFaults scripts faults for successive /api/chat calls: the first call
// gets f[0], the second f[1] and so on; later calls are served normally.
func WithFaults(f ...Fault) Option {
	return func(s *Server) { s.faults = append(s.faults, f...) }
}

// WithChunkSize sets how many bytes of content each streamed line carries
// (default 8, about two tokens).
func WithChunkSize(n int) Option {
	return func(s *Server) { s.chunkSize = max(n, 1) }
}

// New starts a server; t.Cleanup closes it.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{closing: make(chan struct{}), chunkSize: 8, respond: Answer}
	for _, o := range opts {
		o(s)
	}
	if len(s.models) == 0 {
		WithModel(DefaultModel, DefaultDigest, DefaultQuantization)(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/chat", s.chat)
	mux.HandleFunc("POST /api/show", s.show)
	mux.HandleFunc("GET /api/tags", s.tags)
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": "0.17.4"})
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "Ollama is running")
	})
	s.ts = httptest.NewServer(mux)
	s.URL = s.ts.URL
	t.Cleanup(s.Close)
	return s
}

// Close releases stalled streams and shuts the server down. It is safe to
// call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.ts.CloseClientConnections()
		s.ts.Close()
	})
}

// Requests returns the number of /api/chat calls served, faulty ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// LastChat returns the most recent /api/chat request.
func (s *Server) LastChat() api.ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// model finds a served model by name, accepting a name without ":latest".
func (s *Server) model(name string) (api.ListModelResponse, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.models {
		if m.Name == name || m.Name == name+":latest" {
			return m, true
		}
	}
	return api.ListModelResponse{}, false
}

// writeJSON writes v with a status code, as Ollama's handlers do with gin.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes Ollama's error body.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// notFound is Ollama's message for a model it does not have.
func notFound(name string) string { return fmt.Sprintf("model '%s' not found", name) }

func (s *Server) show(w http.ResponseWriter, r *http.Request) {
	var req api.ShowRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	name := req.Model
	if name == "" {
		name = req.Name
	}
	if name == "" {
		writeError(w, http.StatusBadRequest, "model is required")
		return
	}
	m, ok := s.model(name)
	if !ok {
		writeError(w, http.StatusNotFound, notFound(name))
		return
	}
	writeJSON(w, http.StatusOK, api.ShowResponse{
		Details:    m.Details,
		Template:   "{{ .Prompt }}",
		ModelInfo:  map[string]any{"general.architecture": m.Details.Family, "general.parameter_count": 7_615_616_512},
		ModifiedAt: m.ModifiedAt,
	})
}

func (s *Server) tags(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	resp := api.ListResponse{Models: append([]api.ListModelResponse{}, s.models...)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}
