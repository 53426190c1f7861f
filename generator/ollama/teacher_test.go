package ollama

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/ollamatest"
	"github.com/cyclecore/mlmforge/schemas"
)

// newTestTeacher returns a teacher for srv with timeouts and backoff short
// enough for tests.
func newTestTeacher(t *testing.T, host string, edit ...func(*Config)) *Teacher {
	t.Helper()
	cfg := Config{
		Host:           host,
		Model:          ollamatest.DefaultModel,
		RequestTimeout: 10 * time.Second,
		StallTimeout:   200 * time.Millisecond,
		BackoffBase:    time.Millisecond,
		BackoffMax:     5 * time.Millisecond,
	}
	for _, e := range edit {
		e(&cfg)
	}
	teacher, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return teacher
}

// intentRequest renders an EdgeIntent request with the real catalog.
func intentRequest(t *testing.T, mode generator.Mode) generator.Request {
	t.Helper()
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	target, err := json.Marshal(generator.IntentTarget{Intent: "weather_current", Slots: map[string]string{"city": "Lisbon"}})
	if err != nil {
		t.Fatal(err)
	}
	s := generator.Sample{
		Cell:   generator.Cell{Key: "weather_current", Task: schemas.EdgeIntent, Variant: "assistant-50", Taxonomy: "assistant-50", Class: "weather_current"},
		Target: target,
	}
	if mode == generator.TeacherLabels {
		s = generator.Sample{Cell: s.Cell}
	}
	p, err := generator.RenderPrompt(cat, mode, s, "")
	if err != nil {
		t.Fatal(err)
	}
	return generator.Request{Mode: mode, Sample: s, Prompt: p, Seed: 42, Temperature: 0.7, MaxTokens: 256}
}

// defaultAnswer is what the fake server answers to req without a fault.
func defaultAnswer(t *testing.T, req generator.Request) map[string]json.RawMessage {
	t.Helper()
	s, err := ollamatest.FromSchema(req.Prompt.Format, false)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func inputOf(t *testing.T, m map[string]json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(m["input"], &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOllamaWriteStreamsTheAnswer(t *testing.T) {
	srv := ollamatest.New(t)
	teacher := newTestTeacher(t, srv.URL)
	req := intentRequest(t, generator.LabelFirst)
	var progress []int
	req.Progress = func(n int) { progress = append(progress, n) }

	resp, err := teacher.Write(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if want := inputOf(t, defaultAnswer(t, req)); resp.Input != want {
		t.Errorf("Input = %q, want %q", resp.Input, want)
	}
	if resp.Target != nil {
		t.Errorf("label-first Target = %s, want nil", resp.Target)
	}
	if !strings.Contains(resp.Raw, resp.Input) || resp.PromptTokens == 0 || resp.OutputTokens < 2 || resp.Duration <= 0 {
		t.Errorf("Raw %q, tokens %d/%d, duration %v", resp.Raw, resp.PromptTokens, resp.OutputTokens, resp.Duration)
	}
	if len(progress) < 3 || progress[len(progress)-1] != resp.OutputTokens {
		t.Errorf("progress calls %v, want several ending at %d", progress, resp.OutputTokens)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i] < progress[i-1] {
			t.Errorf("progress went back: %v", progress)
		}
	}
	if srv.Requests() != 1 {
		t.Errorf("requests = %d, want 1", srv.Requests())
	}

	got := srv.LastChat()
	if got.Model != ollamatest.DefaultModel || got.Stream == nil || !*got.Stream {
		t.Errorf("model %q stream %v", got.Model, got.Stream)
	}
	if len(got.Messages) != 2 || got.Messages[0].Role != "system" || got.Messages[0].Content != req.Prompt.System ||
		got.Messages[1].Role != "user" || got.Messages[1].Content != req.Prompt.User {
		t.Errorf("messages = %+v", got.Messages)
	}
	if string(got.Format) != string(req.Prompt.Format) {
		t.Errorf("format = %s, want %s", got.Format, req.Prompt.Format)
	}
	opts, _ := json.Marshal(got.Options)
	if string(opts) != `{"num_predict":256,"seed":42,"temperature":0.7}` {
		t.Errorf("options = %s", opts)
	}
}

func TestOllamaWriteRetriesTransientFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults []ollamatest.Fault
	}{
		{"500", []ollamatest.Fault{ollamatest.Fault500}},
		{"429", []ollamatest.Fault{ollamatest.Fault429}},
		{"malformed NDJSON line", []ollamatest.Fault{ollamatest.FaultMalformedJSON}},
		{"stall mid-stream", []ollamatest.Fault{ollamatest.FaultStall}},
		{"connection dropped mid-stream", []ollamatest.Fault{ollamatest.FaultDrop}},
		{"one of each", []ollamatest.Fault{ollamatest.Fault500, ollamatest.FaultMalformedJSON, ollamatest.FaultStall, ollamatest.FaultDrop}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := ollamatest.New(t, ollamatest.WithFaults(tc.faults...))
			// The request timeout is out of reach, and the fake holds a
			// stalled stream for minutes: only the stall clock (200ms) ends
			// a stall within the bound below, however slow the machine.
			teacher := newTestTeacher(t, srv.URL, func(c *Config) { c.RequestTimeout = time.Hour })
			req := intentRequest(t, generator.LabelFirst)
			start := time.Now()
			resp, err := teacher.Write(context.Background(), req)
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			if d := time.Since(start); d > time.Minute {
				t.Errorf("Write took %v: a stall was not caught by the stall clock", d)
			}
			if want := inputOf(t, defaultAnswer(t, req)); resp.Input != want {
				t.Errorf("Input = %q, want %q", resp.Input, want)
			}
			if got, want := srv.Requests(), len(tc.faults)+1; got != want {
				t.Errorf("requests = %d, want %d", got, want)
			}
		})
	}
}

