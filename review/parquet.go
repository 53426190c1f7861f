package review

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/internal/atomicfile"
	"github.com/parquet-go/parquet-go"
)

// Rounds of a DecisionRow.
const (
	RoundFirst        = 1 // the first (or only) review
	RoundSecond       = 2 // the second review, two-reviewer mode
	RoundAdjudication = 3 // an adjudicator's decision
)

// DecisionRow is one decision in force, one row of the decision log a
// release ships next to its splits. Empty optional columns are Parquet NULL.
type DecisionRow struct {
	// RecordID is the reviewed record.
	RecordID string `parquet:"record_id" json:"record_id"`
	// Reviewer is who decided.
	Reviewer string `parquet:"reviewer" json:"reviewer"`
	// Kind is approve, reject or edit.
	Kind string `parquet:"kind" json:"kind"`
	// Reason and Note are the decision's reason and note.
	Reason string `parquet:"reason,optional" json:"reason,omitempty"`
	Note   string `parquet:"note,optional" json:"note,omitempty"`
	// EditInput and EditTarget (JSON text) are an edit's corrections.
	EditInput  string `parquet:"edit_input,optional" json:"edit_input,omitempty"`
	EditTarget string `parquet:"edit_target,optional" json:"edit_target,omitempty"`
	// At is when the decision was made, stored in UTC to the microsecond.
	At time.Time `parquet:"at,timestamp(microsecond)" json:"at"`
	// RequestID is the client's idempotency key.
	RequestID string `parquet:"request_id" json:"request_id"`
	// Round is RoundFirst, RoundSecond or RoundAdjudication.
	Round int `parquet:"round" json:"round"`
	// EditDiff is what an edit changed, in git's word-diff style
	// ([-removed-]{+added+}): "input: ..." and "target: ..." lines.
	EditDiff string `parquet:"edit_diff,optional" json:"edit_diff,omitempty"`
	// ReviewRound numbers the review of the dataset run the decision belongs to:
	// 0 for the first, n after n failed reviews whose rejected cells were
	// regenerated (--regenerate-rejected).
	ReviewRound int `parquet:"review_round" json:"review_round"`
}

// Rows returns the decisions in force, in the order they were made: reviews
// (round 1 and 2 by their position on the record) and adjudications (round 3).
// Undone decisions are not in it.
func (q *Queue) Rows() []DecisionRow {
	type seqRow struct {
		seq int
		row DecisionRow
	}
	var all []seqRow
	for i := range q.Items {
		it := &q.Items[i]
		for j, e := range it.Reviews {
			all = append(all, seqRow{e.Seq, rowOf(it.Record, e.Decision, RoundFirst+j)})
		}
		if it.Adjudication != nil {
			all = append(all, seqRow{it.Adjudication.Seq, rowOf(it.Record, it.Adjudication.Decision, RoundAdjudication)})
		}
	}
	slices.SortFunc(all, func(a, b seqRow) int { return cmp.Compare(a.seq, b.seq) })
	rows := make([]DecisionRow, len(all))
	for i, r := range all {
		rows[i] = r.row
	}
	return rows
}

func rowOf(rec datasets.Record, d Decision, round int) DecisionRow {
	return DecisionRow{RecordID: d.RecordID, Reviewer: d.Reviewer, Kind: string(d.Kind), Reason: d.Reason, Note: d.Note,
		EditInput: d.EditInput, EditTarget: string(d.EditTarget), EditDiff: editDiffText(rec, d), At: d.At,
		RequestID: d.RequestID, Round: round}
}

// editDiffText renders DiffEdit as the EditDiff column.
func editDiffText(rec datasets.Record, d Decision) string {
	diff := DiffEdit(rec, d)
	var lines []string
	if diff.Input != nil {
		lines = append(lines, "input: "+WordDiff(diff.Input))
	}
	if diff.Target != nil {
		lines = append(lines, "target: "+WordDiff(diff.Target))
	}
	return strings.Join(lines, "\n")
}

// WriteDecisions writes rows to a zstd-compressed Parquet file at path,
// replacing any file there atomically: the rows go to a temp file in the same
// directory, which is fsynced and renamed over path, so a reader never sees a
// half-written log.
func WriteDecisions(path string, rows []DecisionRow) (err error) {
	err = atomicfile.Write(path, 0o644, func(f *os.File) error {
		w := parquet.NewGenericWriter[DecisionRow](f, parquet.Compression(&parquet.Zstd),
			parquet.CreatedBy("mlmforge", "review", "1"))
		return safely(func() error {
			if _, err := w.Write(rows); err != nil {
				return err
			}
			return w.Close()
		})
	})
	if err != nil {
		return fmt.Errorf("write decisions %s: %w", path, err)
	}
	return nil
}

// ReadDecisions reads a decision log written by WriteDecisions, in file order.
func ReadDecisions(path string) ([]DecisionRow, error) {
	var rows []DecisionRow
	err := safely(func() (err error) {
		rows, err = parquet.ReadFile[DecisionRow](path)
		return err
	})
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == path {
			err = pe.Err // the path is named once, below
		}
		return nil, fmt.Errorf("read decisions %s: %w", path, err)
	}
	for i := range rows {
		rows[i].At = rows[i].At.UTC()
	}
	return rows, nil
}

// safely turns a panic inside parquet-go (it panics on some corrupt inputs) into an error.
func safely(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("corrupt parquet data: %v", p)
		}
	}()
	return f()
}
