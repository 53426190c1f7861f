package eval

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/png"
	"math"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/internal/testutil"
)

// intentRecords builds hand-made EdgeIntent records of taxonomy assistant-50.
func intentRecords(t *testing.T, golds ...string) ([]datasets.Record, []string) {
	t.Helper()
	tax, err := testutil.Catalog(t).Taxonomy("50")
	if err != nil {
		t.Fatal(err)
	}
	classes := make([]string, len(tax.Classes))
	for i, c := range tax.Classes {
		classes[i] = c.ID
	}
	recs := make([]datasets.Record, len(golds))
	for i, g := range golds {
		recs[i] = datasets.Record{ID: fmt.Sprintf("r%d", i), Task: "edgeintent", Variant: tax.ID, Target: fmt.Sprintf(`{"intent":%q}`, g)}
	}
	return recs, classes
}

func TestIntentPredictionForms(t *testing.T) {
	s := testScorer(t)
	_, cls := intentRecords(t)
	a, b := cls[0], cls[1]
	ranked := []string{b, cls[2], cls[3], cls[4], a}
	tests := []struct {
		name       string
		pred       Prediction
		top1, top5 bool
		invalid    bool
	}{
		{"json object", Prediction{Raw: fmt.Sprintf(`{"intent": %q}`, a)}, true, true, false},
		{"bare label", Prediction{Raw: a + "\n"}, true, true, false},
		{"json string", Prediction{Raw: fmt.Sprintf("%q", a)}, true, true, false},
		{"spaced and capitalized", Prediction{Raw: "  " + toTitleWords(a) + "."}, true, true, false},
		{"wrong label", Prediction{Raw: b}, false, false, false},
		{"wrong top-1 but in ranked top-5", Prediction{Raw: b, Ranked: ranked}, false, true, false},
		{"ranked only, gold sixth", Prediction{Ranked: []string{b, cls[2], cls[3], cls[4], cls[5], a}}, false, false, false},
		{"scores only, argmax is gold", Prediction{Scores: map[string]float64{a: -0.1, b: -2.3}}, true, true, false},
		{"logprobs, gold second", Prediction{Scores: map[string]float64{a: -1.5, b: -0.2}}, false, true, false},
		{"label outside the taxonomy", Prediction{Raw: "order_pizza_for_mars"}, false, false, true},
		{"truncated json", Prediction{Raw: `{"intent": "se`}, false, false, true},
		{"wrong type", Prediction{Raw: `{"intent": 7}`}, false, false, true},
		{"garbage with ranked list still ranks", Prediction{Raw: "\x00\x01", Ranked: []string{a}}, false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, _ := intentRecords(t, a)
			tt.pred.ID = recs[0].ID
			rep, err := s.Score(recs, []Prediction{tt.pred})
			if err != nil {
				t.Fatal(err)
			}
			m := rep.EdgeIntent
			if (m.Top1 == 1) != tt.top1 || (m.Top5 == 1) != tt.top5 || (m.Invalid == 1) != tt.invalid {
				t.Errorf("top1 %v top5 %v invalid %d; parsed %s error %q", m.Top1, m.Top5, m.Invalid, rep.Examples[0].Parsed, rep.Examples[0].ParseError)
			}
		})
	}
}

// toTitleWords turns "set_timer" into "Set Timer".
func toTitleWords(s string) string {
	b := []byte(s)
	up := true
	for i, c := range b {
		if c == '_' {
			b[i], up = ' ', true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = false
	}
	return string(b)
}

func TestIntentMacroF1AndConfusion(t *testing.T) {
	s := testScorer(t)
	_, cls := intentRecords(t)
	a, b, c := cls[0], cls[1], cls[2]
	// gold: a a a b b c; pred: a a b b b (invalid)
	recs, _ := intentRecords(t, a, a, a, b, b, c)
	raws := []string{a, a, b, b, b, "nonsense"}
	preds := make([]Prediction, len(recs))
	for i := range recs {
		preds[i] = Prediction{ID: recs[i].ID, Raw: raws[i]}
	}
	rep, err := s.Score(recs, preds)
	if err != nil {
		t.Fatal(err)
	}
	m := rep.EdgeIntent
	// a: P 2/2 R 2/3 F1 0.8; b: P 2/3 R 1 F1 0.8; c: P 0 R 0 F1 0.
	wantF1 := (0.8 + 0.8 + 0) / 3
	if math.Abs(m.MacroF1-wantF1) > 1e-9 || math.Abs(m.Top1-4.0/6) > 1e-9 || m.Invalid != 1 || len(m.PerClass) != 3 {
		t.Errorf("macro F1 %.4f (want %.4f), top1 %.3f, invalid %d, per class %v", m.MacroF1, wantF1, m.Top1, m.Invalid, m.PerClass)
	}
	conf := m.Confusion
	if len(conf.Labels) != 50 || len(conf.Counts[0]) != 51 {
		t.Fatalf("confusion %dx%d", len(conf.Counts), len(conf.Counts[0]))
	}
	if conf.Counts[0][0] != 2 || conf.Counts[0][1] != 1 || conf.Counts[1][1] != 2 || conf.Counts[2][50] != 1 {
		t.Errorf("confusion rows %v %v %v", conf.Counts[0][:3], conf.Counts[1][:3], conf.Counts[2][50])
	}
	wantPairs := []ConfusedPair{{Gold: a, Pred: b, Count: 1, Rate: 1.0 / 3}, {Gold: c, Pred: InvalidLabel, Count: 1, Rate: 1}}
	if a > c { // ties sort by gold label
		wantPairs[0], wantPairs[1] = wantPairs[1], wantPairs[0]
	}
	if fmt.Sprint(m.MostConfused) != fmt.Sprint(wantPairs) {
		t.Errorf("most confused %v, want %v", m.MostConfused, wantPairs)
	}
	var buf bytes.Buffer
	if err := conf.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 51 || len(rows[0]) != 52 || rows[0][51] != InvalidLabel || rows[1][0] != a || rows[1][1] != "2" || rows[1][2] != "1" {
		t.Errorf("csv header %v first row %v", rows[0][:3], rows[1][:3])
	}
}

func TestConfusionPNGScalesWithClasses(t *testing.T) {
	var widths []int
	sizes := []int{50, 200}
	if raceEnabled {
		sizes[1] = 100 // the race detector makes the 200-class render take ~20 s
	}
	for _, k := range sizes {
		c := &Confusion{Labels: make([]string, k), Counts: make([][]int, k)}
		for i := range c.Labels {
			c.Labels[i] = fmt.Sprintf("class_label_number_%03d", i)
			c.Counts[i] = make([]int, k+1)
			c.Counts[i][i] = 5
			c.Counts[i][(i+1)%k] = 1
		}
		var buf bytes.Buffer
		if err := c.WritePNG(&buf); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w, h := img.Bounds().Dx(), img.Bounds().Dy()
		// Every label needs a few pixels of its own to stay legible.
		if w < 7*k || h < 7*k {
			t.Errorf("%d classes: image %dx%d is too small for legible labels", k, w, h)
		}
		widths = append(widths, w)
	}
	if widths[1] <= widths[0] {
		t.Errorf("image widths %v do not grow with the class count", widths)
	}
	if err := (&Confusion{}).WritePNG(&bytes.Buffer{}); err == nil {
		t.Error("empty matrix: want an error")
	}
}
