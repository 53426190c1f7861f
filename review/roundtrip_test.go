package review

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// script is a review in steps; each step appends what it observed to a log,
// so two queues that behave the same produce the same log.
type script []func(q *Queue) string

func (s script) run(q *Queue) []string {
	var log []string
	for _, step := range s {
		log = append(log, step(q))
	}
	return log
}

func leaseStep(reviewer string, m int) func(q *Queue) string {
	return func(q *Queue) string {
		rec, err := q.Lease(reviewer, t0.Add(time.Duration(m)*time.Minute))
		if err != nil {
			return reviewer + " lease: " + err.Error()
		}
		return reviewer + " lease " + rec.ID
	}
}

func decideStep(d Decision, adjudicate bool) func(q *Queue) string {
	return func(q *Queue) string {
		validate, apply := q.Validate, q.Apply
		if adjudicate {
			validate, apply = q.ValidateAdjudication, q.Adjudicate
		}
		if err := validate(d, nil); err != nil {
			return "refused: " + err.Error()
		}
		out, _ := json.Marshal(apply(d))
		return string(out)
	}
}

func undoStep(reviewer, id string, m int) func(q *Queue) string {
	return func(q *Queue) string {
		if err := q.Undo(reviewer, id, t0.Add(time.Duration(m)*time.Minute)); err != nil {
			return "undo: " + err.Error()
		}
		return "undone"
	}
}

func TestQueueJSONRoundTripMidReview(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	first := script{
		leaseStep("ann", 0), leaseStep("bob", 0), leaseStep("cat", 1),
		decideStep(dec("ann", "r1", Approve, at(2)), false),
		decideStep(dec("bob", "r1", Reject, at(3)), false),
		leaseStep("ann", 4),
		decideStep(editTarget("ann", "r2", `{"intent":"alarm_set"}`, at(5)), false),
		undoStep("ann", "r2", 6),
		leaseStep("dan", 7),
	}
	second := script{
		leaseStep("ann", 8), leaseStep("dan", 8), leaseStep("eve", 20), // cat's lease expired at 16
		decideStep(dec("ann", "r2", Reject, at(21)), false),
		decideStep(dec("ann", "r2", Reject, at(21)), false), // double submit
		decideStep(dec("cat", "r2", Reject, at(22)), false), // refused: eve holds the second slot
		decideStep(dec("eve", "r2", Reject, at(22)), false),
		leaseStep("eve", 23), // dan's lease expired at 23
		decideStep(dec("eve", "r3", Approve, at(24)), false),
		decideStep(dec("dan", "r3", Approve, at(25)), false),
		decideStep(dec("zed", "r1", Reject, at(26)), true),
		leaseStep("ann", 27), undoStep("bob", "r1", 28),
	}
	orig := NewQueue(Config{TwoReviewers: true, LeaseTTL: 15 * time.Minute}, records(3))
	first.run(orig)
	data, err := json.Marshal(orig)
	if err != nil {
		t.Fatal(err)
	}
	var copied Queue
	if err := json.Unmarshal(data, &copied); err != nil {
		t.Fatal(err)
	}
	if again, _ := json.Marshal(&copied); string(again) != string(data) {
		t.Fatalf("marshal(unmarshal(x)) != x:\n%s\n%s", data, again)
	}
	logA, logB := second.run(orig), second.run(&copied)
	if !reflect.DeepEqual(logA, logB) {
		t.Fatalf("continued queues behave differently:\n%s\n%s", strings.Join(logA, "\n"), strings.Join(logB, "\n"))
	}
	want := []string{"ann lease r2", "dan lease r3", "eve lease r2", `"status":"pending_second_review"`, `"duplicate":true`,
		"refused: record \"r2\" is leased by eve", `"status":"rejected"`, "eve lease r3", `"status":"pending_second_review"`,
		`"status":"approved"`, `"status":"rejected"`, "ann lease: no record left", "adjudicated by zed"}
	for i := range want {
		if !strings.Contains(logA[i], want[i]) {
			t.Fatalf("step %d: %q, want it to contain %q; the script no longer exercises what it should", i, logA[i], want[i])
		}
	}
	for name, pair := range map[string][2]any{
		"summary":  {orig.Summary(), copied.Summary()},
		"progress": {orig.Progress(), copied.Progress()},
		"final":    {orig.Final(), copied.Final()},
		"rows":     {orig.Rows(), copied.Rows()},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s differs:\n%+v\n%+v", name, pair[0], pair[1])
		}
	}
	if !orig.Done() || !copied.Done() || len(orig.Rows()) != 7 {
		t.Fatalf("done %v %v, rows %+v", orig.Done(), copied.Done(), orig.Rows())
	}
}

func TestDecisionsParquetRoundTrip(t *testing.T) {
	q := NewQueue(Config{TwoReviewers: true}, records(3))
	decide(t, q, dec("ann", "r1", Approve, t0.Add(1500*time.Microsecond)))
	decide(t, q, dec("bob", "r1", Reject, t0.Add(time.Minute)))
	d := Decision{RequestID: "q-1", RecordID: "r2", Reviewer: "ann", Kind: Reject, Reason: "other", Note: "ünïcode note 東京", At: t0.Add(2 * time.Minute)}
	decide(t, q, d)
	decide(t, q, editTarget("bob", "r2", `{"intent":"alarm_set"}`, t0.Add(3*time.Minute)))
	adj := Decision{RequestID: "adj", RecordID: "r1", Reviewer: "zed", Kind: Edit, EditInput: "wake me at 7",
		EditTarget: json.RawMessage(`{"intent": "alarm_set"}`), At: t0.Add(4 * time.Minute)}
	if err := q.ValidateAdjudication(adj, nil); err != nil {
		t.Fatal(err)
	}
	q.Adjudicate(adj)
	rows := q.Rows()
	if len(rows) != 5 || rows[4].Round != RoundAdjudication || rows[4].EditTarget != `{"intent":"alarm_set"}` {
		t.Fatalf("rows %+v", rows)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "decisions.parquet")
	if err := os.WriteFile(path, []byte("old contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteDecisions(path, rows); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDecisions(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		t.Fatalf("round trip differs:\n%+v\n%+v", got, rows)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp files left behind: %v", entries)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v", st.Mode())
	}

	t.Run("empty log", func(t *testing.T) {
		p := filepath.Join(dir, "empty.parquet")
		if err := WriteDecisions(p, nil); err != nil {
			t.Fatal(err)
		}
		if got, err := ReadDecisions(p); err != nil || len(got) != 0 {
			t.Fatalf("empty log read back %v, %v", got, err)
		}
	})
	t.Run("not parquet", func(t *testing.T) {
		p := filepath.Join(dir, "junk.parquet")
		os.WriteFile(p, []byte("this is not parquet at all"), 0o644)
		if _, err := ReadDecisions(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("err = %v, want an error naming the file", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		p := filepath.Join(dir, "absent.parquet")
		_, err := ReadDecisions(p)
		if !errors.Is(err, os.ErrNotExist) || strings.Count(err.Error(), p) != 1 {
			t.Fatalf("err = %v, want not exist naming the file once", err)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		err := WriteDecisions(filepath.Join(dir, "nope", "d.parquet"), rows)
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("err = %v, want not exist", err)
		}
	})
}
