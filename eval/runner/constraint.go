package runner

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/eval/constrain"
	"github.com/cyclecore/mlmforge/schemas"
)

// maskers caches one compiled masker per answer schema: compiling walks the
// whole vocabulary, a hook per generation is cheap.
type maskers struct {
	mu sync.Mutex
	m  map[string]*constrain.Masker
}

// constraint returns the JSON-Schema token mask for r's answer: the record's
// schema (EdgeJSON), {"intent": <one of the taxonomy's classes>} (EdgeIntent),
// or the function-calling answer shape over the catalog's functions.
func (s *Student) constraint(r *datasets.Record, task schemas.Task) (func([]int, []float32), error) {
	key, schema, err := s.answerSchema(r, task)
	if err != nil {
		return nil, err
	}
	s.masks.mu.Lock()
	defer s.masks.mu.Unlock()
	if s.masks.m == nil {
		s.masks.m = map[string]*constrain.Masker{}
	}
	m, ok := s.masks.m[key]
	if !ok {
		if m, err = constrain.NewMasker(s.tok, schema); err != nil {
			return nil, fmt.Errorf("constrain %s: %w", key, err)
		}
		s.masks.m[key] = m
	}
	return m.Hook(), nil
}

func (s *Student) answerSchema(r *datasets.Record, task schemas.Task) (string, json.RawMessage, error) {
	switch task {
	case schemas.EdgeJSON:
		sc, err := recordSchema(s.cat, r)
		return "json/" + r.Cell, sc, err
	case schemas.EdgeIntent:
		tax, err := s.cat.Taxonomy(r.Variant)
		if err != nil {
			return "", nil, fmt.Errorf("record %s: %w", r.ID, err)
		}
		labels := make([]string, len(tax.Classes))
		for i, c := range tax.Classes {
			labels[i] = c.ID
		}
		sc, err := constrain.IntentSchema(labels, false)
		return "intent/" + tax.ID, sc, err
	}
	sc, err := constrain.FuncCallSchema(s.cat.Functions)
	return "funccall", sc, err
}
