package runner

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/eval/constrain"
	"github.com/cyclecore/mlmforge/schemas"
)

// maskers caches one compiled masker per answer schema, keyed by the
// schema's sha256: compiling walks the whole vocabulary, a hook per generation
// is cheap. Records of one cell with different schemas (imported data) get
// different masks. A schema that did not compile is cached as its error.
type maskers struct {
	mu   sync.Mutex
	m    map[[32]byte]*constrain.Masker
	errs map[[32]byte]error
	// vocab is the first masker built: later ones share its vocabulary index.
	vocab *constrain.Masker
}

// MaskUnsupportedError is a schema the JSON-Schema mask cannot compile: the
// example is then decoded without a mask (Prediction.MaskFallback).
type MaskUnsupportedError struct {
	// Err is the compile error, naming the keyword and its path.
	Err error
}

func (e *MaskUnsupportedError) Error() string { return "no JSON-Schema mask: " + e.Err.Error() }

func (e *MaskUnsupportedError) Unwrap() error { return e.Err }

// constraint returns the JSON-Schema token mask for r's answer: the record's
// schema (EdgeJSON), {"intent": <one of the taxonomy's classes>} (EdgeIntent),
// or the function-calling answer shape over the functions its prompt offers. A schema
// the mask cannot compile gives a *MaskUnsupportedError; any other error
// (the record has no schema) fails the example loudly.
func (s *Student) constraint(r *datasets.Record, task schemas.Task) (func([]int, []float32), error) {
	schema, err := s.answerSchema(r, task)
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256(schema)
	s.masks.mu.Lock()
	defer s.masks.mu.Unlock()
	if s.masks.m == nil {
		s.masks.m, s.masks.errs = map[[32]byte]*constrain.Masker{}, map[[32]byte]error{}
	}
	if err := s.masks.errs[key]; err != nil {
		return nil, err
	}
	m, ok := s.masks.m[key]
	if !ok {
		sc, err := constrain.Compile(schema)
		if err != nil {
			err = &MaskUnsupportedError{Err: err}
			s.masks.errs[key] = err
			return nil, err
		}
		if s.masks.vocab == nil {
			s.masks.vocab = constrain.NewSchemaMasker(s.tok, sc)
		}
		m = s.masks.vocab.WithSchema(sc)
		s.masks.m[key] = m
	}
	return m.Hook(), nil
}

func (s *Student) answerSchema(r *datasets.Record, task schemas.Task) (json.RawMessage, error) {
	switch task {
	case schemas.EdgeJSON:
		return eval.RecordSchema(s.cat, r)
	case schemas.EdgeIntent:
		tax, err := s.cat.Taxonomy(r.Variant)
		if err != nil {
			// An imported taxonomy: its label set is not known here.
			return nil, &MaskUnsupportedError{Err: fmt.Errorf("record %s: taxonomy %q is not in the catalog: %w", r.ID, r.Variant, err)}
		}
		labels := make([]string, len(tax.Classes))
		for i, c := range tax.Classes {
			labels[i] = c.ID
		}
		return constrain.IntentSchema(labels, false)
	}
	funcs, own, err := eval.RecordFunctions(r)
	if err != nil {
		return nil, err
	}
	if !own {
		// The functions the prompt offers, not the whole catalog: a call
		// names one of them and fills their parameters.
		names, err := train.OfferedFunctions(s.cat, r)
		if err != nil {
			return nil, err
		}
		funcs = funcs[:0]
		for _, n := range names {
			f, err := s.cat.Function(n)
			if err != nil {
				return nil, fmt.Errorf("record %s: %w", r.ID, err)
			}
			funcs = append(funcs, f)
		}
	}
	return constrain.FuncCallSchema(funcs)
}
