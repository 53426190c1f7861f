package train

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// metricColor draws the task metric (distinct from the loss curves' colors).
var metricColor = taskColors[1]

// metricPlot is the validations' task metric (percent) against the step, the
// best one (the checkpoint the run keeps) ringed, on the loss plot's step axis.
func metricPlot(st *State) (*plot.Plot, error) {
	p := plot.New()
	v0 := st.Validations[0]
	p.Title.Text = fmt.Sprintf("%s on %d held-out training records (picks the checkpoint)", v0.Metric, v0.N)
	p.X.Label.Text, p.X.Tick.Marker = "step", stepTicks
	p.Y.Label.Text = "%"
	p.Y.Min, p.Y.Max = 0, 100
	p.Add(plotter.NewGrid())
	pts := make(plotter.XYs, len(st.Validations))
	for i, v := range st.Validations {
		pts[i] = plotter.XY{X: float64(v.Step), Y: 100 * v.Value}
	}
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return nil, fmt.Errorf("validations: %w", err)
	}
	l.Color, s.Color = metricColor, metricColor
	evalMarker(s)
	p.Add(l, s)
	p.Legend.Add(v0.Metric, l, s)
	if st.BestMetric != nil && st.BestStep > 0 {
		b, err := plotter.NewScatter(plotter.XYs{{X: float64(st.BestStep), Y: 100 * *st.BestMetric}})
		if err != nil {
			return nil, fmt.Errorf("best validation: %w", err)
		}
		b.GlyphStyle.Shape, b.GlyphStyle.Radius, b.GlyphStyle.Color = draw.RingGlyph{}, vg.Points(6), metricColor
		p.Add(b)
		p.Legend.Add(fmt.Sprintf("best: %.1f%% at step %d", 100**st.BestMetric, st.BestStep), b)
	}
	if n := len(st.History); n > 0 {
		last := float64(st.History[n-1].Step)
		p.X.Min, p.X.Max = 0, last+math.Max(1, 0.02*last)
	}
	// Bottom right: the curve rises as training goes, so that corner stays clear.
	p.Legend.Top = false
	return p, nil
}

// relabel keeps a ticker's tick positions and labels its major ticks with
// format: gonum's defaults print steps as "2500.00" and log ticks as
// "9.999999999999999e-05".
type relabel struct {
	plot.Ticker
	format func(float64) string
}

// Ticks returns the wrapped ticker's ticks, major ones relabelled.
func (r relabel) Ticks(min, max float64) []plot.Tick {
	ts := r.Ticker.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = r.format(ts[i].Value)
		}
	}
	return ts
}

// stepTicks label the step axis with whole numbers.
var stepTicks = relabel{plot.DefaultTicks{}, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }}

// logTicks label a log axis with three significant digits (1e-05, 0.001, 10).
var logTicks = relabel{plot.LogTicks{Prec: -1}, func(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }}

// stacked draws plots one above the other on one PNG of width w.
func stacked(w vg.Length, plots []*plot.Plot, heights []vg.Length) (io.WriterTo, error) {
	var total vg.Length
	for _, h := range heights {
		total += h
	}
	c := vgimg.NewWith(vgimg.UseWH(w, total), vgimg.UseDPI(96))
	dc := draw.New(c)
	top := total
	for i, p := range plots {
		// Crop moves the edges: left, right, bottom (up), top (down when negative).
		p.Draw(draw.Crop(dc, 0, 0, top-heights[i], top-total))
		top -= heights[i]
	}
	return vgimg.PngCanvas{Canvas: c}, nil
}
