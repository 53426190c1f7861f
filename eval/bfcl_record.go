package eval

import (
	"bytes"
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
	if err := UnmarshalNumbers(m.Functions, &b.funcs); err != nil {
		return nil, fmt.Errorf("record %q: field meta.functions: %w", rec.ID, err)
	}
	if len(m.PossibleAnswer) > 0 {
		if err := UnmarshalNumbers(m.PossibleAnswer, &b.answers); err != nil {
			return nil, fmt.Errorf("record %q: field meta.possible_answer: %w", rec.ID, err)
		}
	}
	return b, nil
}

// UnmarshalNumbers is json.Unmarshal with numbers decoded as json.Number, so
// that 5 and 5.0 stay an int and a float (as Python's json.loads reads them,
// which BFCL's type checks depend on) and large integers keep their digits.
// Trailing data after the value is an error.
func UnmarshalNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value at offset %d", dec.InputOffset())
	}
	return nil
}
