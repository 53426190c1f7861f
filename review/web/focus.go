package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/review"
)

// focusData is the record shown in the focus view.
type focusData struct {
	Record       datasets.Record
	Status       string
	Segments     []Segment
	TargetPretty string
	// Open is set when the reviewer may decide the record: it is his lease,
	// or an open record he has not decided.
	Open bool
	// EditInput and EditTarget prefill the edit form (the reviewer's own
	// text after a refused edit).
	EditInput  string
	EditTarget string
	// Nonces are the request ids of the approve, reject and edit forms: a
	// double submit of one form repeats its request id, so it is applied once.
	NonceApprove, NonceReject, NonceEdit string
	Reasons                              []string
	Reason, Note                         string
	// Decisions are the decisions in force, shown once the record is final
	// or awaits adjudication (a second reviewer decides without seeing the
	// first), or when they are the viewer's own, with what each edit changed.
	Decisions []decisionView
}

// decisionView is a decision on the focus view, an edit with its diff.
type decisionView struct {
	Reviewer string          `json:"reviewer"`
	Kind     review.Kind     `json:"kind"`
	Reason   string          `json:"reason,omitempty"`
	Note     string          `json:"note,omitempty"`
	Diff     review.EditDiff `json:"diff"`
}

// shownDecisions picks the decisions a viewer may see and diffs their edits.
func shownDecisions(view review.RecordView, viewer string) []decisionView {
	open := view.Status == review.StatusPending || view.Status == review.StatusPendingSecond
	var out []decisionView
	for _, d := range view.Decisions {
		if open && d.Reviewer != viewer {
			continue
		}
		out = append(out, decisionView{Reviewer: d.Reviewer, Kind: d.Kind, Reason: d.Reason, Note: d.Note,
			Diff: review.DiffEdit(view.Record, d)})
	}
	return out
}

// focusReq says what the focus view shows.
type focusReq struct {
	queue string
	id    string // "" for the reviewer's lease
	code  int    // HTTP status (an error's code after a refused POST)
	err   string // message shown to the reviewer
	keep  *decideRequest
}

// focusPage serves GET /q/{queue}[?id=...].
func (s *server) focusPage(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.session(w, r)
	if !ok {
		return
	}
	s.focus(w, r, sv, focusReq{queue: r.PathValue("queue"), id: r.URL.Query().Get("id"), code: http.StatusOK})
}

// queueURL is the focus view URL of a queue, or of one record in it.
func queueURL(queue, id string) string {
	u := "/q/" + url.PathEscape(queue)
	if id != "" {
		u += "?id=" + url.QueryEscape(id)
	}
	return u
}

