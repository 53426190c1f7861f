package eval

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/schemas"
)

// TopK is the k of the top-k accuracy reported as Top5.
const TopK = 5

// IntentMetrics are the EdgeIntent metrics.
type IntentMetrics struct {
	// N is the number of examples.
	N int `json:"n"`
	// Invalid counts predictions that are not a class of the label set
	// (unparseable output included).
	Invalid int `json:"invalid"`
	// Top1 is the share of examples whose predicted class is the gold class.
	Top1 float64 `json:"top1"`
	// Top5 is the share whose gold class is among the first TopK of the ranking.
	Top5 float64 `json:"top5"`
	// MacroPrecision, MacroRecall and MacroF1 average the per-class values
	// over the classes that occur in the gold labels or the valid predictions.
	MacroPrecision float64 `json:"macro_precision"`
	MacroRecall    float64 `json:"macro_recall"`
	MacroF1        float64 `json:"macro_f1"`
	// PerClass holds each averaged class's precision, recall, F1 and support.
	PerClass map[string]ClassScores `json:"per_class"`
	// MostConfused are the largest off-diagonal confusion cells.
	MostConfused []ConfusedPair `json:"most_confused"`
	// Confusion is the full matrix; write it with WriteCSV or WritePNG.
	Confusion *Confusion `json:"-"`
}

// ClassScores are one class's scores.
type ClassScores struct {
	// Precision, Recall and F1 are the class's one-vs-rest scores.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// Support is the number of gold examples of the class.
	Support int `json:"support"`
}

// mostConfusedShown is how many confused pairs the metrics list.
const mostConfusedShown = 10

// intentScorer scores EdgeIntent examples.
type intentScorer struct {
	cat    *schemas.Catalog
	labels []string
	index  map[string]int
	counts map[[2]int]int // (gold, pred) -> count; pred -1 is "invalid"
	n      int
	inval  int
	top1   int
	topk   int
	seen   map[string]bool // taxonomies whose classes were added
	// dataLabels are the label sets of imported taxonomies the catalog does not
	// know (CLINC150, SNIPS): the gold labels of the scored records, sorted.
	dataLabels map[string][]string
}

func newIntentScorer(cat *schemas.Catalog) *intentScorer {
	return &intentScorer{cat: cat, index: map[string]int{}, seen: map[string]bool{}, counts: map[[2]int]int{}}
}

// addTaxonomy adds a taxonomy's classes to the label set, in catalog order.
func (s *intentScorer) addTaxonomy(ref string) error {
	if s.seen[ref] {
		return nil
	}
	tax, err := s.cat.Taxonomy(ref)
	if err != nil {
		labels, ok := s.dataLabels[ref]
		if !ok {
			return err
		}
		s.seen[ref] = true
		for _, l := range labels {
			s.addLabel(l)
		}
		return nil
	}
	s.seen[ref] = true
	for _, c := range tax.Classes {
		s.addLabel(c.ID)
	}
	return nil
}

// addLabel adds a class, indexed by its normalized form (NormLabel), the
// form predictions are read in; the label set shows the first spelling.
func (s *intentScorer) addLabel(l string) {
	n := NormLabel(l)
	if _, ok := s.index[n]; !ok {
		s.index[n] = len(s.labels)
		s.labels = append(s.labels, l)
	}
}

// intentParsed is the parsed form of an EdgeIntent prediction.
type intentParsed struct {
	Intent string   `json:"intent"`
	Ranked []string `json:"ranked,omitempty"`
}

func (s *intentScorer) score(rec *datasets.Record, res *ExampleResult) error {
	var gold struct {
		Intent string `json:"intent"`
	}
	if err := json.Unmarshal([]byte(rec.Target), &gold); err != nil {
		return fmt.Errorf("record %q: field target: %w", rec.ID, err)
	}
	if err := s.addTaxonomy(rec.Variant); err != nil {
		return fmt.Errorf("record %q: field variant: %w", rec.ID, err)
	}
	goldLabel := NormLabel(gold.Intent)
	g, ok := s.index[goldLabel]
	if !ok {
		return fmt.Errorf("record %q: field target: intent %q is not a class of taxonomy %s", rec.ID, gold.Intent, rec.Variant)
	}
	var label string
	if res.ParseError == "" {
		var err error
		if label, err = parseIntentLabel(res.Raw); err != nil {
			res.ParseError = parseErrorText(res, err)
		}
	}
	ranked := rankIntents(res.Prediction)
	if label == "" && res.ParseError == "" && strings.TrimSpace(res.Raw) == "" && len(ranked) > 0 {
		label = ranked[0] // a classifier head gives scores, no text
	}
	ranking := append([]string{label}, slices.DeleteFunc(ranked, func(c string) bool { return c == label })...)
	p, valid := s.index[label]
	s.n++
	s.record(g, p, valid)
	hit1 := valid && p == g
	hitK := slices.Contains(ranking[:min(TopK, len(ranking))], goldLabel)
	if hit1 {
		s.top1++
	}
	if hitK {
		s.topk++
	}
	if res.ParseError == "" {
		res.Parsed = marshalParsed(intentParsed{Intent: label, Ranked: ranked})
	}
	res.Correct = hit1
	res.Metrics = map[string]float64{"top1": b2f(hit1), "top5": b2f(hitK)}
	return nil
}

