package ollamatest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
)

const testFormat = `{"type":"object","properties":{"input":{"type":"string","minLength":1},` +
	`"target":{"type":"object","properties":{"intent":{"type":"string","enum":["timer_set","alarm_set"]},` +
	`"count":{"type":"integer","minimum":2,"maximum":9},"when":{"type":"string","format":"date"},` +
	`"code":{"type":"string","pattern":"^INV-[0-9]{6}$"}},"required":["intent"]}},"required":["input","target"]}`

func chatRequest(stream bool) api.ChatRequest {
	return api.ChatRequest{
		Model:    DefaultModel,
		Messages: []api.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "write an example"}},
		Stream:   &stream,
		Format:   json.RawMessage(testFormat),
	}
}

// postChat sends a chat request and returns the response and its lines.
func postChat(t *testing.T, s *Server, req api.ChatRequest) (*http.Response, []string, error) {
	t.Helper()
	body, _ := json.Marshal(req)
	resp, err := http.Post(s.URL+"/api/chat", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return resp, lines, sc.Err()
}

// decodeStream decodes NDJSON chat lines, returning the content and the final line.
func decodeStream(t *testing.T, lines []string) (string, *api.ChatResponse) {
	t.Helper()
	var content strings.Builder
	var final *api.ChatResponse
	for i, l := range lines {
		var r api.ChatResponse
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %d is not a ChatResponse: %v: %s", i, err, l)
		}
		if final != nil {
			t.Fatalf("line after the done line: %s", l)
		}
		content.WriteString(r.Message.Content)
		if r.Done {
			final = &r
		}
	}
	return content.String(), final
}

func TestChatStreamsNDJSON(t *testing.T) {
	s := New(t, WithChunkSize(5))
	resp, lines, err := postChat(t, s, chatRequest(true))
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type = %q", ct)
	}
	content, final := decodeStream(t, lines)
	if want := Answer(chatRequest(true)); content != want {
		t.Errorf("content = %s, want %s", content, want)
	}
	if final == nil || final.DoneReason != "stop" || final.EvalCount != len(lines)-1 || final.PromptEvalCount == 0 {
		t.Errorf("final line = %+v", final)
	}
	if len(lines) < 10 {
		t.Errorf("%d lines, want the answer in many 5-byte pieces", len(lines))
	}
	if s.Requests() != 1 || s.LastChat().Messages[1].Content != "write an example" {
		t.Errorf("requests %d, last %+v", s.Requests(), s.LastChat())
	}
}

