package eval

import (
	"errors"
	"fmt"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/schemas"
)

// DefaultMaxOutputBytes bounds the model output the scorer parses.
const DefaultMaxOutputBytes = 1 << 20

// Scorer scores predictions against dataset records. It is safe for
// concurrent use: Score keeps its state per call.
type Scorer struct {
	cat *schemas.Catalog
	// MaxOutputBytes is the longest output (Raw plus TurnOutputs) that is
	// parsed; a longer one fails as a parse error with the raw text kept, so
	// a runaway generation cannot stall scoring. Zero means DefaultMaxOutputBytes.
	MaxOutputBytes int
}

// NewScorer returns a scorer over the catalog the records were generated
// from (schemas, taxonomies and the functions' mocks).
func NewScorer(cat *schemas.Catalog) (*Scorer, error) {
	if cat == nil {
		return nil, errors.New("eval: nil catalog")
	}
	return &Scorer{cat: cat}, nil
}

// Report is the result of scoring: metrics for each task present among the
// records, cost aggregates, and every example's result.
type Report struct {
	// N is the number of records scored.
	N int `json:"n"`
	// MissingPredictions counts records without a prediction; they score as failures.
	MissingPredictions int `json:"missing_predictions"`
	// MaskFallbacks counts predictions of a constrained run decoded without
	// the JSON-Schema mask (Prediction.MaskFallback).
	MaskFallbacks int `json:"mask_fallbacks,omitempty"`
	// EdgeJSON, EdgeIntent and EdgeFuncCall are set for tasks present.
	EdgeJSON     *JSONMetrics     `json:"edgejson,omitempty"`
	EdgeIntent   *IntentMetrics   `json:"edgeintent,omitempty"`
	EdgeFuncCall *FuncCallMetrics `json:"edgefunccall,omitempty"`
	// Cost aggregates the predictions' costs (latencies assumed sequential).
	Cost CostSummary `json:"cost"`
	// Examples holds one result per record, in record order.
	Examples []ExampleResult `json:"examples,omitempty"`
}

// Score scores predictions (matched to records by ID) and returns the
// report. Records without a prediction score as failures; a prediction for
// no record, a duplicate prediction, or a record whose gold cannot be read is
// an error naming the record. Model output never causes an error.
func (s *Scorer) Score(records []datasets.Record, preds []Prediction) (*Report, error) {
	byID := make(map[string]int, len(preds))
	for i, p := range preds {
		if _, dup := byID[p.ID]; dup {
			return nil, fmt.Errorf("prediction %d: field id: duplicate id %q", i, p.ID)
		}
		byID[p.ID] = i
	}
	ts := taskScorers{dataLabels: importedLabels(s.cat, records)}
	rep := &Report{N: len(records), Examples: make([]ExampleResult, len(records))}
	costs := make([]Cost, 0, len(records))
	used := 0
	for i := range records {
		rec := &records[i]
		res := &rep.Examples[i]
		res.Task = rec.Task
		if j, ok := byID[rec.ID]; ok {
			res.Prediction = preds[j]
			res.Parsed, res.ParseError = nil, ""
			costs = append(costs, preds[j].Cost)
			used++
			if preds[j].MaskFallback != "" {
				rep.MaskFallbacks++
			}
		} else {
			res.Prediction = Prediction{ID: rec.ID, ParseError: "no prediction for this record"}
			res.Missing = true
			rep.MissingPredictions++
		}
		if n := outputBytes(&res.Prediction); n > s.maxOutput() {
			res.ParseError = fmt.Sprintf("output is %d bytes, over the %d-byte limit", n, s.maxOutput())
		}
		if err := ts.score(s.cat, rec, res); err != nil {
			return nil, err
		}
	}
	if used != len(preds) {
		for _, p := range preds {
			if !hasRecord(records, p.ID) {
				return nil, fmt.Errorf("prediction %q: field id: no record with this id", p.ID)
			}
		}
	}
	if ts.json != nil {
		rep.EdgeJSON = ts.json.metrics()
	}
	if ts.intent != nil {
		rep.EdgeIntent = ts.intent.metrics()
	}
	if ts.fc != nil {
		rep.EdgeFuncCall = ts.fc.metrics()
	}
	rep.Cost = SummarizeCost(costs, 0)
	return rep, nil
}

// taskScorers holds one scorer per task, created at the task's first record.
type taskScorers struct {
	// dataLabels are imported taxonomies' label sets (importedLabels).
	dataLabels map[string][]string
	json       *jsonScorer
	intent     *intentScorer
	fc         *funcScorer
}

// score dispatches one record to its task's scorer.
func (ts *taskScorers) score(cat *schemas.Catalog, rec *datasets.Record, res *ExampleResult) error {
	switch schemas.Task(rec.Task) {
	case schemas.EdgeJSON:
		if ts.json == nil {
			ts.json = newJSONScorer(cat)
		}
		return ts.json.score(rec, res)
	case schemas.EdgeIntent:
		if ts.intent == nil {
			ts.intent = newIntentScorer(cat)
			ts.intent.dataLabels = ts.dataLabels
		}
		return ts.intent.score(rec, res)
	case schemas.EdgeFuncCall:
		if ts.fc == nil {
			fc, err := newFuncScorer(cat)
			if err != nil {
				return err
			}
			ts.fc = fc
		}
		return ts.fc.score(rec, res)
	}
	return fmt.Errorf("record %q: field task: unknown task %q", rec.ID, rec.Task)
}

func (s *Scorer) maxOutput() int {
	if s.MaxOutputBytes > 0 {
		return s.MaxOutputBytes
	}
	return DefaultMaxOutputBytes
}

func outputBytes(p *Prediction) int {
	n := len(p.Raw)
	for _, t := range p.TurnOutputs {
		n += len(t)
	}
	return n
}

func hasRecord(records []datasets.Record, id string) bool {
	for i := range records {
		if records[i].ID == id {
			return true
		}
	}
	return false
}
