package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/review"
)

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// env is a server over a MemoryGate with one queue "q1" and two reviewers.
type env struct {
	t      *testing.T
	h      http.Handler
	gate   *MemoryGate
	revs   *review.Reviewers
	tokens map[string]string // reviewer -> token
}

// testRecords returns n records r1..rn.
func testRecords(n int) []datasets.Record {
	out := make([]datasets.Record, n)
	for i := range out {
		out[i] = datasets.Record{ID: fmt.Sprintf("r%d", i+1), Task: "edgeintent", Split: "test", Cell: "timer_set",
			Input: fmt.Sprintf("set a timer for %d minutes", i+1), Target: fmt.Sprintf(`{"intent":"timer_set","slots":{"minutes":%d}}`, i+1)}
	}
	return out
}

// errNoIntent is what the test CheckFunc refuses an edit with.
var errNoIntent = errors.New("target: missing property 'intent'")

// rejectNoIntent is a CheckFunc standing in for the validator: a target
// without "intent" breaks the schema.
func rejectNoIntent(_ datasets.Record, _ string, target json.RawMessage) error {
	var m map[string]any
	if err := json.Unmarshal(target, &m); err != nil || m["intent"] == nil {
		return errNoIntent
	}
	return nil
}

func newEnv(t *testing.T, recs []datasets.Record, guidelines string) *env {
	t.Helper()
	return newEnvWith(t, recs, guidelines, review.Config{})
}

// newEnvConfig is newEnv with a queue configuration.
func newEnvConfig(t *testing.T, recs []datasets.Record, cfg review.Config) *env {
	t.Helper()
	return newEnvWith(t, recs, "", cfg)
}

