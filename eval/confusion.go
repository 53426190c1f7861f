package eval

import (
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
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

// rateGrid is the row-normalized matrix as a plotter.GridXYZ, gold class 0
// in the top row.
type rateGrid struct {
	rates [][]float64
}

func (g rateGrid) Dims() (c, r int)   { return len(g.rates[0]), len(g.rates) }
func (g rateGrid) Z(c, r int) float64 { return g.rates[len(g.rates)-1-r][c] }
func (g rateGrid) X(c int) float64    { return float64(c) }
func (g rateGrid) Y(r int) float64    { return float64(r) }

// WritePNG draws the matrix as a heat map of row-normalized rates (the share
// of each gold class predicted as each column) and writes it as PNG. Every
// class is labelled: the image grows with the number of classes so that the
// labels of a 200-class taxonomy stay legible.
func (c *Confusion) WritePNG(w io.Writer) error {
	k := len(c.Labels)
	if k == 0 {
		return fmt.Errorf("write confusion png: no classes")
	}
	rates := make([][]float64, k)
	for g, row := range c.Counts {
		support := 0
		for _, n := range row {
			support += n
		}
		rates[g] = make([]float64, k+1)
		for j, n := range row {
			if support > 0 {
				rates[g][j] = float64(n) / float64(support)
			} else {
				rates[g][j] = math.NaN()
			}
		}
	}
	// A sequential palette keeps zero white, so the few errors stand out.
	pal, err := brewer.GetPalette(brewer.TypeSequential, "Blues", 9)
	if err != nil {
		return fmt.Errorf("confusion png palette: %w", err)
	}
	h := plotter.NewHeatMap(rateGrid{rates}, pal)
	h.Min, h.Max = 0, 1
	h.Rasterized = true // one image instead of 40,000 rectangles for 200 classes
	h.NaN = color.Gray{Y: 230}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Confusion (%d classes, row-normalized)", k)
	p.X.Label.Text, p.Y.Label.Text = "predicted", "gold"
	p.Add(h)
	cell, font := vg.Points(12), vg.Points(7)
	if k > 60 {
		cell, font = vg.Points(9), vg.Points(5.5)
	}
	xt, yt := make([]plot.Tick, k+1), make([]plot.Tick, k)
	for j := 0; j <= k; j++ {
		xt[j] = plot.Tick{Value: float64(j), Label: c.column(j)}
	}
	for g := 0; g < k; g++ {
		yt[g] = plot.Tick{Value: float64(k - 1 - g), Label: c.Labels[g]}
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = font, font
	p.X.Tick.Label.Rotation = math.Pi / 2
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	p.X.Padding, p.Y.Padding = 0, 0
	margin := vg.Points(40) + font*28 // room for the longest labels
	wt, err := p.WriterTo(margin+cell*vg.Length(k+1), margin+cell*vg.Length(k), "png")
	if err != nil {
		return fmt.Errorf("render confusion png: %w", err)
	}
	if _, err := wt.WriteTo(w); err != nil {
		return fmt.Errorf("write confusion png: %w", err)
	}
	return nil
}
