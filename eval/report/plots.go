package report

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/cyclecore/mlmforge/schemas"
)

// pointLabelSize is the font size of the numbers beside the points and of
// the side panels.
const pointLabelSize = vg.Length(8)

// writeAccuracyPlot draws the headline metric against the parameter count
// (log scale), one series per task with its Pareto front as a dashed line.
// Each model and variant is numbered; the numbers sit beside their points
// where they overlap nothing, and the side panel, outside the data, holds
// the task legend and the key of the numbers. Jobs without a parameter count
// are left out (report.md names them).
func writeAccuracyPlot(w io.Writer, f *File) error {
	p := plot.New()
	p.Title.Text = "Headline metric vs model size"
	p.X.Label.Text = "parameters (log scale)"
	p.Y.Label.Text = "headline metric (%)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.TickerFunc(paramTicks)
	p.Y.Min, p.Y.Max = 0, 100
	p.Add(plotter.NewGrid())
	numbers, keys := modelNumbers(f.Jobs)
	side := newSidePanel(pointLabelSize)
	side.entries = append(side.entries, keyEntry{text: "Tasks", bold: true})
	labels := &pointLabels{style: side.style, radius: vg.Points(3.5)}
	lo, hi := math.Inf(1), math.Inf(-1)
	for ti, task := range schemas.Tasks {
		jobs, pts := taskPoints(f.Jobs, string(task))
		if len(pts) == 0 {
			continue
		}
		for i, pt := range pts {
			lo, hi = math.Min(lo, pt.Params), math.Max(hi, pt.Params)
			labels.xys = append(labels.xys, vg.Point{X: vg.Length(pt.Params), Y: vg.Length(100 * pt.Score)})
			labels.texts = append(labels.texts, strconv.Itoa(numbers[numberKey(jobs[i])]))
		}
		sc, line, err := taskSeries(p, ti, pts)
		if err != nil {
			return fmt.Errorf("accuracy plot %s: %w", task, err)
		}
		side.entries = append(side.entries, keyEntry{thumb: sc, text: taskTitle(string(task))},
			keyEntry{thumb: line, text: taskTitle(string(task)) + " Pareto front"})
	}
	if math.IsInf(lo, 0) {
		return fmt.Errorf("accuracy plot: no job has a parameter count")
	}
	p.Add(labels)
	side.entries = append(side.entries, keyEntry{}, keyEntry{text: "Models", bold: true})
	for i, k := range keys {
		side.entries = append(side.entries, keyEntry{label: strconv.Itoa(i + 1), text: k})
	}
	// A margin either side keeps the points off the axes and gives the log
	// scale a range even when every model has the same size.
	p.X.Min, p.X.Max = lo/2, hi*2.5
	height := max(5*vg.Inch, side.height()+vg.Inch)
	return renderWithSide(w, p, side.draw, 6.5*vg.Inch+side.width(), height, side.width(), "accuracy plot")
}

// numberKey identifies a point's model and variant.
func numberKey(j *Job) string { return j.Model.Ref + "\x00" + j.VariantLabel }

// modelNumbers numbers every model and variant that has a parameter count,
// smallest model first, and returns the key texts in number order.
func modelNumbers(jobs []Job) (map[string]int, []string) {
	var sized []*Job
	for i := range jobs {
		if jobs[i].Model.Params > 0 {
			sized = append(sized, &jobs[i])
		}
	}
	slices.SortStableFunc(sized, func(a, b *Job) int {
		return cmp.Or(cmp.Compare(a.Model.Params, b.Model.Params), cmp.Compare(modelName(a), modelName(b)),
			cmp.Compare(a.VariantLabel, b.VariantLabel))
	})
	numbers := map[string]int{}
	var keys []string
	for _, j := range sized {
		if _, ok := numbers[numberKey(j)]; ok {
			continue
		}
		numbers[numberKey(j)] = len(keys) + 1
		text := fmt.Sprintf("%s · %s", modelName(j), humanParams(j.Model.Params))
		if j.Variant != (Variant{}) {
			text += " · " + j.VariantLabel
		}
		keys = append(keys, text)
	}
	return numbers, keys
}

// taskSeries adds one task's points and its Pareto front, in the task's
// colour (style index ti), and returns both for the legend.
func taskSeries(p *plot.Plot, ti int, pts []Point) (*plotter.Scatter, *plotter.Line, error) {
	xys := make(plotter.XYs, len(pts))
	for i, pt := range pts {
		xys[i] = plotter.XY{X: pt.Params, Y: 100 * pt.Score}
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, nil, fmt.Errorf("points: %w", err)
	}
	sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = plotutil.Color(ti), plotutil.Shape(ti), vg.Points(3.5)
	front := ParetoFront(pts)
	fxy := make(plotter.XYs, len(front))
	for i, k := range front {
		fxy[i] = xys[k]
	}
	line, err := plotter.NewLine(fxy)
	if err != nil {
		return nil, nil, fmt.Errorf("pareto front: %w", err)
	}
	line.Color, line.Dashes, line.Width = plotutil.Color(ti), plotutil.Dashes(1), vg.Points(1.2)
	p.Add(line, sc)
	return sc, line, nil
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

// writeLatencyPlot draws p50 and p95 latency as horizontal bars, one pair
// per job that measured latency, the job's name level on its left; the
// figure grows in height with the jobs, and the legend sits outside the bars.
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
	// The first job at the top: NominalY counts upward.
	slices.Reverse(names)
	slices.Reverse(p50)
	slices.Reverse(p95)
	p := plot.New()
	p.Title.Text = "Per-example latency by model and task"
	p.X.Label.Text = "latency (ms)"
	p.X.Min = 0
	p.Add(plotter.NewGrid())
	side := newSidePanel(pointLabelSize)
	width := vg.Points(7)
	for k, s := range []struct {
		name string
		vals plotter.Values
	}{{"p50", p50}, {"p95", p95}} {
		bars, err := plotter.NewBarChart(s.vals, width)
		if err != nil {
			return fmt.Errorf("latency plot %s bars: %w", s.name, err)
		}
		bars.Horizontal = true
		bars.Color = plotutil.Color(k)
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(1-2*k) * width / 2 // p50 above p95
		vals, err := barValueLabels(s.vals, bars.Offset)
		if err != nil {
			return fmt.Errorf("latency plot %s labels: %w", s.name, err)
		}
		p.Add(bars, vals)
		side.entries = append(side.entries, keyEntry{thumb: bars, text: s.name})
	}
	p.X.Max = 1.18 * slices.Max(p95) // room for the value labels
	p.X.Tick.Marker = plot.TickerFunc(niceTicks)
	p.NominalY(names...)
	p.Y.Tick.Label.Font.Size = pointLabelSize + 1
	height := max(4*vg.Inch, vg.Length(len(names))*vg.Points(22)+1.4*vg.Inch)
	return renderWithSide(w, p, side.draw, 9*vg.Inch, height, side.width(), "latency plot")
}

// barValueLabels writes each bar's value at its end.
func barValueLabels(vals plotter.Values, offset vg.Length) (*plotter.Labels, error) {
	xys := make(plotter.XYs, len(vals))
	names := make([]string, len(vals))
	for i, v := range vals {
		xys[i] = plotter.XY{X: v, Y: float64(i)}
		names[i] = num(v)
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: names})
	if err != nil {
		return nil, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font.Size = pointLabelSize - 1
		l.TextStyle[i].YAlign = draw.YCenter
	}
	l.Offset = vg.Point{X: vg.Points(3), Y: offset}
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