func newEnvWith(t *testing.T, recs []datasets.Record, guidelines string, cfg review.Config) *env {
	t.Helper()
	clk := &clock{t: t0}
	gate := NewMemoryGate(clk.now, rejectNoIntent)
	info := QueueInfo{ID: "q1", Task: "edgeintent", Version: "v1", Policy: "10% stratified", Guidelines: guidelines}
	if err := gate.Add(info, review.NewQueue(cfg, recs)); err != nil {
		t.Fatal(err)
	}
	revs, err := review.OpenReviewers(filepath.Join(t.TempDir(), "reviewers.json"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, gate: gate, revs: revs, tokens: map[string]string{}}
	for _, name := range []string{"alice", "bob"} {
		if e.tokens[name], err = revs.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	e.h = NewServer(Config{Gate: gate, Reviewers: revs, Now: clk.now})
	return e
}

// user is a logged-in browser.
type user struct {
	e      *env
	cookie *http.Cookie
	csrf   string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// login logs a reviewer in and reads the CSRF token off the index page.
func (e *env) login(name string) *user {
	e.t.Helper()
	rr := e.do(httptest.NewRequest("POST", "/login", formBody(url.Values{"token": {e.tokens[name]}})), nil)
	if rr.Code != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d %s", name, rr.Code, rr.Body)
	}
	u := &user{e: e, cookie: rr.Result().Cookies()[0]}
	body := u.get("/").Body.String()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no csrf token in %s", body)
	}
	u.csrf = m[1]
	return u
}

func formBody(v url.Values) io.Reader { return strings.NewReader(v.Encode()) }

// do serves r, with cookie when given; form bodies get their content type.
func (e *env) do(r *http.Request, cookie *http.Cookie) *httptest.ResponseRecorder {
	if r.Method == "POST" && r.Header.Get("Content-Type") == "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	rr := httptest.NewRecorder()
	e.h.ServeHTTP(rr, r)
	return rr
}

func (u *user) get(path string) *httptest.ResponseRecorder {
	return u.e.do(httptest.NewRequest("GET", path, nil), u.cookie)
}

// post posts a form; the session's CSRF token is added unless v has one.
func (u *user) post(path string, v url.Values) *httptest.ResponseRecorder {
	if _, ok := v["csrf"]; !ok {
		v.Set("csrf", u.csrf)
	}
	return u.e.do(httptest.NewRequest("POST", path, formBody(v)), u.cookie)
}

// approve is the approve form of a record with a given nonce.
func approve(id, nonce string) url.Values {
	return url.Values{"record_id": {id}, "request_id": {nonce}, "kind": {"approve"}}
}

func (e *env) progress() review.Progress {
	e.t.Helper()
	p, _, err := e.gate.Progress(e.t.Context(), "q1")
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func TestUnauthenticated(t *testing.T) {
	e := newEnv(t, testRecords(2), "")
	bogus := &http.Cookie{Name: cookieName, Value: "0123"}
	tests := []struct {
		name, method, path, accept string
		cookie                     *http.Cookie
		want                       int
	}{
		{"decide form", "POST", "/q/q1/decide", "", nil, 401},
		{"decide JSON", "POST", "/q/q1/decide", "application/json", nil, 401},
		{"decide forged cookie", "POST", "/q/q1/decide", "", bogus, 401},
		{"undo", "POST", "/q/q1/undo", "", nil, 401},
		{"logout", "POST", "/logout", "", nil, 401},
		{"index JSON", "GET", "/", "application/json", nil, 401},
		{"index HTML redirects", "GET", "/", "", nil, 303},
		{"focus HTML redirects", "GET", "/q/q1", "", nil, 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, formBody(approve("r1", "n1")))
			if tt.accept != "" {
				r.Header.Set("Accept", tt.accept)
			}
			rr := e.do(r, tt.cookie)
			if rr.Code != tt.want {
				t.Fatalf("code = %d, want %d", rr.Code, tt.want)
			}
			if tt.want == 303 && rr.Header().Get("Location") != "/login" {
				t.Fatalf("Location = %q, want /login", rr.Header().Get("Location"))
			}
		})
	}
	if p := e.progress(); p.Decided != 0 || p.Leased != 0 {
		t.Fatalf("progress = %+v, want nothing decided or leased", p)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t, testRecords(1), "")
	for _, tok := range []string{"", "nope", strings.Repeat("0", 64), e.tokens["alice"] + "x"} {
		rr := e.do(httptest.NewRequest("POST", "/login", formBody(url.Values{"token": {tok}})), nil)
		if rr.Code != http.StatusUnauthorized || len(rr.Result().Cookies()) != 0 {
			t.Fatalf("token %q: code %d, cookies %v; want 401 and no cookie", tok, rr.Code, rr.Result().Cookies())
		}
		if !strings.Contains(rr.Body.String(), "unknown token") {
			t.Fatalf("token %q: body lacks the message: %s", tok, rr.Body)
		}
	}
	cross := httptest.NewRequest("POST", "/login", formBody(url.Values{"token": {e.tokens["alice"]}}))
	cross.Header.Set("Sec-Fetch-Site", "cross-site")
	if rr := e.do(cross, nil); rr.Code != http.StatusForbidden || len(rr.Result().Cookies()) != 0 {
		t.Fatalf("cross-site login: code %d, want 403 and no cookie", rr.Code)
	}
	rr := e.do(httptest.NewRequest("POST", "/login", formBody(url.Values{"token": {e.tokens["alice"]}})), nil)
	if rr.Code != http.StatusSeeOther {
		t.Fatalf("good token: code %d", rr.Code)
	}
	c := rr.Result().Cookies()[0]
	if c.Name != cookieName || len(c.Value) != 64 || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Value == e.tokens["alice"] {
		t.Fatalf("cookie = %+v", c)
	}
	home := e.do(httptest.NewRequest("GET", "/", nil), c)
	if home.Code != 200 || !strings.Contains(home.Body.String(), `<span class="who">alice</span>`) {
		t.Fatalf("home: %d %s", home.Code, home.Body)
	}
	// Logging out ends the server-side session: the old cookie no longer works.
	u := &user{e: e, cookie: c, csrf: csrfRE.FindStringSubmatch(home.Body.String())[1]}
	if rr := u.post("/logout", url.Values{}); rr.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", rr.Code)
	}
	if rr := u.post("/q/q1/decide", approve("r1", "n1")); rr.Code != http.StatusUnauthorized {
		t.Fatalf("after logout: %d, want 401", rr.Code)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, testRecords(2), "")
	u := e.login("alice")
	tests := []struct {
		name   string
		form   string // "-" leaves the field out
		header string
		want   int
	}{
		{"missing", "-", "", 403},
		{"empty", "", "", 403},
		{"wrong form field", strings.Repeat("a", 64), "", 403},
		{"wrong header", "-", strings.Repeat("b", 64), 403},
		{"prefix of the right one", u.csrf[:10], "", 403},
		{"right header", "-", u.csrf, 303},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := approve(fmt.Sprintf("r%d", i%2+1), fmt.Sprintf("nonce-%d", i))
			if tt.form != "-" {
				v.Set("csrf", tt.form)
			}
			r := httptest.NewRequest("POST", "/q/q1/decide", formBody(v))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.header != "" {
				r.Header.Set("X-CSRF-Token", tt.header)
			}
			if rr := e.do(r, u.cookie); rr.Code != tt.want {
				t.Fatalf("code = %d, want %d: %s", rr.Code, tt.want, rr.Body)
			}
		})
	}
	if got := e.progress().Decided; got != 1 {
		t.Fatalf("decided = %d, want 1 (only the request with the right token)", got)
	}
	if rr := u.post("/q/q1/undo", url.Values{"csrf": {"x"}}); rr.Code != 403 {
		t.Fatalf("undo with a wrong token: %d, want 403", rr.Code)
	}
	if rr := u.post("/logout", url.Values{"csrf": {""}}); rr.Code != 403 {
		t.Fatalf("logout without a token: %d, want 403", rr.Code)
	}
}

