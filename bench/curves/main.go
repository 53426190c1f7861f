// Command curves draws learning curves: the task metric of training runs'
// validations (held-out training records, see distill's checkpoint selection)
// against the CPU minutes spent training, from each run's metrics.json. It writes
// a PNG and prints a Markdown table of the metric at fixed CPU budgets, the form
// BENCHMARKS.md reports them in. With --x steps the x axis is optimizer steps
// instead, for runs that ran under different loads (wall time then says more
// about the machine than about the recipe).
//
//	go run ./bench/curves --out curves.png --threads 2 tiny-json=HOME/runs/train-a ...
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/cyclecore/mlmforge/distill/train"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "curves:", err)
		os.Exit(1)
	}
}

// curve is one run's validation points: CPU minutes and metric value.
type curve struct {
	name   string
	metric string
	pts    plotter.XYs
}

func run() error {
	out := flag.String("out", "curves.png", "PNG to write")
	threads := flag.Float64("threads", 2, "cores each run trained on (CPU minutes = wall minutes x threads)")
	budgets := flag.String("budgets", "5,10,20,40,60,120", "CPU-minute budgets of the table")
	title := flag.String("title", "", "plot title (default: the metric against the x axis)")
	xAxis := flag.String("x", "cpu", "x axis: cpu (CPU minutes = wall x threads) or steps (optimizer steps)")
	flag.Parse()
	var ax axis
	switch *xAxis {
	case "cpu":
		ax = axis{label: "CPU minutes", unit: "CPU min", x: func(secs float64, _ int) float64 { return secs * *threads / 60 }}
	case "steps":
		ax = axis{label: "optimizer steps", unit: "steps", x: func(_ float64, step int) float64 { return float64(step) }}
		if !isSet("budgets") {
			*budgets = "500,1000,2000,4000,6000,10000"
		}
	default:
		return fmt.Errorf("--x %q: want cpu or steps", *xAxis)
	}
	if *title == "" {
		*title = "task metric on held-out training records vs " + ax.label
	}
	if flag.NArg() == 0 {
		return errors.New("usage: curves [flags] NAME=RUNDIR ...")
	}
	var curves []curve
	for _, arg := range flag.Args() {
		name, dir, ok := strings.Cut(arg, "=")
		if !ok {
			return fmt.Errorf("%q: want NAME=RUNDIR", arg)
		}
		c, err := load(name, dir, ax)
		if err != nil {
			return err
		}
		curves = append(curves, c)
	}
	if err := drawCurves(*out, *title, ax.label, curves); err != nil {
		return err
	}
	return table(os.Stdout, curves, *budgets, ax.unit)
}

// axis is the x axis: its label, the table's unit, and x of a point after secs
// seconds of training at step.
type axis struct {
	label, unit string
	x           func(secs float64, step int) float64
}

// isSet reports whether the command line set flag name.
func isSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// load reads a run's metrics.json into a curve.
func load(name, dir string, ax axis) (curve, error) {
	path := filepath.Join(dir, "metrics.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return curve{}, err
	}
	var m train.Metrics
	if err := json.Unmarshal(data, &m); err != nil {
		return curve{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(m.Validations) == 0 {
		return curve{}, fmt.Errorf("%s: no validations (train with validate_every)", path)
	}
	c := curve{name: name, metric: m.Validations[0].Metric}
	secs, vi := 0.0, 0
	for _, s := range m.Steps {
		secs += s.Seconds
		for vi < len(m.Validations) && m.Validations[vi].Step <= s.Step {
			c.pts = append(c.pts, plotter.XY{X: ax.x(secs, m.Validations[vi].Step), Y: 100 * m.Validations[vi].Value})
			vi++
		}
	}
	return c, nil
}

var palette = []color.RGBA{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, {R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, {R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, {R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}, {R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
}

// drawCurves writes the curves as a PNG, the legend outside the data on the right.
func drawCurves(path, title, xLabel string, curves []curve) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = "metric (%)"
	p.Y.Min, p.Y.Max = 0, 100
	p.Add(plotter.NewGrid())
	// The legend is drawn on its own, in a column right of the axes: p.Draw
	// would draw a legend of p's inside the data.
	leg := plot.NewLegend()
	leg.Left, leg.Top = true, true
	leg.XOffs = vg.Points(8)
	for i, c := range curves {
		l, s, err := plotter.NewLinePoints(c.pts)
		if err != nil {
			return fmt.Errorf("curve %s: %w", c.name, err)
		}
		col := palette[i%len(palette)]
		l.Color, s.Color, s.Shape = col, col, draw.CircleGlyph{}
		l.Width = vg.Points(1.5)
		p.Add(l, s)
		leg.Add(fmt.Sprintf("%s (%s)", c.name, c.metric), l)
	}
	// The column is as wide as the longest entry.
	legendW := vg.Inch
	for _, c := range curves {
		legendW = max(legendW, leg.TextStyle.Width(fmt.Sprintf("%s (%s)", c.name, c.metric))+leg.ThumbnailWidth+vg.Points(24))
	}
	w, h := 7*vg.Inch+legendW, 5*vg.Inch
	img := vgimgCanvas(w, h)
	dc := draw.New(img)
	p.Draw(draw.Crop(dc, 0, -legendW, 0, 0))
	leg.Draw(draw.Crop(dc, w-legendW, 0, 0, 0))
	return savePNG(path, img)
}

// table prints the metric each run had reached by each budget of the x axis
// (the best validation so far, the checkpoint selection's value).
func table(w *os.File, curves []curve, budgets, unit string) error {
	var bs []float64
	for _, f := range strings.Split(budgets, ",") {
		var b float64
		if _, err := fmt.Sscan(f, &b); err != nil {
			return fmt.Errorf("--budgets %q: %w", budgets, err)
		}
		bs = append(bs, b)
	}
	fmt.Fprint(w, "| run | metric |")
	for _, b := range bs {
		fmt.Fprintf(w, " %g %s |", b, unit)
	}
	fmt.Fprint(w, "\n|---|---|")
	for range bs {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for _, c := range curves {
		fmt.Fprintf(w, "| %s | %s |", c.name, c.metric)
		for _, b := range bs {
			best, seen := 0.0, false
			for _, p := range c.pts {
				if p.X <= b {
					best, seen = max(best, p.Y), true
				}
			}
			if !seen || c.pts[len(c.pts)-1].X < b*0.5 && b > c.pts[len(c.pts)-1].X {
				fmt.Fprint(w, " – |")
				continue
			}
			fmt.Fprintf(w, " %.1f%% |", best)
		}
		fmt.Fprintln(w)
	}
	return nil
}