func TestOllamaWriteNamesEachFailure(t *testing.T) {
	for fault, kind := range map[ollamatest.Fault]string{
		ollamatest.Fault500:           "http 500",
		ollamatest.Fault429:           "http 429",
		ollamatest.FaultMalformedJSON: "stream error",
		ollamatest.FaultStall:         "stall",
		ollamatest.FaultDrop:          "truncated stream",
	} {
		t.Run(fault.String(), func(t *testing.T) {
			srv := ollamatest.New(t, ollamatest.WithFaults(fault))
			teacher := newTestTeacher(t, srv.URL, func(c *Config) { c.MaxRetries = -1 })
			_, err := teacher.Write(context.Background(), intentRequest(t, generator.LabelFirst))
			var oe *Error
			if !errors.As(err, &oe) || oe.Permanent || oe.Attempts != 1 || oe.Failures[kind] != 1 {
				t.Fatalf("err = %v, want one %q failure", err, kind)
			}
		})
	}
}

func TestOllamaWriteGivesUpAfterMaxRetries(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.WithFaults(
		ollamatest.Fault500, ollamatest.FaultStall, ollamatest.Fault500, ollamatest.Fault500))
	teacher := newTestTeacher(t, srv.URL, func(c *Config) { c.MaxRetries = 2 })
	_, err := teacher.Write(context.Background(), intentRequest(t, generator.LabelFirst))
	var oe *Error
	if !errors.As(err, &oe) {
		t.Fatalf("err = %v, want *OllamaError", err)
	}
	if oe.Permanent || oe.Attempts != 3 || oe.Failures["http 500"] != 2 || oe.Failures["stall"] != 1 {
		t.Errorf("error = %+v", oe)
	}
	for _, want := range []string{"gave up after 3 attempts", "http 500 x2", "stall x1", srv.URL} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if srv.Requests() != 3 {
		t.Errorf("requests = %d, want 3", srv.Requests())
	}
}

func TestOllamaWriteModelNotFoundIsPermanent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model string
		opts  []ollamatest.Option
	}{
		{"server says 404", ollamatest.DefaultModel, []ollamatest.Option{ollamatest.WithFaults(ollamatest.FaultModelNotFound)}},
		{"model not pulled", "llama9:1b", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := ollamatest.New(t, tc.opts...)
			teacher := newTestTeacher(t, srv.URL, func(c *Config) { c.Model = tc.model })
			_, err := teacher.Write(context.Background(), intentRequest(t, generator.LabelFirst))
			if !errors.Is(err, ErrModelNotFound) {
				t.Fatalf("err = %v, want ErrModelNotFound", err)
			}
			var oe *Error
			if !errors.As(err, &oe) || !oe.Permanent {
				t.Errorf("err = %#v, want a permanent *OllamaError", err)
			}
			want := `model "` + tc.model + `" not found on OLLAMA at ` + srv.URL + `: run 'ollama pull ` + tc.model + `'`
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
			if srv.Requests() != 1 {
				t.Errorf("requests = %d, want 1", srv.Requests())
			}
		})
	}
}

