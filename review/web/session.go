package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/cyclecore/mlmforge/review"
)

// Session settings.
const (
	// cookieName names the session cookie.
	cookieName = "mlmforge_review"
	// sessionTTL is how long a login lasts: a working day, so a reviewer
	// logs in once per day and a forgotten browser does not stay in forever.
	sessionTTL = 12 * time.Hour
	// historyCap bounds the per-queue list of decided records kept for "k".
	historyCap = 200
)

// session is a logged-in reviewer, held server side; the cookie carries
// only its random id.
type session struct {
	reviewer string
	// signer signs the reviewer's requests to the gates; its key derives
	// from the token he logged in with and lives only in this process.
	signer  review.Signer
	csrf    string
	expires time.Time
	// history lists, per queue, the records this reviewer decided in this
	// session, oldest first: what "previous" (k) walks back through.
	history map[string][]string
}

// sessions is the server-side session map.
type sessions struct {
	mu sync.Mutex
	m  map[string]*session
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms (Go 1.24+ panics itself).
		panic("crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// create starts a session for signer's reviewer and drops expired ones.
func (s *sessions) create(signer review.Signer, now time.Time) (id string, sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*session{}
	}
	for k, v := range s.m {
		if !now.Before(v.expires) {
			delete(s.m, k)
		}
	}
	id = randomHex(32)
	sess = &session{reviewer: signer.Reviewer, signer: signer, csrf: randomHex(32), expires: now.Add(sessionTTL),
		history: map[string][]string{}}
	s.m[id] = sess
	return id, sess
}

// sessionView is a copy of a session's fields, safe to use without the lock.
type sessionView struct {
	id       string
	reviewer string
	signer   review.Signer
	csrf     string
	history  map[string][]string
}

// get returns the live session of a request.
func (s *sessions) get(r *http.Request, now time.Time) (sessionView, bool) {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return sessionView{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.m[c.Value]
	if !ok {
		return sessionView{}, false
	}
	if !now.Before(sess.expires) {
		delete(s.m, c.Value)
		return sessionView{}, false
	}
	h := make(map[string][]string, len(sess.history))
	for k, v := range sess.history {
		h[k] = slices.Clone(v)
	}
	return sessionView{id: c.Value, reviewer: sess.reviewer, signer: sess.signer, csrf: sess.csrf, history: h}, true
}

// delete ends a session.
func (s *sessions) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// pushHistory records that the session's reviewer decided recordID.
func (s *sessions) pushHistory(id, queue, recordID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.m[id]
	if !ok {
		return
	}
	h := slices.DeleteFunc(sess.history[queue], func(x string) bool { return x == recordID })
	h = append(h, recordID)
	if len(h) > historyCap {
		h = h[len(h)-historyCap:]
	}
	sess.history[queue] = h
}

// dropHistory forgets recordID after an undo.
func (s *sessions) dropHistory(id, queue, recordID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess, ok := s.m[id]; ok {
		sess.history[queue] = slices.DeleteFunc(sess.history[queue], func(x string) bool { return x == recordID })
	}
}

// csrfOK compares a request's CSRF token (X-CSRF-Token header, else the
// csrf form field) with the session's in constant time.
func csrfOK(r *http.Request, want, formValue string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = formValue
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
