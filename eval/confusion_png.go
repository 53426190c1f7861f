package eval

import (
	"fmt"
	"image"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// WritePNG draws the matrix as a heat map of row-normalized rates (the share
// of each gold class predicted as each column) and writes it as PNG: one
// flat cell per class pair, drawn pixel-exact (no smoothing between cells),
// white for 0 and dark blue for 1, grey for a class without examples; up to
// 15 classes each cell also shows its percentage. Every class is labelled:
// the image grows with the number of classes so that the labels of a
// 200-class taxonomy stay legible.
func (c *Confusion) WritePNG(w io.Writer) error {
	k := len(c.Labels)
	if k == 0 {
		return fmt.Errorf("write confusion png: no classes")
	}
	pal, err := brewer.GetPalette(brewer.TypeSequential, "Blues", 9)
	if err != nil {
		return fmt.Errorf("confusion png palette: %w", err)
	}
	cells := &cellGrid{rates: c.rates(), colors: pal.Colors(), nan: color.Gray{Y: 230}, annotate: k <= 15}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Confusion, %d classes (%% of each gold class)", k)
	p.Title.TextStyle.Font.Size = vg.Points(10)
	p.X.Label.Text, p.Y.Label.Text = "predicted", "gold"
	p.Add(cells)
	cell, font := vg.Points(12), vg.Points(7)
	switch {
	case k > 60:
		cell, font = vg.Points(9), vg.Points(5.5)
	case k <= 15:
		cell, font = vg.Points(36), vg.Points(8)
	}
	xt, yt := make([]plot.Tick, k+1), make([]plot.Tick, k)
	for j := 0; j <= k; j++ {
		xt[j] = plot.Tick{Value: float64(j), Label: c.column(j)}
	}
	for g := 0; g < k; g++ {
		yt[g] = plot.Tick{Value: float64(k - 1 - g), Label: c.Labels[g]}
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.5, float64(k)+0.5, -0.5, float64(k)-0.5
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = font, font
	p.X.Tick.Label.Rotation = math.Pi / 2
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	p.X.Padding, p.Y.Padding = 0, 0
	// Square cells: the margins are what the labels take, measured.
	var longest vg.Length
	for j := 0; j <= k; j++ {
		longest = max(longest, p.X.Tick.Label.Width(c.column(j)))
	}
	side := longest + vg.Points(36) // tick label, tick marks, axis label
	width := max(side+cell*vg.Length(k+1)+vg.Points(12), p.Title.TextStyle.Width(p.Title.Text)+vg.Points(24))
	height := side + cell*vg.Length(k) + vg.Points(30)
	wt, err := p.WriterTo(width, height, "png")
	if err != nil {
		return fmt.Errorf("render confusion png: %w", err)
	}
	if _, err := wt.WriteTo(w); err != nil {
		return fmt.Errorf("write confusion png: %w", err)
	}
	return nil
}

// rates is the row-normalized matrix; NaN for a class without examples.
func (c *Confusion) rates() [][]float64 {
	out := make([][]float64, len(c.Counts))
	for g, row := range c.Counts {
		support := 0
		for _, n := range row {
			support += n
		}
		out[g] = make([]float64, len(row))
		for j, n := range row {
			if support > 0 {
				out[g][j] = float64(n) / float64(support)
			} else {
				out[g][j] = math.NaN()
			}
		}
	}
	return out
}

// cellGrid draws the matrix as an image with exactly one device pixel per
// image pixel, each pixel taking the colour of the cell it falls in: a
// raster scaled by the renderer (plotter.HeatMap's) is interpolated and
// blurs the cells, and one rectangle per cell is slow for 200 classes.
type cellGrid struct {
	rates    [][]float64 // gold row 0 drawn at the top
	colors   []color.Color
	nan      color.Color
	annotate bool
}

// Plot implements plot.Plotter over the data area [-0.5, cols-0.5] x [-0.5, rows-0.5].
func (g *cellGrid) Plot(c draw.Canvas, p *plot.Plot) {
	rows, cols := len(g.rates), len(g.rates[0])
	trX, trY := p.Transforms(&c)
	dpi := 96.0
	if d, ok := c.Canvas.(interface{ DPI() float64 }); ok {
		dpi = d.DPI()
	}
	x0, y0 := math.Round(trX(-0.5).Dots(dpi)), math.Round(trY(-0.5).Dots(dpi))
	x1, y1 := math.Round(trX(float64(cols)-0.5).Dots(dpi)), math.Round(trY(float64(rows)-0.5).Dots(dpi))
	wpx, hpx := int(x1-x0), int(y1-y0)
	if wpx <= 0 || hpx <= 0 {
		return
	}
	img := image.NewRGBA(image.Rect(0, 0, wpx, hpx))
	for py := 0; py < hpx; py++ {
		r := py * rows / hpx // image row 0 is the top: gold class 0
		for px := 0; px < wpx; px++ {
			img.Set(px, py, g.color(g.rates[r][px*cols/wpx]))
		}
	}
	toVG := func(d float64) vg.Length { return vg.Length(d * 72 / dpi) }
	c.DrawImage(vg.Rectangle{Min: vg.Point{X: toVG(x0), Y: toVG(y0)}, Max: vg.Point{X: toVG(x1), Y: toVG(y1)}}, img)
	if g.annotate {
		g.writeRates(c, trX, trY)
	}
}

// color maps a rate to the palette, interpolating between its colours.
func (g *cellGrid) color(v float64) color.Color {
	if math.IsNaN(v) {
		return g.nan
	}
	if v <= 0 {
		return color.White // the palette's lightest blue would hide which cells are empty
	}
	f := math.Max(0, math.Min(1, v)) * float64(len(g.colors)-1)
	i := min(int(f), len(g.colors)-2)
	a, b := color.RGBAModel.Convert(g.colors[i]).(color.RGBA), color.RGBAModel.Convert(g.colors[i+1]).(color.RGBA)
	t := f - float64(i)
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-t) + float64(y)*t)) }
	return color.RGBA{R: mix(a.R, b.R), G: mix(a.G, b.G), B: mix(a.B, b.B), A: 255}
}

// writeRates writes each non-empty cell's percentage at its centre, white
// on dark cells.
func (g *cellGrid) writeRates(c draw.Canvas, trX, trY func(float64) vg.Length) {
	sty := plot.New().Legend.TextStyle
	sty.Font.Size = vg.Points(7)
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
	for r, row := range g.rates {
		for j, v := range row {
			if math.IsNaN(v) || v == 0 {
				continue
			}
			sty.Color = color.Black
			if v > 0.5 {
				sty.Color = color.White
			}
			c.FillText(sty, vg.Point{X: trX(float64(j)), Y: trY(float64(len(g.rates) - 1 - r))}, fmt.Sprintf("%.0f", 100*v))
		}
	}
}
