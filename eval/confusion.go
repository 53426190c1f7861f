package eval

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// InvalidLabel names the confusion column of predictions outside the label set.
const InvalidLabel = "(invalid)"

// Confusion is an EdgeIntent confusion matrix: Counts[g][p] counts examples
// of gold class Labels[g] predicted as Labels[p]; the extra last column
// (p == len(Labels)) counts invalid predictions.
type Confusion struct {
	// Labels are the classes, in taxonomy order.
	Labels []string `json:"labels"`
	// Counts has len(Labels) rows of len(Labels)+1 columns.
	Counts [][]int `json:"counts"`
}

// ConfusedPair is one off-diagonal confusion cell.
type ConfusedPair struct {
	// Gold is the true class; Pred the predicted one (InvalidLabel for invalid output).
	Gold string `json:"gold"`
	Pred string `json:"pred"`
	// Count is the number of examples; Rate is Count over Gold's support.
	Count int     `json:"count"`
	Rate  float64 `json:"rate"`
}

// column names a column, including the invalid one.
func (c *Confusion) column(j int) string {
	if j == len(c.Labels) {
		return InvalidLabel
	}
	return c.Labels[j]
}

// MostConfused returns up to k off-diagonal cells with the highest counts,
// ties broken by gold then predicted label.
func (c *Confusion) MostConfused(k int) []ConfusedPair {
	var out []ConfusedPair
	for g, row := range c.Counts {
		support := 0
		for _, n := range row {
			support += n
		}
		for p, n := range row {
			if p == g || n == 0 {
				continue
			}
			out = append(out, ConfusedPair{Gold: c.Labels[g], Pred: c.column(p), Count: n, Rate: float64(n) / float64(support)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Gold != out[j].Gold {
			return out[i].Gold < out[j].Gold
		}
		return out[i].Pred < out[j].Pred
	})
	return out[:min(k, len(out))]
}

// WriteCSV writes the matrix with a header row of predicted labels (the
// first cell is "gold\pred") and one row per gold label.
func (c *Confusion) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := make([]string, 0, len(c.Labels)+2)
	header = append(header, `gold\pred`)
	for j := 0; j <= len(c.Labels); j++ {
		header = append(header, c.column(j))
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write confusion csv header: %w", err)
	}
	rec := make([]string, len(header))
	for g, row := range c.Counts {
		rec[0] = c.Labels[g]
		for j, n := range row {
			rec[j+1] = strconv.Itoa(n)
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write confusion csv row %s: %w", c.Labels[g], err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write confusion csv: %w", err)
	}
	return nil
}
