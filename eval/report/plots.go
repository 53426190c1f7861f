package report

import (
	"fmt"
	"io"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/cyclecore/mlmforge/schemas"
)

// pointLabelSize is the font size of the model names beside the points.
const pointLabelSize = vg.Length(7)

// writeAccuracyPlot draws the headline metric against the parameter count
// (log scale), one series per task with its Pareto front as a dashed line.
// Jobs without a parameter count are left out (report.md names them).
func writeAccuracyPlot(w io.Writer, f *File) error {
	p := plot.New()
	p.Title.Text = "Headline metric vs model size"
	p.X.Label.Text = "parameters (log scale)"
	p.Y.Label.Text = "headline metric (%)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.TickerFunc(paramTicks)
	p.Y.Min, p.Y.Max = 0, 100
	p.Legend.Top, p.Legend.Left = false, false
	p.Add(plotter.NewGrid())
	lo, hi := math.Inf(1), math.Inf(-1)
	for ti, task := range schemas.Tasks {
		jobs, pts := taskPoints(f.Jobs, string(task))
		if len(pts) == 0 {
			continue
		}
		for _, pt := range pts {
			lo, hi = math.Min(lo, pt.Params), math.Max(hi, pt.Params)
		}
		if err := addTaskSeries(p, ti, string(task), jobs, pts); err != nil {
			return fmt.Errorf("accuracy plot %s: %w", task, err)
		}
	}
	if math.IsInf(lo, 0) {
		return fmt.Errorf("accuracy plot: no job has a parameter count")
	}
	// A margin either side keeps the points off the axes and gives the log
	// scale a range even when every model has the same size.
	p.X.Min, p.X.Max = lo/2, hi*2.5
	return render(w, p, 8*vg.Inch, 5.5*vg.Inch, "accuracy plot")
}

// addTaskSeries adds one task's points, named, and its Pareto front, in the
// task's colour (style index ti).
func addTaskSeries(p *plot.Plot, ti int, task string, jobs []*Job, pts []Point) error {
	xys := make(plotter.XYs, len(pts))
	names := make([]string, len(pts))
	for i, pt := range pts {
		xys[i] = plotter.XY{X: pt.Params, Y: 100 * pt.Score}
		names[i] = pointName(jobs[i])
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return fmt.Errorf("points: %w", err)
	}
	sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = plotutil.Color(ti), plotutil.Shape(ti), vg.Points(3.5)
	front := ParetoFront(pts)
	fxy := make(plotter.XYs, len(front))
	for i, k := range front {
		fxy[i] = xys[k]
	}
	line, err := plotter.NewLine(fxy)
	if err != nil {
		return fmt.Errorf("pareto front: %w", err)
	}
	line.Color, line.Dashes, line.Width = plotutil.Color(ti), plotutil.Dashes(1), vg.Points(1.2)
	labels, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: names})
	if err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].Font.Size = pointLabelSize
	}
	labels.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(2)}
	p.Add(line, sc, labels)
	p.Legend.Add(taskTitle(task), sc)
	p.Legend.Add(taskTitle(task)+" Pareto front", line)
	return nil
}

// pointName labels a point: the model, and the variant unless it is the
// plain 0-shot one.
func pointName(j *Job) string {
	if j.Variant == (Variant{}) {
		return modelName(j)
	}
	return modelName(j) + " (" + j.VariantLabel + ")"
}

// paramTicks marks powers of ten, labelled "10M", "100M", "1B"; ranges under
// two decades also label 2x and 5x so that the axis always has labels.
func paramTicks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	labelAll := math.Log10(max/min) < 2
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		base := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			v := m * base
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || labelAll && (m == 2 || m == 5) {
				t.Label = humanParams(int64(math.Round(v)))
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// writeLatencyPlot draws p50 and p95 latency bars for every job that
// measured latency.
func writeLatencyPlot(w io.Writer, f *File) error {
	var names []string
	var p50, p95 plotter.Values
	for i := range f.Jobs {
		j := &f.Jobs[i]
		if j.Cost.N == 0 {
			continue
		}
		names = append(names, fmt.Sprintf("%s · %s · %s", modelName(j), taskTitle(j.Dataset.Task), j.VariantLabel))
		p50 = append(p50, j.Cost.LatencyP50MS)
		p95 = append(p95, j.Cost.LatencyP95MS)
	}
	if len(names) == 0 {
		return fmt.Errorf("latency plot: no job measured latency")
	}
	p := plot.New()
	p.Title.Text = "Per-example latency by model and task"
	p.Y.Label.Text = "latency (ms)"
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	width := vg.Points(14)
	for k, s := range []struct {
		name string
		vals plotter.Values
	}{{"p50", p50}, {"p95", p95}} {
		bars, err := plotter.NewBarChart(s.vals, width)
		if err != nil {
			return fmt.Errorf("latency plot %s bars: %w", s.name, err)
		}
		bars.Color = plotutil.Color(k)
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(2*k-1) * width / 2
		vals, err := barValueLabels(s.vals, bars.Offset)
		if err != nil {
			return fmt.Errorf("latency plot %s labels: %w", s.name, err)
		}
		p.Add(bars, vals)
		p.Legend.Add(s.name, bars)
	}
	p.Y.Max = 1.15 * slices.Max(p95) // headroom for the value labels and the legend
	p.Legend.Top, p.Legend.Left = true, true
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YTop
	longest := slices.MaxFunc(names, func(a, b string) int { return len(a) - len(b) })
	height := 4.5*vg.Inch + vg.Length(len(longest))*vg.Points(4) // room for the slanted labels
	return render(w, p, max(6*vg.Inch, vg.Length(len(names))*vg.Points(44)+2*vg.Inch), height, "latency plot")
}

// barValueLabels writes each bar's value above it.
func barValueLabels(vals plotter.Values, offset vg.Length) (*plotter.Labels, error) {
	xys := make(plotter.XYs, len(vals))
	names := make([]string, len(vals))
	for i, v := range vals {
		xys[i] = plotter.XY{X: float64(i), Y: v}
		names[i] = num(v)
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: names})
	if err != nil {
		return nil, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font.Size = pointLabelSize
		l.TextStyle[i].XAlign = draw.XCenter
	}
	l.Offset = vg.Point{X: offset, Y: vg.Points(2)}
	return l, nil
}

// render writes the plot as a PNG of the given size.
func render(w io.Writer, p *plot.Plot, width, height vg.Length, what string) error {
	wt, err := p.WriterTo(width, height, "png")
	if err != nil {
		return fmt.Errorf("render %s: %w", what, err)
	}
	if _, err := wt.WriteTo(w); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	return nil
}
