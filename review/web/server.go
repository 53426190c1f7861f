package web

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cyclecore/mlmforge/review"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// maxBody bounds a POST body: the largest decision the review package
// accepts (review.MaxEditInputBytes + MaxEditTargetBytes + MaxNoteBytes),
// form-encoded at up to three bytes per byte, fits in it.
const maxBody = 3*(review.MaxEditInputBytes+review.MaxEditTargetBytes+review.MaxNoteBytes) + 4096

// Config configures the server.
type Config struct {
	// Gate reaches the review gates of the running dataset workflows.
	Gate Gate
	// Reviewers checks login tokens (and sees reviewers added, removed or
	// rotated while the server runs).
	Reviewers *review.Reviewers
	// Now is the clock of decisions and sessions (nil: time.Now).
	Now func() time.Time
	// SecureCookies marks the session cookie Secure; set it whenever the
	// server is reached over HTTPS (it is off for http://localhost).
	SecureCookies bool
	// Log receives server errors (nil: slog.Default()).
	Log *slog.Logger
}

// server holds the handlers' state.
type server struct {
	cfg      Config
	sessions sessions
	logins   loginLimiter
	pages    map[string]*template.Template
}

// NewServer returns the reviewer UI. Routes:
//
//	GET  /login, POST /login, POST /logout
//	GET  /                     queues with progress
//	GET  /q/{queue}            focus view of the leased record (?id= a given record)
//	POST /q/{queue}/decide     a decision (form or JSON)
//	POST /q/{queue}/undo       undo a decision (form or JSON)
//	GET  /static/...           embedded CSS and JavaScript
//
// It panics when cfg lacks a Gate or Reviewers.
func NewServer(cfg Config) http.Handler {
	if cfg.Gate == nil || cfg.Reviewers == nil {
		panic("web.NewServer: Config.Gate and Config.Reviewers are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &server{cfg: cfg, pages: map[string]*template.Template{}}
	funcs := template.FuncMap{"pct": func(f float64) float64 { return 100 * f }}
	for _, p := range []string{"login", "index", "focus", "error"} {
		s.pages[p] = template.Must(template.New(p).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html"))
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /q/{queue}", s.focusPage)
	mux.HandleFunc("POST /q/{queue}/decide", s.decide)
	mux.HandleFunc("POST /q/{queue}/undo", s.undo)
	// Cross-origin POSTs (Sec-Fetch-Site, Origin) are refused before any
	// handler runs: this covers the login form, which has no session and so
	// no CSRF token yet; the tokens still guard older browsers.
	return secureHeaders(http.NewCrossOriginProtection().Handler(mux))
}

// secureHeaders forbids anything but this origin's own scripts and styles,
// so even an escaping bug could not run injected script, and keeps pages
// out of frames and caches.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// page is the data of every template; each page uses what it needs.
type page struct {
	Title    string
	Reviewer string
	CSRF     string
	Error    string
	Message  string

	Queues []queueRow // index

	Queue      QueueInfo // focus
	Guidelines template.HTML
	Progress   review.Progress
	Summary    review.Summary
	Focus      *focusData
	PrevURL    string
	NextURL    string
	UndoID     string
	// UndoNonce is the undo form's request id: a double submit undoes once.
	UndoNonce string
}

// queueRow is a queue on the index page.
type queueRow struct {
	QueueInfo
	PerReviewer []reviewerCount
}

// reviewerCount is one reviewer's number of decisions in force.
type reviewerCount struct {
	Name  string
	Count int
}

// perReviewer sorts a PerReviewer map by name.
func perReviewer(m map[string]int) []reviewerCount {
	out := make([]reviewerCount, 0, len(m))
	for k, v := range m {
		out = append(out, reviewerCount{k, v})
	}
	slices.SortFunc(out, func(a, b reviewerCount) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// render executes a page with status code.
func (s *server) render(w http.ResponseWriter, name string, code int, p page) {
	var b strings.Builder
	if err := s.pages[name].ExecuteTemplate(&b, "layout", p); err != nil {
		s.cfg.Log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(b.String()))
}

// wantsJSON reports whether the client speaks JSON rather than HTML.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") ||
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
}

// writeJSON writes v with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers an error in the client's format; msg is shown to the reviewer.
func (s *server) fail(w http.ResponseWriter, r *http.Request, sv *sessionView, code int, msg string) {
	if wantsJSON(r) {
		writeJSON(w, code, map[string]any{"error": msg, "code": code})
		return
	}
	p := page{Title: http.StatusText(code), Error: msg}
	if sv != nil {
		p.Reviewer, p.CSRF = sv.reviewer, sv.csrf
	}
	s.render(w, "error", code, p)
}

// failErr maps a gate error: a *review.DecisionError keeps its code and
// message; anything else is logged and shown as a 500 without details.
func (s *server) failErr(w http.ResponseWriter, r *http.Request, sv *sessionView, err error) {
	var de *review.DecisionError
	if errors.As(err, &de) {
		s.fail(w, r, sv, de.Code, de.Msg)
		return
	}
	s.cfg.Log.Error("review gate", "path", r.URL.Path, "err", err)
	s.fail(w, r, sv, http.StatusInternalServerError, "the review service failed; try again in a moment")
}

// session returns the request's session, or answers 401 (JSON, or HTML
// POSTs) or redirects to the login page (HTML GETs) and returns false.
func (s *server) session(w http.ResponseWriter, r *http.Request) (sessionView, bool) {
	sv, ok := s.sessions.get(r, s.cfg.Now())
	if ok {
		return sv, true
	}
	if r.Method == http.MethodGet && !wantsJSON(r) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return sv, false
	}
	s.fail(w, r, nil, http.StatusUnauthorized, "log in first")
	return sv, false
}

// loginForm shows the login form, or sends a logged-in reviewer home.
func (s *server) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.sessions.get(r, s.cfg.Now()); ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, "login", http.StatusOK, page{Title: "Log in"})
}

// login trades a reviewer token for a session cookie. A JSON client gets
// {"reviewer", "csrf"} back instead of a redirect. Failed logins are logged
// with the client address and limited per address (loginLimiter).
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	now, addr := s.cfg.Now(), clientAddr(r)
	if wait := s.logins.blocked(addr, now); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		s.loginFailed(w, r, http.StatusTooManyRequests, fmt.Sprintf("too many failed logins from %s; try again in %s", addr, wait.Round(time.Second)))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		s.loginFailed(w, r, http.StatusBadRequest, "could not read the form")
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	name, ok := s.cfg.Reviewers.Check(token)
	if !ok {
		n := s.logins.fail(addr, now)
		s.cfg.Log.Warn("review login failed", "remote", addr, "failures", n)
		s.loginFailed(w, r, http.StatusUnauthorized, "unknown token")
		return
	}
	s.logins.succeed(addr)
	if !s.hasKey(name) {
		s.loginFailed(w, r, http.StatusUnauthorized, fmt.Sprintf(
			"reviewer %s was added before requests were signed: run mlmforge review rotate-token %s for a new token", name, name))
		return
	}
	id, sess := s.sessions.create(review.NewSigner(name, token), now)
	s.cfg.Log.Info("review login", "reviewer", name, "remote", addr)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", Expires: now.Add(sessionTTL),
		MaxAge: int(sessionTTL / time.Second), HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"reviewer": name, "csrf": sess.csrf})
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// hasKey reports whether a reviewer's entry carries a public key.
func (s *server) hasKey(name string) bool {
	keys, err := s.cfg.Reviewers.Keys()
	return err == nil && slices.ContainsFunc(keys, func(k review.ReviewerKey) bool { return k.Name == name })
}

// loginFailed answers a failed login in the client's format.
func (s *server) loginFailed(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if wantsJSON(r) {
		writeJSON(w, code, map[string]any{"error": msg, "code": code})
		return
	}
	s.render(w, "login", code, page{Title: "Log in", Error: msg})
}

// logout ends the session.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.session(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	_ = r.ParseForm()
	if !csrfOK(r, sv.csrf, r.PostForm.Get("csrf")) {
		s.fail(w, r, &sv, http.StatusForbidden, "missing or wrong CSRF token; reload the page")
		return
	}
	s.sessions.delete(sv.id)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// index lists the queues with their progress.
func (s *server) index(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.session(w, r)
	if !ok {
		return
	}
	qs, err := s.cfg.Gate.Queues(r.Context())
	if err != nil {
		s.failErr(w, r, &sv, err)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, qs)
		return
	}
	rows := make([]queueRow, len(qs))
	for i, q := range qs {
		rows[i] = queueRow{QueueInfo: q, PerReviewer: perReviewer(q.Progress.PerReviewer)}
	}
	s.render(w, "index", http.StatusOK, page{Title: "Queues", Reviewer: sv.reviewer, CSRF: sv.csrf, Queues: rows})
}