// record counts one (gold, pred) pair; an invalid prediction is pred -1.
func (s *intentScorer) record(g, p int, valid bool) {
	if !valid {
		s.inval++
		p = -1
	}
	s.counts[[2]int{g, p}]++
}

// parseIntentLabel reads the predicted class: {"intent": "x"} or "x" as JSON,
// or the plain text, normalized by NormLabel. Truncated or malformed JSON is an
// error; plain text that names no class is simply an invalid label.
func parseIntentLabel(raw string) (string, error) {
	s := stripFence(raw)
	if s == "" {
		return "", nil
	}
	if s[0] == '{' || s[0] == '"' || s[0] == '[' {
		v, err := extractJSON(s)
		if err != nil {
			return "", err
		}
		switch x := v.(type) {
		case string:
			return NormLabel(x), nil
		case map[string]any:
			if l, ok := x["intent"].(string); ok {
				return NormLabel(l), nil
			}
			return "", fmt.Errorf(`JSON object has no string "intent"`)
		}
		return "", fmt.Errorf("JSON %s is not a label", pyType(toPy(v)))
	}
	return NormLabel(s), nil
}

// NormLabel is the form in which intent labels are compared, gold and
// predicted alike: lower case, surrounding quotes, backticks and a final
// period trimmed, words (split at spaces, tabs, newlines and hyphens) joined
// with underscores: "Set Timer." and "set-timer" are "set_timer". Two labels
// of a label set with one normal form are one class.
func NormLabel(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.Trim(s, "\"'`")
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '-' || r == '\t' || r == '\n' }), "_")
}

// rankIntents returns the prediction's ranking: Ranked, else Scores sorted
// by descending score (ties by label), each label normalized.
func rankIntents(p Prediction) []string {
	var out []string
	if len(p.Ranked) > 0 {
		for _, l := range p.Ranked {
			out = append(out, NormLabel(l))
		}
		return out
	}
	for l := range p.Scores {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b string) int {
		if c := cmp.Compare(p.Scores[b], p.Scores[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for i := range out {
		out[i] = NormLabel(out[i])
	}
	return out
}

func (s *intentScorer) metrics() *IntentMetrics {
	conf := s.confusion()
	m := &IntentMetrics{N: s.n, Invalid: s.inval, Top1: ratio(float64(s.top1), s.n), Top5: ratio(float64(s.topk), s.n),
		PerClass: map[string]ClassScores{}, Confusion: conf, MostConfused: conf.MostConfused(mostConfusedShown)}
	k := len(conf.Labels)
	var sp, sr, sf float64
	classes := 0
	for c := 0; c < k; c++ {
		tp, support, predicted := conf.Counts[c][c], 0, 0
		for j := 0; j <= k; j++ {
			support += conf.Counts[c][j]
		}
		for i := 0; i < k; i++ {
			predicted += conf.Counts[i][c]
		}
		if support == 0 && predicted == 0 {
			continue
		}
		v := prfOf(tp, predicted, support)
		m.PerClass[conf.Labels[c]] = ClassScores{Precision: v.p, Recall: v.r, F1: v.f, Support: support}
		sp, sr, sf = sp+v.p, sr+v.r, sf+v.f
		classes++
	}
	m.MacroPrecision, m.MacroRecall, m.MacroF1 = ratio(sp, classes), ratio(sr, classes), ratio(sf, classes)
	return m
}

// confusion returns the square matrix over the label set plus the invalid column.
func (s *intentScorer) confusion() *Confusion {
	k := len(s.labels)
	c := &Confusion{Labels: slices.Clone(s.labels), Counts: make([][]int, k)}
	for g := range c.Counts {
		c.Counts[g] = make([]int, k+1)
	}
	for gp, n := range s.counts {
		p := gp[1]
		if p < 0 {
			p = k
		}
		c.Counts[gp[0]][p] += n
	}
	return c
}

// importedLabels collects, per variant the catalog does not know, the gold
// intents of the EdgeIntent records, sorted: an imported benchmark's label set
// is the set of its labels.
func importedLabels(cat *schemas.Catalog, records []datasets.Record) map[string][]string {
	sets := map[string]map[string]bool{}
	for i := range records {
		r := &records[i]
		if schemas.Task(r.Task) != schemas.EdgeIntent {
			continue
		}
		if _, err := cat.Taxonomy(r.Variant); err == nil {
			continue
		}
		var gold struct {
			Intent string `json:"intent"`
		}
		if json.Unmarshal([]byte(r.Target), &gold) != nil || gold.Intent == "" {
			continue // Score reports the broken record
		}
		if sets[r.Variant] == nil {
			sets[r.Variant] = map[string]bool{}
		}
		sets[r.Variant][gold.Intent] = true
	}
	out := make(map[string][]string, len(sets))
	for v, set := range sets {
		out[v] = slices.Sorted(maps.Keys(set))
	}
	return out
}
