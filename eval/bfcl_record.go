package eval

import (
	"encoding/json"
	"fmt"

	"github.com/cyclecore/mlmforge/datasets"
)

// bfclRecord is what the AST checker needs from an imported BFCL record's
// Meta (datasets/importer.BFCLMeta): the category, the function docs and every
// acceptable value of the gold answer.
type bfclRecord struct {
	category string
	funcs    []BFCLFunction
	answers  []BFCLAnswer
}

// bfclCase reads a record's Meta as a BFCL case; nil when it is not one.
func bfclCase(rec *datasets.Record) (*bfclRecord, error) {
	if rec.Meta == "" {
		return nil, nil
	}
	var m struct {
		ID             string          `json:"bfcl_id"`
		Category       string          `json:"category"`
		Functions      json.RawMessage `json:"functions"`
		PossibleAnswer json.RawMessage `json:"possible_answer"`
	}
	if json.Unmarshal([]byte(rec.Meta), &m) != nil || m.ID == "" || len(m.Functions) == 0 {
		return nil, nil
	}
	b := &bfclRecord{category: m.Category}
	if err := json.Unmarshal(m.Functions, &b.funcs); err != nil {
		return nil, fmt.Errorf("record %q: field meta.functions: %w", rec.ID, err)
	}
	if len(m.PossibleAnswer) > 0 {
		if err := json.Unmarshal(m.PossibleAnswer, &b.answers); err != nil {
			return nil, fmt.Errorf("record %q: field meta.possible_answer: %w", rec.ID, err)
		}
	}
	return b, nil
}