func TestChatWithOllamaClient(t *testing.T) {
	s := New(t)
	u, _ := url.Parse(s.URL)
	client := api.NewClient(u, http.DefaultClient)
	req := chatRequest(true)
	req.Logprobs, req.TopLogprobs = true, 3
	var content strings.Builder
	var last api.ChatResponse
	err := client.Chat(context.Background(), &req, func(r api.ChatResponse) error {
		content.WriteString(r.Message.Content)
		if !r.Done && (len(r.Logprobs) != 1 || len(r.Logprobs[0].TopLogprobs) != 3) {
			t.Errorf("logprobs = %+v", r.Logprobs)
		}
		last = r
		return nil
	})
	if err != nil || !last.Done || content.String() != Answer(req) {
		t.Errorf("Chat: %v, done %v, content %s", err, last.Done, content.String())
	}

	noStream := chatRequest(false)
	err = client.Chat(context.Background(), &noStream, func(r api.ChatResponse) error {
		if !r.Done || r.Message.Content != Answer(noStream) {
			t.Errorf("non-streamed answer = %+v", r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestShowAndTags(t *testing.T) {
	s := New(t, WithModel("llama3.2:latest", "sha256:abc", "Q8_0"))
	u, _ := url.Parse(s.URL)
	client := api.NewClient(u, http.DefaultClient)
	ctx := context.Background()
	list, err := client.List(ctx)
	if err != nil || len(list.Models) != 1 || list.Models[0].Digest != "sha256:abc" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	show, err := client.Show(ctx, &api.ShowRequest{Model: "llama3.2"})
	if err != nil || show.Details.QuantizationLevel != "Q8_0" || show.Details.Family == "" {
		t.Fatalf("Show = %+v, %v", show, err)
	}
	_, err = client.Show(ctx, &api.ShowRequest{Model: "nope:1b"})
	var se api.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusNotFound || se.ErrorMessage != "model 'nope:1b' not found" {
		t.Fatalf("Show of an unknown model: %v", err)
	}
	if v, err := client.Version(ctx); err != nil || v == "" {
		t.Errorf("Version = %q, %v", v, err)
	}
	if err := client.Heartbeat(ctx); err != nil {
		t.Errorf("Heartbeat: %v", err)
	}
}

func TestFaultsApplyToSuccessiveCalls(t *testing.T) {
	s := New(t, WithFaults(Fault500, Fault429, FaultModelNotFound, FaultNone, FaultNotJSON))
	want := []int{500, 429, 404, 200, 200, 200}
	for i, code := range want {
		resp, lines, _ := postChat(t, s, chatRequest(true))
		if resp.StatusCode != code {
			t.Errorf("call %d: status %d, want %d", i, resp.StatusCode, code)
		}
		if code != 200 {
			var e struct{ Error string }
			if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &e) != nil || e.Error == "" {
				t.Errorf("call %d: error body %q", i, lines)
			}
			continue
		}
		content, final := decodeStream(t, lines)
		isJSON := json.Valid([]byte(content))
		if final == nil || isJSON == (i == 4) {
			t.Errorf("call %d: content %q (final %v)", i, content, final != nil)
		}
	}
	if s.Requests() != len(want) {
		t.Errorf("requests = %d", s.Requests())
	}
}

func TestMidStreamFaults(t *testing.T) {
	t.Run("malformed line", func(t *testing.T) {
		s := New(t, WithFaults(FaultMalformedJSON))
		_, lines, _ := postChat(t, s, chatRequest(true))
		last := lines[len(lines)-1]
		if len(lines) < 2 || json.Valid([]byte(last)) {
			t.Fatalf("lines = %q, want a stream ending in a malformed line", lines)
		}
		decodeStream(t, lines[:len(lines)-1])
	})
	t.Run("drop", func(t *testing.T) {
		s := New(t, WithFaults(FaultDrop))
		_, lines, err := postChat(t, s, chatRequest(true))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("read error = %v, want unexpected EOF", err)
		}
		if _, final := decodeStream(t, lines); final != nil || len(lines) == 0 {
			t.Errorf("%d lines, final %v: want some lines and no done line", len(lines), final)
		}
	})
	t.Run("stall", func(t *testing.T) {
		s := New(t, WithFaults(FaultStall))
		body, _ := json.Marshal(chatRequest(true))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		hreq, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/api/chat", bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(hreq)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		n := 0
		for sc.Scan() {
			n++
			if strings.Contains(sc.Text(), `"done":true`) {
				t.Fatal("stalled stream sent its done line")
			}
		}
		if n == 0 || !errors.Is(sc.Err(), context.DeadlineExceeded) {
			t.Errorf("%d lines, read error %v: want lines, then a stall", n, sc.Err())
		}
	})
	t.Run("close releases a stall", func(t *testing.T) {
		s := New(t, WithFaults(FaultStall))
		go func() {
			time.Sleep(100 * time.Millisecond)
			s.Close()
		}()
		done := make(chan struct{})
		go func() {
			defer close(done)
			body, _ := json.Marshal(chatRequest(true))
			resp, err := http.Post(s.URL+"/api/chat", "application/json", bytes.NewReader(body))
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not end a stalled stream")
		}
	})
}

func TestContentFaults(t *testing.T) {
	normal := map[string]any{}
	if err := json.Unmarshal([]byte(Answer(chatRequest(true))), &normal); err != nil {
		t.Fatal(err)
	}
	t.Run("schema break", func(t *testing.T) {
		s := New(t, WithFaults(FaultSchemaBreak))
		_, lines, _ := postChat(t, s, chatRequest(true))
		content, _ := decodeStream(t, lines)
		var got map[string]any
		if err := json.Unmarshal([]byte(content), &got); err != nil {
			t.Fatal(err)
		}
		if got["unexpected_field"] == nil || got["input"] != normal["input"] ||
			!equalJSON(got["target"], map[string]any{"unexpected_field": "schema break"}) {
			t.Errorf("content = %s", content)
		}
	})
	t.Run("hallucinate", func(t *testing.T) {
		s := New(t, WithFaults(FaultHallucinate))
		_, lines, _ := postChat(t, s, chatRequest(true))
		content, _ := decodeStream(t, lines)
		var got map[string]any
		if err := json.Unmarshal([]byte(content), &got); err != nil {
			t.Fatal(err)
		}
		if got["input"] != normal["input"] || equalJSON(got["target"], normal["target"]) {
			t.Errorf("content = %s, normal %v", content, normal)
		}
		target, _ := got["target"].(map[string]any)
		if target["intent"] != "alarm_set" || target["count"] != 9.0 || target["code"] != "INV-999999" {
			t.Errorf("hallucinated target %v is not the schema's alternative", target)
		}
	})
}

func TestFromSchemaFollowsTheSchema(t *testing.T) {
	got, err := FromSchema(json.RawMessage(testFormat), false)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"input":"` + inputs[0] + `","target":{"code":"INV-000000","count":2,"intent":"timer_set","when":"2026-03-14"}}`
	if got != want {
		t.Errorf("FromSchema = %s\nwant %s", got, want)
	}
	for _, p := range []string{`^[1-5A-E]$`, `^[a-z][a-z0-9_]{2,20}\.(pdf|docx|xlsx|png|jpg)$`, `^E[0-9]{3}$`} {
		for _, alt := range []bool{false, true} {
			if s, ok := fromPattern(p, alt); !ok {
				t.Errorf("fromPattern(%q, %v) = %q, false", p, alt, s)
			}
		}
	}
}
