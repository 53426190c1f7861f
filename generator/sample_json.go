package generator

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cyclecore/mlmforge/generator/lexicon"
)

// sampleJSON samples an EdgeJSON target: an object valid against the cell's schema.
func (ts *targetSampler) sampleJSON(cell Cell, r *rand.Rand, src lexicon.Source) (Sample, error) {
	n, ok := ts.schemas[cell.SchemaID]
	if !ok {
		_, err := ts.cat.Schema(cell.SchemaID)
		return Sample{}, err
	}
	obj, err := n.sampleObject(r, src, nil, nil)
	if err != nil {
		return Sample{}, fmt.Errorf("schema %s: %w", cell.SchemaID, err)
	}
	sch, err := ts.cat.CompiledSchema(cell.SchemaID)
	if err != nil {
		return Sample{}, err
	}
	if err := validateAgainst(sch, obj); err != nil {
		return Sample{}, fmt.Errorf("schema %s: sampled target is invalid (a sampler bug): %w", cell.SchemaID, err)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return Sample{}, fmt.Errorf("schema %s: encode target: %w", cell.SchemaID, err)
	}
	return Sample{Cell: cell, Target: b}, nil
}

// laterValue returns a value of format (date, date-time or time) a plausible
// span after first, for the property second of an ordered pair; false when
// first does not parse or a later time would pass midnight.
func laterValue(format, first, second string, r *rand.Rand) (string, bool) {
	switch format {
	case "date":
		t, err := time.Parse(time.DateOnly, first)
		if err != nil {
			return "", false
		}
		lo, hi := 1, 14
		switch second {
		case "due_date":
			lo, hi = 14, 45
		case "return_date":
			lo, hi = 2, 21
		}
		return t.AddDate(0, 0, lo+r.IntN(hi-lo+1)).Format(time.DateOnly), true
	case "date-time":
		t, err := time.Parse(time.RFC3339, first)
		if err != nil {
			return "", false
		}
		span := time.Duration(2+r.IntN(15)) * 15 * time.Minute // a meeting
		switch second {
		case "arrival":
			span = time.Duration(4+r.IntN(45)) * 15 * time.Minute // a flight
		case "dropoff":
			span = time.Duration(1+r.IntN(14)) * 24 * time.Hour // a car rental
		}
		return t.Add(span).Format(time.RFC3339), true
	case "time":
		t, err := time.Parse("15:04", first)
		if err != nil {
			return "", false
		}
		later := t.Add(time.Duration(2+r.IntN(7)) * 30 * time.Minute)
		if later.Day() != t.Day() {
			return "", false
		}
		return later.Format("15:04"), true
	}
	return "", false
}