// focus renders the focus view: the given record, or the reviewer's lease.
func (s *server) focus(w http.ResponseWriter, r *http.Request, sv sessionView, fr focusReq) {
	ctx := r.Context()
	qi, err := s.cfg.Gate.Info(ctx, fr.queue)
	if err != nil {
		if de := (*review.DecisionError)(nil); errors.As(err, &de) && de.Code == http.StatusNotFound {
			err = &review.DecisionError{Code: http.StatusNotFound, Msg: fmt.Sprintf("no review queue %q", fr.queue)}
		}
		s.failErr(w, r, &sv, err)
		return
	}
	hist := sv.history[fr.queue]
	pos := slices.Index(hist, fr.id)
	var rec *datasets.Record
	view := review.RecordView{Status: review.StatusPending}
	if fr.id == "" {
		rec, err = s.cfg.Gate.Lease(ctx, fr.queue, sv.signer)
		if errors.Is(err, review.ErrQueueEmpty) {
			rec, err = nil, nil
		}
		if rec != nil {
			view.Record = *rec
		}
	} else if view, err = s.cfg.Gate.Record(ctx, fr.queue, fr.id); err == nil {
		rec = &view.Record
	}
	if err != nil {
		s.failErr(w, r, &sv, err)
		return
	}
	status := view.Status
	prog, sum, err := s.cfg.Gate.Progress(ctx, fr.queue)
	if err != nil {
		s.failErr(w, r, &sv, err)
		return
	}
	p := page{Title: fr.queue, Reviewer: sv.reviewer, CSRF: sv.csrf, Error: fr.err, Queue: qi,
		Guidelines: Markdown(qi.Guidelines), Progress: prog, Summary: sum}
	switch {
	case fr.id == "" && len(hist) > 0:
		p.PrevURL, p.UndoID = queueURL(fr.queue, hist[len(hist)-1]), hist[len(hist)-1]
	case pos > 0:
		p.PrevURL = queueURL(fr.queue, hist[pos-1])
	case pos < 0 && len(hist) > 0:
		p.PrevURL = queueURL(fr.queue, hist[len(hist)-1])
	}
	if fr.id != "" {
		p.NextURL = queueURL(fr.queue, "")
		if pos >= 0 && pos+1 < len(hist) {
			p.NextURL = queueURL(fr.queue, hist[pos+1])
		}
		if pos >= 0 {
			p.UndoID = fr.id
		}
	}
	if p.UndoID != "" {
		p.UndoNonce = randomHex(16)
	}
	var shown []decisionView
	if rec != nil {
		shown = shownDecisions(view, sv.reviewer)
		p.Focus = newFocus(*rec, status, pos < 0 && (status == review.StatusPending || status == review.StatusPendingSecond), fr.keep)
		p.Focus.Decisions = shown
	} else if fr.err == "" {
		p.Message = "Nothing left for you in this queue right now: every record is decided, awaits adjudication, or is leased by someone else."
	}
	if wantsJSON(r) {
		writeJSON(w, fr.code, map[string]any{"queue": qi.ID, "record": rec, "status": status, "progress": prog, "error": fr.err,
			"decisions": shown})
		return
	}
	s.render(w, "focus", fr.code, p)
}

// newFocus builds the focus data of a record; keep is a refused request
// whose text is put back in the forms.
func newFocus(rec datasets.Record, status string, open bool, keep *decideRequest) *focusData {
	f := &focusData{Record: rec, Status: status, Open: open, Segments: Highlight(rec.Input, rec.Target),
		TargetPretty: prettyJSON(rec.Target), EditInput: rec.Input, EditTarget: prettyJSON(rec.Target),
		NonceApprove: randomHex(16), NonceReject: randomHex(16), NonceEdit: randomHex(16), Reasons: review.RejectReasons}
	if keep != nil && keep.RecordID == rec.ID {
		if keep.EditInput != "" {
			f.EditInput = keep.EditInput
		}
		if len(keep.EditTarget) > 0 {
			f.EditTarget = string(keep.EditTarget)
		}
		f.Reason, f.Note = keep.Reason, keep.Note
	}
	return f
}

// decideRequest is the body of POST /q/{queue}/decide, as JSON or form
// fields of the same names.
type decideRequest struct {
	// RequestID is the form's nonce, the idempotency key of the decision.
	RequestID string `json:"request_id"`
	// RecordID is the decided record.
	RecordID string `json:"record_id"`
	// Kind is approve, reject or edit.
	Kind review.Kind `json:"kind"`
	// Reason and Note: see review.Decision.
	Reason string `json:"reason,omitempty"`
	Note   string `json:"note,omitempty"`
	// EditInput and EditTarget: see review.Decision.
	EditInput  string          `json:"edit_input,omitempty"`
	EditTarget json.RawMessage `json:"edit_target,omitempty"`
}

// readDecide parses a decide request and returns it with the CSRF token of
// a form ("" for JSON, which sends the X-CSRF-Token header).
func readDecide(r *http.Request) (decideRequest, string, error) {
	var req decideRequest
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			return req, "", fmt.Errorf("read JSON body: %w", err)
		}
		return req, "", nil
	}
	if err := r.ParseForm(); err != nil {
		return req, "", fmt.Errorf("read form: %w", err)
	}
	f := r.PostForm
	// Browsers send textarea line breaks as CRLF; records use LF.
	crlf := strings.NewReplacer("\r\n", "\n")
	req = decideRequest{RequestID: f.Get("request_id"), RecordID: f.Get("record_id"), Kind: review.Kind(f.Get("kind")),
		Reason: f.Get("reason"), Note: strings.TrimSpace(f.Get("note")), EditInput: crlf.Replace(f.Get("edit_input"))}
	if t := strings.TrimSpace(f.Get("edit_target")); t != "" {
		req.EditTarget = json.RawMessage(crlf.Replace(t))
	}
	return req, f.Get("csrf"), nil
}