func TestOllamaWriteStatusCodes(t *testing.T) {
	for _, tc := range []struct {
		code         int
		wantRequests int
		permanent    bool
	}{
		{http.StatusBadRequest, 1, true},
		{http.StatusUnauthorized, 1, true},
		{http.StatusForbidden, 1, true},
		{http.StatusRequestTimeout, 3, false},
		{http.StatusTooManyRequests, 3, false},
		{http.StatusBadGateway, 3, false},
		{http.StatusServiceUnavailable, 3, false},
	} {
		t.Run(http.StatusText(tc.code), func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.WriteHeader(tc.code)
				_, _ = w.Write([]byte(`{"error":"` + http.StatusText(tc.code) + `"}`))
			}))
			defer srv.Close()
			teacher := newTestTeacher(t, srv.URL, func(c *Config) { c.MaxRetries = 2 })
			_, err := teacher.Write(context.Background(), intentRequest(t, generator.LabelFirst))
			var oe *Error
			if !errors.As(err, &oe) || oe.Permanent != tc.permanent {
				t.Fatalf("err = %v, want an *OllamaError with Permanent %v", err, tc.permanent)
			}
			if int(n.Load()) != tc.wantRequests {
				t.Errorf("requests = %d, want %d", n.Load(), tc.wantRequests)
			}
		})
	}
}

func TestOllamaWriteConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	teacher := newTestTeacher(t, addr, func(c *Config) { c.MaxRetries = 1 })
	_, err = teacher.Write(context.Background(), intentRequest(t, generator.LabelFirst))
	var oe *Error
	if !errors.As(err, &oe) || oe.Permanent || oe.Attempts != 2 || oe.Failures["connection refused"] != 2 {
		t.Fatalf("err = %v, want 2 refused attempts", err)
	}
}

func TestOllamaWriteReturnsBadAnswersForTheValidators(t *testing.T) {
	t.Run("schema break", func(t *testing.T) {
		// Valid JSON that ignores the requested format is a counted rejection
		// (reason schema) with the raw answer kept, never an example.
		srv := ollamatest.New(t, ollamatest.WithFaults(ollamatest.FaultSchemaBreak))
		req := intentRequest(t, generator.TeacherLabels)
		resp, err := newTestTeacher(t, srv.URL).Write(context.Background(), req)
		var oe *generator.OutputError
		if !errors.As(err, &oe) || oe.Reason != generator.RejectSchema {
			t.Fatalf("Write: err = %v, want an OutputError with reason schema", err)
		}
		if !strings.Contains(oe.Raw, "unexpected_field") || resp.Input != "" || srv.Requests() != 1 {
			t.Errorf("Raw = %s, Input = %q, requests = %d: want the raw answer kept, no input, no retry", oe.Raw, resp.Input, srv.Requests())
		}
	})
	t.Run("hallucination", func(t *testing.T) {
		srv := ollamatest.New(t, ollamatest.WithFaults(ollamatest.FaultHallucinate))
		req := intentRequest(t, generator.TeacherLabels)
		resp, err := newTestTeacher(t, srv.URL).Write(context.Background(), req)
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(resp.Raw), &raw); err != nil {
			t.Fatal(err)
		}
		if !generator.SameJSON(resp.Target, raw["target"]) {
			t.Errorf("Target = %s, want the answer's %s", resp.Target, raw["target"])
		}
		if normal := defaultAnswer(t, req)["target"]; generator.SameJSON(resp.Target, normal) {
			t.Errorf("hallucinated target %s equals the normal one", resp.Target)
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		srv := ollamatest.New(t, ollamatest.WithFaults(ollamatest.FaultNotJSON))
		resp, err := newTestTeacher(t, srv.URL).Write(context.Background(), intentRequest(t, generator.LabelFirst))
		var oe *generator.OutputError
		if !errors.As(err, &oe) || oe.Reason != generator.RejectJSONParse {
			t.Fatalf("err = %v, want *OutputError with %s", err, generator.RejectJSONParse)
		}
		if resp.Input != "" || resp.Raw == "" || oe.Raw != resp.Raw || !strings.HasPrefix(resp.Raw, "Sure!") {
			t.Errorf("Input %q, Raw %q, error Raw %q", resp.Input, resp.Raw, oe.Raw)
		}
		if srv.Requests() != 1 {
			t.Errorf("requests = %d: a bad answer must not be retried", srv.Requests())
		}
	})
}

