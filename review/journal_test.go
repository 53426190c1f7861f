package review

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// TestJournalReplay: a queue rebuilt from its sample and the journal of
// another (decisions, an adjudication, undos, a reused request) has the same
// decisions, requests, Summary and Rows; compacted ops (notes dropped) keep
// the Summary and the request fingerprints.
func TestJournalReplay(t *testing.T) {
	cfg := Config{TwoReviewers: true, Threshold: 0.5, Journal: true}
	q := NewQueue(cfg, records(4))
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	note := dec("ann", "r1", Reject, at(1))
	note.Reason, note.Note = "other", "reads like a template"
	steps := []Decision{note, dec("bob", "r1", Approve, at(2)), dec("ann", "r2", Approve, at(3)), dec("bob", "r2", Approve, at(4)),
		dec("ann", "r3", Edit, at(5))}
	for _, d := range steps {
		decide(t, q, d)
	}
	if err := q.Undo("ann", "r3", at(6)); err != nil {
		t.Fatal(err)
	}
	if dup, err := q.UndoRequest("u1", "ann", "r2", at(7)); err != nil || dup {
		t.Fatalf("undo: %v %v", dup, err)
	}
	decide(t, q, dec("ann", "r2", Reject, at(8)))
	adj := Decision{RequestID: "adj", RecordID: "r1", Reviewer: "cat", Kind: Approve, At: at(9)}
	if err := q.ValidateAdjudication(adj, nil); err != nil {
		t.Fatal(err)
	}
	q.Adjudicate(adj)
	ops := q.TakeJournal()
	if len(ops) != 9 || q.JournalLen() != 0 {
		t.Fatalf("journal has %d ops (then %d), want 9 then 0", len(ops), q.JournalLen())
	}
	// Through JSON, as the journal files carry it.
	b, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	var loaded []Op
	if err := json.Unmarshal(b, &loaded); err != nil {
		t.Fatal(err)
	}
	for _, compact := range []bool{false, true} {
		r := NewQueue(cfg, records(4))
		for _, op := range loaded {
			if compact {
				op = op.Compact()
			}
			if err := r.Replay(op); err != nil {
				t.Fatalf("compact=%v: %v", compact, err)
			}
		}
		if r.JournalLen() != 0 {
			t.Fatalf("a replay journaled %d ops again", r.JournalLen())
		}
		if !reflect.DeepEqual(r.Summary(), q.Summary()) || !reflect.DeepEqual(r.Applied, q.Applied) || r.Seq != q.Seq {
			t.Fatalf("compact=%v: replayed summary %+v applied %v, want %+v %v", compact, r.Summary(), r.Applied, q.Summary(), q.Applied)
		}
		if !compact && !reflect.DeepEqual(r.Rows(), q.Rows()) {
			t.Fatalf("replayed rows %+v\nwant %+v", r.Rows(), q.Rows())
		}
		// A retry of a request made before the replay is still a duplicate.
		if out := r.Apply(dec("bob", "r2", Approve, at(10))); !out.Duplicate {
			t.Fatalf("compact=%v: retry after replay %+v, want duplicate", compact, out)
		}
		if dup, err := r.UndoRequest("u1", "ann", "r2", at(10)); !dup || err != nil {
			t.Fatalf("compact=%v: retried undo %v %v, want duplicate", compact, dup, err)
		}
	}
	// A journal from another sample does not fit.
	other := NewQueue(cfg, records(1))
	var failed bool
	for _, op := range loaded {
		if other.Replay(op) != nil {
			failed = true
			break
		}
	}
	if !failed {
		t.Fatal("a journal replayed onto another sample")
	}
}

func TestDiff(t *testing.T) {
	tests := []struct{ old, new, want string }{
		{"set a timer for 10 minutes", "set a timer for ten minutes", "set a timer for [-10-]{+ten+} minutes"},
		{"", "hello world", "{+hello world+}"},
		{"same", "same", "same"},
		{"a b c", "a c", "a [-b -]c"},
	}
	for _, tc := range tests {
		ops := Diff(tc.old, tc.new)
		if got := WordDiff(ops); got != tc.want {
			t.Errorf("Diff(%q, %q) = %q, want %q", tc.old, tc.new, got, tc.want)
		}
		var o, n string
		for _, op := range ops {
			if op.Op != "+" {
				o += op.Text
			}
			if op.Op != "-" {
				n += op.Text
			}
		}
		if o != tc.old || n != tc.new {
			t.Errorf("Diff(%q, %q) does not rebuild both texts: %q %q", tc.old, tc.new, o, n)
		}
	}
}

// TestReadDecisionsWithoutEditDiff: review.parquet files written before the
// edit_diff column still read.
func TestReadDecisionsWithoutEditDiff(t *testing.T) {
	type oldRow struct {
		RecordID   string    `parquet:"record_id"`
		Reviewer   string    `parquet:"reviewer"`
		Kind       string    `parquet:"kind"`
		Reason     string    `parquet:"reason,optional"`
		Note       string    `parquet:"note,optional"`
		EditInput  string    `parquet:"edit_input,optional"`
		EditTarget string    `parquet:"edit_target,optional"`
		At         time.Time `parquet:"at,timestamp(microsecond)"`
		RequestID  string    `parquet:"request_id"`
		Round      int       `parquet:"round"`
		RevRound   int       `parquet:"review_round"`
	}
	path := filepath.Join(t.TempDir(), "review.parquet")
	if err := parquet.WriteFile(path, []oldRow{{RecordID: "r1", Reviewer: "ann", Kind: "edit", EditInput: "x", At: t0, RequestID: "q", Round: 1}}); err != nil {
		t.Fatal(err)
	}
	rows, err := ReadDecisions(path)
	if err != nil || len(rows) != 1 || rows[0].EditInput != "x" || rows[0].EditDiff != "" {
		t.Fatalf("rows %+v, %v", rows, err)
	}
}