func TestDecideErrors(t *testing.T) {
	tests := []struct {
		name    string
		reviewr string
		form    url.Values
		want    int
		msg     string
	}{
		{"unknown record", "alice", approve("r404", "n1"), 404, `record &#34;r404&#34; is not in this review sample`},
		{"schema-breaking edit", "alice", url.Values{"record_id": {"r1"}, "request_id": {"n2"}, "kind": {"edit"},
			"edit_target": {`{"slots":{"minutes":3}}`}}, 422, "the edited record fails validation: " + "target: missing property &#39;intent&#39;"},
		{"reject without a reason", "alice", url.Values{"record_id": {"r1"}, "request_id": {"n3"}, "kind": {"reject"}}, 422, "a reject needs a reason"},
		{"leased by another reviewer", "bob", approve("r1", "n4"), 409, "record &#34;r1&#34; is leased by alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, testRecords(2), "")
			alice := e.login("alice")
			if rr := alice.get("/q/q1"); rr.Code != 200 || !strings.Contains(rr.Body.String(), `data-record="r1"`) {
				t.Fatalf("alice's lease: %d", rr.Code)
			}
			u := alice
			if tt.reviewr == "bob" {
				u = e.login("bob")
			}
			rr := u.post("/q/q1/decide", tt.form)
			if rr.Code != tt.want || !strings.Contains(rr.Body.String(), tt.msg) {
				t.Fatalf("code = %d, want %d with %q:\n%s", rr.Code, tt.want, tt.msg, rr.Body)
			}
			if e.progress().Decided != 0 {
				t.Fatal("a refused decision was applied")
			}
			// The same request as JSON gets the code and the raw message.
			tt.form.Set("request_id", tt.form.Get("request_id")+"-json")
			r := httptest.NewRequest("POST", "/q/q1/decide", formBody(tt.form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Accept", "application/json")
			r.Header.Set("X-CSRF-Token", u.csrf)
			rr = e.do(r, u.cookie)
			var body struct {
				Error string
				Code  int
			}
			if err := json.Unmarshal(rr.Body.Bytes(), &body); err != nil || rr.Code != tt.want || body.Code != tt.want {
				t.Fatalf("JSON: %d %s (%v)", rr.Code, rr.Body, err)
			}
		})
	}
}

func TestDoubleSubmitIsIdempotent(t *testing.T) {
	e := newEnv(t, testRecords(3), "")
	u := e.login("alice")
	u.get("/q/q1")
	for i := range 2 {
		if rr := u.post("/q/q1/decide", approve("r1", "same-nonce")); rr.Code != http.StatusSeeOther || rr.Header().Get("Location") != "/q/q1" {
			t.Fatalf("submit %d: %d %q", i, rr.Code, rr.Header().Get("Location"))
		}
	}
	var reviews, applied int
	if err := e.gate.Snapshot("q1", func(q *review.Queue) {
		for _, it := range q.Items {
			reviews += len(it.Reviews)
		}
		applied = len(q.Applied)
	}); err != nil {
		t.Fatal(err)
	}
	if reviews != 1 || applied != 1 || e.progress().PerReviewer["alice"] != 1 {
		t.Fatalf("reviews = %d, applied = %d, want 1 and 1", reviews, applied)
	}
	// A new nonce on the decided record is a real second decision: refused.
	if rr := u.post("/q/q1/decide", approve("r1", "other-nonce")); rr.Code != 409 {
		t.Fatalf("second decision: %d, want 409", rr.Code)
	}
}

func TestXSSIsEscaped(t *testing.T) {
	payloads := []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`}
	recs := []datasets.Record{{ID: "x1", Task: "edgejson", Split: "test", Cell: "c",
		Input:  "name " + payloads[0] + " and " + payloads[1],
		Target: fmt.Sprintf(`{"a":%q,"b":%q}`, payloads[0], payloads[1])}}
	e := newEnv(t, recs, "# Rules\n<script>alert(1)</script> **never** trust\n- <b>x</b>")
	u := e.login("alice")
	rr := u.get("/q/q1")
	body := rr.Body.String()
	if rr.Code != 200 || !strings.Contains(body, `data-record="x1"`) {
		t.Fatalf("focus: %d %s", rr.Code, body)
	}
	for _, bad := range []string{"<script>alert", "<img src=x", `"><img`, "<b>x</b>", "onerror=alert(1)>"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for _, good := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;",
		"<strong>never</strong>", "&lt;b&gt;x&lt;/b&gt;"} {
		if !strings.Contains(body, good) {
			t.Errorf("page lacks %q", good)
		}
	}
	for _, ext := range []string{"http://", "https://", "//cdn"} {
		if strings.Contains(body, ext) {
			t.Errorf("page refers to an external URL: %q", ext)
		}
	}
	if csp := rr.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
}

