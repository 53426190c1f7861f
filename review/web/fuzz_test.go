package web

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzDecideRequest sends arbitrary bodies, as a form or as JSON, to the
// reviewer UI's decide, undo and login endpoints with a logged-in session and
// a valid CSRF token. The server must not panic or answer 5xx; a refused
// request changes nothing in the queue; an accepted one decides at most one
// record.
func FuzzDecideRequest(f *testing.F) {
	f.Add([]byte(approve("r1", "n1").Encode()), uint8(0))
	f.Add([]byte(url.Values{"record_id": {"r2"}, "request_id": {"n2"}, "kind": {"edit"}, "edit_input": {"set a timer\r\nplease"},
		"edit_target": {`{"intent":"timer_set","slots":{"minutes":20}}`}}.Encode()), uint8(0))
	f.Add([]byte(url.Values{"record_id": {"r1"}, "request_id": {"n3"}, "kind": {"reject"}, "reason": {"wrong_label"}, "note": {"why"}}.Encode()), uint8(0))
	f.Add([]byte(`{"request_id":"j1","record_id":"r2","kind":"edit","edit_target":{"intent":"timer_set","slots":{"minutes":20}}}`), uint8(1))
	f.Add([]byte(`{"request_id":"j2","record_id":"r1","kind":"reject","reason":"other","note":"\u0000"}`), uint8(1))
	f.Add([]byte(`{"record_id":"r1"}`), uint8(3))
	f.Add([]byte(`record_id=r1`), uint8(2))
	f.Add([]byte(`token=nope`), uint8(4))
	f.Add([]byte("%zz&&==;record_id=%00"), uint8(0))
	f.Fuzz(func(t *testing.T, body []byte, mode uint8) {
		e := newEnv(t, testRecords(3), "")
		u := e.login("alice")
		before := e.progress()
		path := "/q/q1/decide"
		switch mode % 5 {
		case 2, 3:
			path = "/q/q1/undo"
		case 4:
			path = "/login"
		}
		r := httptest.NewRequest("POST", path, bytes.NewReader(body))
		if mode%2 == 1 {
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("X-CSRF-Token", u.csrf)
		} else {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("X-CSRF-Token", u.csrf)
		}
		rr := e.do(r, u.cookie)
		if rr.Code >= 500 {
			t.Fatalf("%s: %d %s", path, rr.Code, rr.Body)
		}
		after := e.progress()
		if after.Sampled != before.Sampled {
			t.Fatalf("sample size changed: %+v -> %+v", before, after)
		}
		switch {
		case path == "/q/q1/decide" && (rr.Code == http.StatusOK || rr.Code == http.StatusSeeOther):
			if after.Decided > before.Decided+1 {
				t.Fatalf("one request decided %d records", after.Decided-before.Decided)
			}
		case path == "/q/q1/undo":
			// Nothing was decided before, so there is nothing to undo.
			if after.Decided != before.Decided {
				t.Fatalf("undo with no decision changed the queue: %+v -> %+v", before, after)
			}
		case rr.Code >= 400 && after.Decided != before.Decided:
			t.Fatalf("refused request (%d) changed the queue: %+v -> %+v", rr.Code, before, after)
		}
	})
}
