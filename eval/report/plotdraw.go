package report

import (
	"fmt"
	"io"
	"math"
	"strconv"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Drawing helpers shared by the report's figures: a side panel outside the
// data area (legends and keys never cover points), and point labels placed
// so that they overlap neither each other nor the points.

// sidePadding separates the plot from its side panel; plotMargin is the
// blank border around the plot.
const (
	sidePadding = vg.Length(10)
	plotMargin  = vg.Length(8)
)

// niceTicks marks 4 to 8 round values from 0 to max (steps of 1, 2 or 5
// times a power of ten), labelled without needless decimals.
func niceTicks(lo, hi float64) []plot.Tick {
	span := hi - lo
	if span <= 0 || math.IsNaN(span) || math.IsInf(span, 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := span / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}

// renderWithSide draws p on the left of a width x height PNG and the side
// panel (drawn by side, in a column sideWidth wide) on its right.
func renderWithSide(w io.Writer, p *plot.Plot, side func(draw.Canvas), width, height, sideWidth vg.Length, what string) error {
	img := vgimg.New(width, height)
	dc := draw.New(img)
	// A margin all round: gonum draws the title and the longest tick labels
	// flush with the canvas edge.
	plotArea := draw.Crop(dc, plotMargin, -(sideWidth + sidePadding), plotMargin, -plotMargin)
	p.Draw(plotArea)
	if side != nil {
		sc := dc
		sc.Min.X = dc.Max.X - sideWidth
		sc = draw.Crop(sc, 0, -sidePadding, sidePadding, -sidePadding)
		side(sc)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	return nil
}

// keyEntry is one line of a side panel: a legend thumbnail or a label text.
type keyEntry struct {
	thumb plot.Thumbnailer // nil: text only
	label string           // for text-only lines, a short marker ("3") drawn before the text
	text  string
	bold  bool // a heading
}

// sidePanel lays out key entries top down.
type sidePanel struct {
	entries []keyEntry
	style   text.Style
}

func newSidePanel(size vg.Length) *sidePanel {
	return &sidePanel{style: text.Style{Font: font.From(plot.DefaultFont, size), Handler: plot.DefaultTextHandler}}
}

// lineHeight is the height of one entry.
func (s *sidePanel) lineHeight() vg.Length { return s.style.Font.Size * 1.45 }

// markerWidth is the column of thumbnails and markers.
func (s *sidePanel) markerWidth() vg.Length { return s.style.Font.Size * 3.2 }

// width is the panel's width: the widest entry.
func (s *sidePanel) width() vg.Length {
	var w vg.Length
	for _, e := range s.entries {
		w = max(w, s.markerWidth()+s.style.Width(e.text))
	}
	return w + 4
}

// height is the panel's height.
func (s *sidePanel) height() vg.Length { return s.lineHeight() * vg.Length(len(s.entries)+1) }

// draw draws the entries from the top of c.
func (s *sidePanel) draw(c draw.Canvas) {
	y := c.Max.Y - s.lineHeight()
	sty := s.style
	sty.YAlign = draw.YCenter
	for _, e := range s.entries {
		switch {
		case e.thumb != nil:
			tc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: c.Min.X, Y: y - s.lineHeight()*0.35},
				Max: vg.Point{X: c.Min.X + s.markerWidth()*0.8, Y: y + s.lineHeight()*0.35}}}
			e.thumb.Thumbnail(&tc)
		case e.label != "":
			ls := sty
			ls.XAlign = draw.XRight
			c.FillText(ls, vg.Point{X: c.Min.X + s.markerWidth()*0.8, Y: y}, e.label)
		}
		ts := sty
		if e.bold {
			ts.Font.Weight = xfont.WeightBold
		}
		x := c.Min.X + s.markerWidth()
		if e.bold {
			x = c.Min.X
		}
		c.FillText(ts, vg.Point{X: x, Y: y}, e.text)
		y -= s.lineHeight()
	}
}

// pointLabels is a plotter that writes a short text next to each point,
// choosing for each the first of several positions around it whose box
// stays inside the data area and overlaps no point and no label placed
// before; a label that fits nowhere takes the position with the least
// overlap.
type pointLabels struct {
	xys    []vg.Point // data coordinates (X, Y)
	texts  []string
	style  text.Style
	radius vg.Length // of the points' glyphs
}

var _ plot.Plotter = (*pointLabels)(nil)

// Plot implements plot.Plotter.
func (l *pointLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	pts := make([]vg.Point, len(l.xys))
	var taken []vg.Rectangle
	for i, d := range l.xys {
		pts[i] = vg.Point{X: trX(float64(d.X)), Y: trY(float64(d.Y))}
		r := l.radius + 1
		taken = append(taken, vg.Rectangle{Min: vg.Point{X: pts[i].X - r, Y: pts[i].Y - r}, Max: vg.Point{X: pts[i].X + r, Y: pts[i].Y + r}})
	}
	sty := l.style
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YBottom
	for i, txt := range l.texts {
		w, h := sty.Width(txt), sty.Height(txt)
		best, bestOverlap := vg.Rectangle{}, vg.Length(-1)
		for _, off := range labelOffsets(l.radius, w, h) {
			min := vg.Point{X: pts[i].X + off.X, Y: pts[i].Y + off.Y}
			box := vg.Rectangle{Min: min, Max: vg.Point{X: min.X + w, Y: min.Y + h}}
			if box.Min.X < c.Min.X || box.Max.X > c.Max.X || box.Min.Y < c.Min.Y || box.Max.Y > c.Max.Y {
				continue
			}
			o := overlapArea(box, taken)
			if bestOverlap < 0 || o < bestOverlap {
				best, bestOverlap = box, o
			}
			if o == 0 {
				break
			}
		}
		if bestOverlap < 0 {
			continue // no position inside the data area: leave it to the key
		}
		c.FillText(sty, best.Min, txt)
		taken = append(taken, best)
	}
}

// labelOffsets are the candidate positions of a w x h label's lower left
// corner relative to its point: right, left, above, below and the
// diagonals, at growing distances.
func labelOffsets(r, w, h vg.Length) []vg.Point {
	var out []vg.Point
	for _, d := range []vg.Length{r + 2, r + 8, r + 16} {
		out = append(out,
			vg.Point{X: d, Y: -h / 2}, vg.Point{X: -d - w, Y: -h / 2},
			vg.Point{X: -w / 2, Y: d}, vg.Point{X: -w / 2, Y: -d - h},
			vg.Point{X: d, Y: d / 2}, vg.Point{X: -d - w, Y: d / 2},
			vg.Point{X: d, Y: -d/2 - h}, vg.Point{X: -d - w, Y: -d/2 - h})
	}
	return out
}

// overlapArea sums the area box shares with the rectangles.
func overlapArea(box vg.Rectangle, rs []vg.Rectangle) vg.Length {
	var sum vg.Length
	for _, r := range rs {
		w := min(box.Max.X, r.Max.X) - max(box.Min.X, r.Min.X)
		h := min(box.Max.Y, r.Max.Y) - max(box.Min.Y, r.Min.Y)
		if w > 0 && h > 0 {
			sum += w * h
		}
	}
	return sum
}
