package web

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/review"
)

// postJSON posts a JSON body with the session's CSRF header.
func (u *user) postJSON(path string, body any) *httptest.ResponseRecorder {
	b, _ := json.Marshal(body)
	r := httptest.NewRequest("POST", path, bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-CSRF-Token", u.csrf)
	return u.e.do(r, u.cookie)
}

// TestBoundedFields: an oversized note, edit or request id gets a clear
// 413 naming the field, an oversized body a 413, and nothing reaches the gate.
func TestBoundedFields(t *testing.T) {
	e := newEnv(t, testRecords(2), "")
	u := e.login("alice")
	u.get("/q/q1")
	tests := []struct {
		name string
		body map[string]any
		frag string
	}{
		{"note", map[string]any{"record_id": "r1", "request_id": "n1", "kind": "reject", "reason": "other",
			"note": strings.Repeat("n", review.MaxNoteBytes+1)}, "note is"},
		{"request id", map[string]any{"record_id": "r1", "request_id": strings.Repeat("i", 200), "kind": "approve"}, "request_id is"},
		{"edit input", map[string]any{"record_id": "r1", "request_id": "n2", "kind": "edit",
			"edit_input": strings.Repeat("i", review.MaxEditInputBytes+1)}, "edit_input is"},
		{"body", map[string]any{"record_id": "r1", "request_id": "n3", "kind": "reject", "reason": "other",
			"note": strings.Repeat("n", 2*maxBody)}, "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rr := u.postJSON("/q/q1/decide", tc.body)
			if rr.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rr.Body.String(), tc.frag) {
				t.Fatalf("code %d %s, want 413 with %q", rr.Code, rr.Body, tc.frag)
			}
		})
	}
	if p := e.progress(); p.Decided != 0 {
		t.Fatalf("progress %+v: an oversized decision was applied", p)
	}
	ok := u.postJSON("/q/q1/decide", map[string]any{"record_id": "r1", "request_id": "n9", "kind": "reject", "reason": "other",
		"note": strings.Repeat("n", review.MaxNoteBytes)})
	if ok.Code != 200 {
		t.Fatalf("the largest allowed note: %d %s", ok.Code, ok.Body)
	}
}

// TestLoginLimitAndLog: failed logins are logged with the client address
// and limited per address; a JSON login answers the CSRF token.
func TestLoginLimitAndLog(t *testing.T) {
	e := newEnv(t, testRecords(1), "")
	var logs bytes.Buffer
	clk := &clock{t: t0}
	e.h = NewServer(Config{Gate: e.gate, Reviewers: e.revs, Now: clk.now, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	try := func(tok, addr string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/login", formBody(url.Values{"token": {tok}}))
		r.RemoteAddr = addr + ":5555"
		r.Header.Set("Accept", "application/json")
		return e.do(r, nil)
	}
	for i := 0; i < loginFailures; i++ {
		if rr := try("bad", "192.0.2.7"); rr.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, rr.Code)
		}
	}
	if !strings.Contains(logs.String(), "review login failed") || !strings.Contains(logs.String(), "192.0.2.7") {
		t.Fatalf("failed logins not logged with the address:\n%s", logs.String())
	}
	rr := try(e.tokens["alice"], "192.0.2.7")
	if rr.Code != http.StatusTooManyRequests || rr.Header().Get("Retry-After") == "" {
		t.Fatalf("after %d failures: %d, want 429 with Retry-After", loginFailures, rr.Code)
	}
	if rr := try(e.tokens["alice"], "192.0.2.8"); rr.Code != http.StatusOK {
		t.Fatalf("another address is blocked too: %d", rr.Code)
	}
	clk.mu.Lock()
	clk.t = clk.t.Add(loginWindow)
	clk.mu.Unlock()
	rr = try(e.tokens["alice"], "192.0.2.7")
	var body struct{ Reviewer, CSRF string }
	if rr.Code != http.StatusOK || json.Unmarshal(rr.Body.Bytes(), &body) != nil || body.Reviewer != "alice" || len(body.CSRF) != 64 {
		t.Fatalf("after the window: %d %s, want a JSON login with the CSRF token", rr.Code, rr.Body)
	}
}

// TestEditDiffShown: once a record is decided, its edit's diff shows on the
// record's view (and to an adjudicator); a second reviewer deciding the same
// record does not see the first's decision.
func TestEditDiffShown(t *testing.T) {
	e := newEnvConfig(t, testRecords(1), review.Config{TwoReviewers: true})
	alice, bob := e.login("alice"), e.login("bob")
	alice.get("/q/q1")
	rr := alice.postJSON("/q/q1/decide", map[string]any{"record_id": "r1", "request_id": "a1", "kind": "edit",
		"edit_input": "set a timer for one minute please"})
	if rr.Code != 200 {
		t.Fatalf("edit: %d %s", rr.Code, rr.Body)
	}
	if body := bob.get("/q/q1").Body.String(); strings.Contains(body, "<ins>") || strings.Contains(body, "alice</strong>") {
		t.Fatalf("the second reviewer sees the first's edit:\n%s", body)
	}
	if rr := bob.postJSON("/q/q1/decide", map[string]any{"record_id": "r1", "request_id": "b1", "kind": "approve"}); rr.Code != 200 {
		t.Fatalf("bob: %d %s", rr.Code, rr.Body)
	}
	body := bob.get("/q/q1?id=r1").Body.String()
	for _, want := range []string{"needs_adjudication", "<del>1</del>", "<ins>one</ins>", "<ins>minute please</ins>"} {
		if !strings.Contains(body, want) {
			t.Fatalf("adjudication view lacks %q:\n%s", want, body)
		}
	}
}

// TestUndoRequestID: a double submit of one undo form undoes once.
func TestUndoRequestID(t *testing.T) {
	e := newEnv(t, testRecords(2), "")
	u := e.login("alice")
	u.get("/q/q1")
	if rr := u.post("/q/q1/decide", approve("r1", "n1")); rr.Code != http.StatusSeeOther {
		t.Fatalf("approve: %d", rr.Code)
	}
	undo := url.Values{"record_id": {"r1"}, "request_id": {"u1"}}
	if rr := u.post("/q/q1/undo", undo); rr.Code != http.StatusSeeOther {
		t.Fatalf("undo: %d %s", rr.Code, rr.Body)
	}
	if rr := u.post("/q/q1/decide", approve("r1", "n2")); rr.Code != http.StatusSeeOther {
		t.Fatalf("approve again: %d %s", rr.Code, rr.Body)
	}
	if rr := u.post("/q/q1/undo", undo); rr.Code != http.StatusSeeOther {
		t.Fatalf("repeated undo: %d %s", rr.Code, rr.Body)
	}
	if p := e.progress(); p.Decided != 1 {
		t.Fatalf("progress %+v: the repeated undo withdrew the new decision", p)
	}
}