// decide serves POST /q/{queue}/decide.
func (s *server) decide(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.session(w, r)
	if !ok {
		return
	}
	queue := r.PathValue("queue")
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	req, formCSRF, err := readDecide(r)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.fail(w, r, &sv, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is larger than %d bytes; %s", tooBig.Limit, review.Bounds()))
		return
	}
	if !csrfOK(r, sv.csrf, formCSRF) {
		s.fail(w, r, &sv, http.StatusForbidden, "missing or wrong CSRF token; reload the page")
		return
	}
	if err != nil {
		s.fail(w, r, &sv, http.StatusBadRequest, err.Error())
		return
	}
	if req.Kind == review.Edit && req.EditInput != "" && !wantsJSON(r) {
		// The edit form is prefilled with the input: an untouched input is no edit of it.
		if v, err := s.cfg.Gate.Record(r.Context(), queue, req.RecordID); err == nil && v.Record.Input == req.EditInput {
			req.EditInput = ""
		}
	}
	if req.Kind != review.Edit && !wantsJSON(r) {
		req.EditInput, req.EditTarget = "", nil // the edit form's fields travel only with an edit
	}
	d := review.Decision{RequestID: req.RequestID, RecordID: req.RecordID, Reviewer: sv.reviewer, Kind: req.Kind,
		Reason: req.Reason, Note: req.Note, EditInput: req.EditInput, EditTarget: req.EditTarget, At: s.cfg.Now()}
	out, err := review.Outcome{}, d.CheckForm() // answer a malformed or oversized decision here
	if err == nil {
		out, err = s.cfg.Gate.Decide(r.Context(), queue, sv.signer, d)
	}
	if err != nil {
		var de *review.DecisionError
		if errors.As(err, &de) && !wantsJSON(r) {
			// Show the reviewer his current record again, with the message and his text.
			s.focus(w, r, sv, focusReq{queue: queue, code: de.Code, err: de.Msg, keep: &req})
			return
		}
		s.failErr(w, r, &sv, err)
		return
	}
	s.sessions.pushHistory(sv.id, queue, req.RecordID)
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, out)
		return
	}
	http.Redirect(w, r, queueURL(queue, ""), http.StatusSeeOther)
}

// undo serves POST /q/{queue}/undo: record_id, or the reviewer's last
// decision in this session.
func (s *server) undo(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.session(w, r)
	if !ok {
		return
	}
	queue := r.PathValue("queue")
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	var body struct {
		RecordID  string `json:"record_id"`
		RequestID string `json:"request_id"`
	}
	formCSRF := ""
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		_ = json.NewDecoder(r.Body).Decode(&body)
	} else {
		_ = r.ParseForm()
		body.RecordID, body.RequestID, formCSRF = r.PostForm.Get("record_id"), r.PostForm.Get("request_id"), r.PostForm.Get("csrf")
	}
	if !csrfOK(r, sv.csrf, formCSRF) {
		s.fail(w, r, &sv, http.StatusForbidden, "missing or wrong CSRF token; reload the page")
		return
	}
	id := body.RecordID
	if h := sv.history[queue]; id == "" && len(h) > 0 {
		id = h[len(h)-1]
	}
	if id == "" {
		s.fail(w, r, &sv, http.StatusNotFound, "nothing to undo")
		return
	}
	if body.RequestID == "" {
		body.RequestID = randomHex(16)
	}
	if err := review.CheckRequestBounds(sv.reviewer, id, body.RequestID); err != nil {
		s.failErr(w, r, &sv, err)
		return
	}
	if err := s.cfg.Gate.Undo(r.Context(), queue, sv.signer, id, body.RequestID); err != nil {
		s.failErr(w, r, &sv, err)
		return
	}
	s.sessions.dropHistory(sv.id, queue, id)
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "undone", "record_id": id})
		return
	}
	http.Redirect(w, r, queueURL(queue, ""), http.StatusSeeOther)
}
