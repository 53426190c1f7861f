package ollamatest

import (
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/ollama/ollama/api"
)

// Fault is a scripted failure of one /api/chat call.
type Fault int

// The faults. Each reproduces what a client meets with a real server.
const (
	// FaultNone serves the call normally.
	FaultNone Fault = iota
	// Fault500 answers 500 with an error body, as when the runner crashes.
	Fault500
	// FaultMalformedJSON streams half the answer, then a line that is not JSON.
	FaultMalformedJSON
	// FaultSchemaBreak streams valid JSON that breaks the requested format:
	// the target (if any) is replaced by an object of unknown fields, and an
	// unknown top-level field is added.
	FaultSchemaBreak
	// FaultHallucinate streams valid JSON, valid against the format, whose
	// values differ from the normal answer's: the target if the answer has
	// one, else the input.
	FaultHallucinate
	// FaultStall streams half the answer, then sends nothing more and keeps the
	// connection open until the client gives up.
	FaultStall
	// FaultDrop streams half the answer, then closes the connection without
	// the final done line.
	FaultDrop
	// FaultModelNotFound answers 404 "model 'X' not found", whatever the model.
	FaultModelNotFound
	// Fault429 answers 429 Too Many Requests.
	Fault429
	// FaultNotJSON streams content that is not JSON, as a model that ignores
	// the format does.
	FaultNotJSON
)

var faultNames = [...]string{"none", "500", "malformed_json", "schema_break", "hallucinate", "stall", "drop",
	"model_not_found", "429", "not_json"}

// String names the fault.
func (f Fault) String() string {
	if f >= 0 && int(f) < len(faultNames) {
		return faultNames[f]
	}
	return "fault(?)"
}

// stallLimit bounds a stalled stream, in case a client never gives up.
const stallLimit = 2 * time.Minute

// chat serves /api/chat.
func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var req api.ChatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	fault := FaultNone
	if s.requests < len(s.faults) {
		fault = s.faults[s.requests]
	}
	s.requests++
	s.last = req
	s.mu.Unlock()

	if req.Model == "" {
		writeError(w, http.StatusBadRequest, "model is required")
		return
	}
	if _, ok := s.model(req.Model); !ok || fault == FaultModelNotFound {
		writeError(w, http.StatusNotFound, notFound(req.Model))
		return
	}
	switch fault {
	case Fault500:
		writeError(w, http.StatusInternalServerError, "llama runner process has terminated: exit status 2")
		return
	case Fault429:
		writeError(w, http.StatusTooManyRequests, "server busy, please try again.  maximum pending requests exceeded")
		return
	}
	if scripted, ok := s.scriptedLogprobs(req); ok {
		// A scripted answer is its tokens, one per line; content faults do
		// not apply to it.
		pieces, content := tokensOf(scripted)
		if req.Stream != nil && !*req.Stream {
			final := s.final(req, content, pieces, start)
			final.Logprobs = scripted
			writeJSON(w, http.StatusOK, final)
			return
		}
		s.stream(w, r, req, pieces, scripted, fault, start)
		return
	}
	content := s.respond(req)
	switch fault {
	case FaultSchemaBreak:
		content = breakSchema(content)
	case FaultHallucinate:
		content = hallucinate(content, req.Format)
	case FaultNotJSON:
		content = "Sure! Here is the information you asked for: " + content[:len(content)/2]
	}
	pieces := split(content, s.chunkSize)
	if req.Stream != nil && !*req.Stream {
		writeJSON(w, http.StatusOK, s.final(req, content, pieces, start))
		return
	}
	s.stream(w, r, req, pieces, nil, fault, start)
}

// stream writes the NDJSON lines of a chat answer, applying a mid-stream fault
// after half of them. With scripted log probabilities (one per piece), line i
// carries scripted[i].
func (s *Server) stream(w http.ResponseWriter, r *http.Request, req api.ChatRequest, pieces []string, scripted []api.Logprob, fault Fault, start time.Time) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	// The fault comes after half the pieces, and after the first one at least,
	// so that the client has seen the stream start.
	half := max(1, len(pieces)/2)
	for i := 0; i <= len(pieces); i++ {
		if i == half {
			switch fault {
			case FaultMalformedJSON:
				_, _ = w.Write([]byte(`{"model":"` + req.Model + `","message":{"role":"assistant","content":"tru` + "\n"))
				return
			case FaultStall:
				if flusher != nil {
					flusher.Flush()
				}
				select {
				case <-r.Context().Done():
				case <-s.closing:
				case <-time.After(stallLimit):
				}
				return
			case FaultDrop:
				if flusher != nil {
					flusher.Flush()
				}
				panic(http.ErrAbortHandler) // the server closes the connection
			}
		}
		if i == len(pieces) {
			break
		}
		p := pieces[i]
		resp := api.ChatResponse{
			Model:     req.Model,
			CreatedAt: time.Now().UTC(),
			Message:   api.Message{Role: "assistant", Content: p},
		}
		switch {
		case scripted != nil:
			resp.Logprobs = scripted[i : i+1]
		case req.Logprobs:
			resp.Logprobs = logprobs(p, req.TopLogprobs)
		}
		if err := enc.Encode(resp); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
	_ = enc.Encode(s.final(req, "", pieces, start))
}

// final is the done line: Ollama sends the counts and durations on it.
func (s *Server) final(req api.ChatRequest, content string, pieces []string, start time.Time) api.ChatResponse {
	promptLen := 0
	for _, m := range req.Messages {
		promptLen += len(m.Content)
	}
	total := time.Since(start)
	return api.ChatResponse{
		Model:      req.Model,
		CreatedAt:  time.Now().UTC(),
		Message:    api.Message{Role: "assistant", Content: content},
		Done:       true,
		DoneReason: "stop",
		Metrics: api.Metrics{
			TotalDuration:      total,
			LoadDuration:       total / 10,
			PromptEvalCount:    promptLen/4 + 1,
			PromptEvalDuration: total / 4,
			EvalCount:          len(pieces),
			EvalDuration:       total / 2,
		},
	}
}

// logprobs makes plausible log probabilities for one streamed piece.
func logprobs(piece string, top int) []api.Logprob {
	lp := api.Logprob{TokenLogprob: api.TokenLogprob{Token: piece, Logprob: -0.05, Bytes: bytesOf(piece)}}
	for i := range min(max(top, 0), 20) {
		alt := piece
		if i > 0 {
			alt = piece + string(rune('a'+i%26))
		}
		lp.TopLogprobs = append(lp.TopLogprobs, api.TokenLogprob{Token: alt, Logprob: -0.05 - float64(i)})
	}
	return []api.Logprob{lp}
}

func bytesOf(s string) []int {
	out := make([]int, len(s))
	for i := range len(s) {
		out[i] = int(s[i])
	}
	return out
}

// split cuts s into pieces of about n bytes, never inside a UTF-8 sequence.
func split(s string, n int) []string {
	var out []string
	for len(s) > 0 {
		end := min(n, len(s))
		for end < len(s) && !utf8.RuneStart(s[end]) {
			end++
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return out
}
