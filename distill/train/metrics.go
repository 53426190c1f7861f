package train

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// Metrics is metrics.json: the run's per-step training metrics and its evaluations.
type Metrics struct {
	// Config is the training config.
	Config Config `json:"config"`
	// Steps holds one entry per optimizer step.
	Steps []StepMetrics `json:"steps"`
	// Evals holds one entry per evaluation.
	Evals []EvalMetrics `json:"evals"`
	// BestEvalLoss is the lowest eval loss so far (absent before an evaluation).
	BestEvalLoss *float64 `json:"best_eval_loss,omitempty"`
	// Validations are the task-metric validations on held-out training examples;
	// BestMetric is the best of them (absent without validations).
	Validations []ValidationMetrics `json:"validations,omitempty"`
	BestMetric  *float64            `json:"best_metric,omitempty"`
	// BestStep is the step of the best checkpoint: by BestMetric when the run
	// validated, else by BestEvalLoss.
	BestStep int `json:"best_step,omitempty"`
}

// evalColor tells the eval curve from the (black) train curve.
var evalColor = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}

// taskColors draw the per-set eval curves of Job.Evals (cycled beyond six sets); none
// is black or red, which the train and mean eval curves use.
var taskColors = []color.RGBA{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, {R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, {R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, {R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
}

// writeMetrics writes metrics.json and loss.png to outDir, each atomically.
func writeMetrics(outDir string, st *State) error {
	m := Metrics{Config: st.Config, Steps: st.History, Evals: st.Evals, BestEvalLoss: st.BestEvalLoss, BestStep: st.BestStep,
		Validations: st.Validations, BestMetric: st.BestMetric}
	if m.Steps == nil {
		m.Steps = []StepMetrics{}
	}
	if m.Evals == nil {
		m.Evals = []EvalMetrics{}
	}
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", metricsFile, err)
	}
	path := filepath.Join(outDir, metricsFile)
	err = atomicfile.WriteFile(path, append(data, '\n'), 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return writeLossPlot(filepath.Join(outDir, lossPlotFile), st)
}

// writeLossPlot draws train and eval loss against the step as a PNG, with the
// task-metric validations in a panel below when the run validated.
func writeLossPlot(path string, st *State) error {
	lp, err := lossPlot(st)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	var wt io.WriterTo
	if len(st.Validations) == 0 {
		wt, err = lp.WriterTo(8*vg.Inch, 5*vg.Inch, "png")
	} else {
		var mp *plot.Plot
		if mp, err = metricPlot(st); err == nil {
			wt, err = stacked(8*vg.Inch, []*plot.Plot{lp, mp}, []vg.Length{4.5 * vg.Inch, 3 * vg.Inch})
		}
	}
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	err = atomicfile.Write(path, 0o644, func(f *os.File) error {
		_, err := wt.WriteTo(f)
		return err
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// lossPlot is the train and eval loss against the step.
func lossPlot(st *State) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "loss"
	p.X.Label.Text, p.X.Tick.Marker = "step", stepTicks
	p.Y.Label.Text = "loss"
	p.Add(plotter.NewGrid())
	train := make(plotter.XYs, len(st.History))
	for i, h := range st.History {
		train[i] = plotter.XY{X: float64(h.Step), Y: h.Loss}
	}
	if len(train) > 0 {
		l, err := plotter.NewLine(train)
		if err != nil {
			return nil, fmt.Errorf("train loss: %w", err)
		}
		l.Color = plotter.DefaultLineStyle.Color
		p.Add(l)
		label := "train"
		if st.Config.CopyLoss > 0 { // the eval loss is the answer tokens' alone
			label = "train (+ copy loss)"
		}
		p.Legend.Add(label, l)
	}
	if err := addEvalCurves(p, st.Evals); err != nil {
		return nil, err
	}
	if len(st.Validations) == 0 { // else the best checkpoint is the metric's, ringed below
		if err := addBestMarker(p, st); err != nil {
			return nil, err
		}
	}
	if n := len(st.History); n > 0 {
		// Room right of the last step, so that a marker there is drawn whole.
		last := float64(max(st.History[n-1].Step, lastEvalStep(st.Evals)))
		p.X.Min, p.X.Max = 0, last+math.Max(1, 0.02*last)
	}
	if positiveLosses(st) {
		// The first steps' losses are ten times the late ones: a log axis keeps
		// the part of the curve that matters readable.
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, logTicks
	}
	p.Legend.Top = true
	return p, nil
}

// positiveLosses reports whether every loss is positive (a log axis can show it).
func positiveLosses(st *State) bool {
	for _, h := range st.History {
		if !(h.Loss > 0) {
			return false
		}
	}
	for _, e := range st.Evals {
		if !(e.Loss > 0) {
			return false
		}
	}
	return len(st.History) > 0
}

// addEvalCurves draws the eval loss: one curve ("eval") for a single held-out set, or
// one curve per named set plus their mean ("eval mean") for Job.Evals.
func addEvalCurves(p *plot.Plot, evals []EvalMetrics) error {
	if len(evals) == 0 {
		return nil
	}
	var names []string
	for _, e := range evals {
		for name := range e.Tasks {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	for i, name := range names {
		var pts plotter.XYs
		for _, e := range evals {
			if l, ok := e.Tasks[name]; ok {
				pts = append(pts, plotter.XY{X: float64(e.Step), Y: l})
			}
		}
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("eval loss of %s: %w", name, err)
		}
		c := taskColors[i%len(taskColors)]
		l.Color, s.Color = c, c
		evalMarker(s)
		p.Add(l, s)
		p.Legend.Add("eval "+name, l, s)
	}
	mean := make(plotter.XYs, len(evals))
	for i, e := range evals {
		mean[i] = plotter.XY{X: float64(e.Step), Y: e.Loss}
	}
	l, s, err := plotter.NewLinePoints(mean)
	if err != nil {
		return fmt.Errorf("eval loss: %w", err)
	}
	l.Color, s.Color = evalColor, evalColor
	evalMarker(s)
	label := "eval"
	if len(names) > 0 {
		label, l.Dashes = "eval mean", []vg.Length{vg.Points(4), vg.Points(3)}
	}
	p.Add(l, s)
	p.Legend.Add(label, l, s)
	return nil
}

// evalMarker draws every evaluation as a filled dot, visible over the train curve.
func evalMarker(s *plotter.Scatter) {
	s.GlyphStyle.Shape = draw.CircleGlyph{}
	s.GlyphStyle.Radius = vg.Points(3)
}

// lastEvalStep is the step of the last evaluation, 0 without one.
func lastEvalStep(evals []EvalMetrics) int {
	if len(evals) == 0 {
		return 0
	}
	return evals[len(evals)-1].Step
}

// addBestMarker rings the best evaluation (the checkpoint kept as best).
func addBestMarker(p *plot.Plot, st *State) error {
	if st.BestEvalLoss == nil || st.BestStep == 0 || math.IsNaN(*st.BestEvalLoss) || math.IsInf(*st.BestEvalLoss, 0) {
		return nil
	}
	s, err := plotter.NewScatter(plotter.XYs{{X: float64(st.BestStep), Y: *st.BestEvalLoss}})
	if err != nil {
		return fmt.Errorf("best eval: %w", err)
	}
	s.GlyphStyle.Shape, s.GlyphStyle.Radius, s.GlyphStyle.Color = draw.RingGlyph{}, vg.Points(6), evalColor
	p.Add(s)
	p.Legend.Add(fmt.Sprintf("best eval (step %d)", st.BestStep), s)
	return nil
}