func TestFocusHighlightsAndProgress(t *testing.T) {
	e := newEnv(t, testRecords(5), "")
	u := e.login("alice")
	for i := 1; i <= 2; i++ {
		u.get("/q/q1")
		if rr := u.post("/q/q1/decide", approve(fmt.Sprintf("r%d", i), fmt.Sprintf("n%d", i))); rr.Code != 303 {
			t.Fatalf("approve r%d: %d", i, rr.Code)
		}
	}
	body := u.get("/q/q1").Body.String()
	for _, want := range []string{`data-record="r3"`, `set a timer for <mark>3</mark> minutes`,
		`<progress id="progress" value="2" max="5"></progress>`, "2 / 5 decided", `id="prev" href="/q/q1?id=r2"`,
		`name="record_id" value="r2"`} {
		if !strings.Contains(body, want) {
			t.Errorf("focus page lacks %q", want)
		}
	}
	// A queue the gate does not know is a 404 naming it, not a 500.
	if rr := u.get("/q/q9"); rr.Code != http.StatusNotFound || !strings.Contains(rr.Body.String(), "no review queue &#34;q9&#34;") {
		t.Errorf("GET /q/q9: %d %s", rr.Code, rr.Body)
	}
	index := u.get("/").Body.String()
	for _, want := range []string{`<progress value="2" max="5"></progress>`, "<li>alice: 2</li>", `href="/q/q1"`} {
		if !strings.Contains(index, want) {
			t.Errorf("index lacks %q:\n%s", want, index)
		}
	}
}

func TestUndoAndHistory(t *testing.T) {
	e := newEnv(t, testRecords(3), "")
	u := e.login("alice")
	u.get("/q/q1")
	u.post("/q/q1/decide", approve("r1", "n1"))
	prev := u.get("/q/q1?id=r1").Body.String()
	for _, want := range []string{`data-record="r1"`, "approved", `id="next" href="/q/q1"`, `id="undo-form"`} {
		if !strings.Contains(prev, want) {
			t.Errorf("previous view lacks %q", want)
		}
	}
	if strings.Contains(prev, `id="approve-form"`) {
		t.Error("a decided record offers the decision forms")
	}
	if rr := u.post("/q/q1/undo", url.Values{}); rr.Code != 303 {
		t.Fatalf("undo: %d %s", rr.Code, rr.Body)
	}
	if p := e.progress(); p.Decided != 0 {
		t.Fatalf("after undo: %+v", p)
	}
	if body := u.get("/q/q1").Body.String(); !strings.Contains(body, `data-record="r1"`) {
		t.Fatal("the undone record is not leased back")
	}
	if rr := u.post("/q/q1/undo", url.Values{}); rr.Code != 404 {
		t.Fatalf("undo with nothing to undo: %d, want 404", rr.Code)
	}
}

func TestDecideJSON(t *testing.T) {
	e := newEnv(t, testRecords(2), "")
	u := e.login("alice")
	body := `{"request_id":"j1","record_id":"r2","kind":"edit","edit_target":{"intent":"timer_set","slots":{"minutes":20}}}`
	r := httptest.NewRequest("POST", "/q/q1/decide", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-CSRF-Token", u.csrf)
	rr := e.do(r, u.cookie)
	var out review.Outcome
	if err := json.Unmarshal(rr.Body.Bytes(), &out); err != nil || rr.Code != 200 || out.Status != review.StatusEdited {
		t.Fatalf("JSON decide: %d %s", rr.Code, rr.Body)
	}
}

func TestStaticIsEmbedded(t *testing.T) {
	e := newEnv(t, nil, "")
	for _, p := range []string{"/static/app.js", "/static/app.css"} {
		rr := e.do(httptest.NewRequest("GET", p, nil), nil)
		if rr.Code != 200 || rr.Body.Len() == 0 {
			t.Errorf("%s: %d", p, rr.Code)
		}
	}
}