func TestOllamaWriteCancelStopsAStalledStream(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.WithFaults(ollamatest.FaultStall))
	// Neither the stall clock nor the request timeout can end the attempt
	// within the bound below: only the cancel can.
	teacher := newTestTeacher(t, srv.URL, func(c *Config) {
		c.StallTimeout = time.Hour
		c.RequestTimeout = time.Hour
	})
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel once the server has the request, not after a fixed delay: on a
	// busy machine 100ms may pass before the request is even sent.
	go func() {
		for srv.Requests() == 0 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	_, err := teacher.Write(ctx, intentRequest(t, generator.LabelFirst))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("Write returned %v after the cancel", d)
	}
	if srv.Requests() != 1 {
		t.Errorf("requests = %d, want 1", srv.Requests())
	}
}

func TestOllamaWriteAttemptTimeout(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.WithFaults(ollamatest.FaultStall))
	teacher := newTestTeacher(t, srv.URL, func(c *Config) {
		c.StallTimeout = time.Minute
		c.RequestTimeout = 300 * time.Millisecond
	})
	if _, err := teacher.Write(context.Background(), intentRequest(t, generator.LabelFirst)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if srv.Requests() != 2 {
		t.Errorf("requests = %d, want 2", srv.Requests())
	}
}

func TestOllamaWriteConcurrent(t *testing.T) {
	faults := []ollamatest.Fault{ollamatest.Fault500, ollamatest.FaultDrop, ollamatest.FaultMalformedJSON, ollamatest.Fault429}
	srv := ollamatest.New(t, ollamatest.WithFaults(faults...))
	teacher := newTestTeacher(t, srv.URL)
	req := intentRequest(t, generator.LabelFirst)
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := teacher.Write(context.Background(), req); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := srv.Requests(), workers*each+len(faults); got != want {
		t.Errorf("requests = %d, want %d", got, want)
	}
}

func TestOllamaWriteWithoutPrompt(t *testing.T) {
	srv := ollamatest.New(t)
	_, err := newTestTeacher(t, srv.URL).Write(context.Background(), generator.Request{Mode: generator.LabelFirst})
	if err == nil || !strings.Contains(err.Error(), "RenderPrompt") {
		t.Fatalf("err = %v", err)
	}
	if srv.Requests() != 0 {
		t.Errorf("requests = %d, want 0", srv.Requests())
	}
}

func TestOllamaInfo(t *testing.T) {
	srv := ollamatest.New(t)
	teacher := newTestTeacher(t, srv.URL)
	info, err := teacher.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := generator.TeacherInfo{Name: "ollama:" + ollamatest.DefaultModel, Model: ollamatest.DefaultModel,
		Digest: ollamatest.DefaultDigest, Quantization: ollamatest.DefaultQuantization}
	if info != want {
		t.Errorf("Info = %+v, want %+v", info, want)
	}
	mi, err := teacher.ModelInfo(context.Background())
	if err != nil || mi.Family != "qwen2" || mi.ParameterSize != "7.6B" {
		t.Errorf("ModelInfo = %+v, %v", mi, err)
	}
	srv.Close() // the answer is cached
	if again, err := teacher.Info(context.Background()); err != nil || again != want {
		t.Errorf("cached Info = %+v, %v", again, err)
	}
}

func TestOllamaInfoMatchesLatestTag(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.WithModel("llama3.2:latest", "sha256:abc", "Q8_0"))
	info, err := newTestTeacher(t, srv.URL, func(c *Config) { c.Model = "llama3.2" }).Info(context.Background())
	if err != nil || info.Digest != "sha256:abc" || info.Quantization != "Q8_0" {
		t.Errorf("Info = %+v, %v", info, err)
	}
}

func TestOllamaInfoModelNotFound(t *testing.T) {
	srv := ollamatest.New(t)
	_, err := newTestTeacher(t, srv.URL, func(c *Config) { c.Model = "missing:1b" }).Info(context.Background())
	if !errors.Is(err, ErrModelNotFound) || !strings.Contains(err.Error(), "run 'ollama pull missing:1b'") {
		t.Fatalf("err = %v", err)
	}
}
