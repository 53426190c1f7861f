package importer

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// ImportCSV reads a CSV file with a header row (tab-separated when the name
// ends in .tsv) into records of opts.Task, one per row, mapping columns to
// fields by opts.Mapping. Every error names the file, the line and the column,
// e.g. `tests.csv:7:12: column "split": unknown split "dev": allowed splits are
// train, val, test`. Columns no field is mapped to are kept in Meta "columns".
// Ids come from the id column, else "<IDPrefix>-<line>", so re-importing the
// same file gives the same ids.
func ImportCSV(path string, opts TableOptions) (*Dataset, error) {
	name := filepath.Base(path)
	opts, err := opts.normalize(name)
	if err != nil {
		return nil, fmt.Errorf("import csv %s: %w", path, err)
	}
	b, err := newBuilder(opts.Task, "csv", opts)
	if err != nil {
		return nil, err
	}
	data, file, err := b.readFile(path, name)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	if strings.EqualFold(filepath.Ext(name), ".tsv") {
		// TSV files rarely quote: a JSON target's quotes are text, not CSV quoting.
		r.Comma, r.LazyQuotes = '\t', true
	}
	header, cols, err := csvHeader(r, name)
	if err != nil {
		return nil, err
	}
	has := func(c string) bool { _, ok := cols[c]; return ok }
	m, err := opts.Mapping.resolve(opts.Task, has)
	if err != nil {
		return nil, fmt.Errorf("import csv: %s: %w", name, err)
	}
	for _, fc := range m.columns() {
		if !has(fc[1]) {
			return nil, fmt.Errorf("import csv: %s:1: no column %q (field %s): the header has %s",
				name, fc[1], fc[0], strings.Join(header, ", "))
		}
	}
	t := newTableImporter(b, file, name, opts, m)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, csvErr(name, err)
		}
		row := tableRow{vals: make(map[string]value, len(rec))}
		row.line, _ = r.FieldPos(0)
		for c, i := range cols {
			line, col := r.FieldPos(i)
			row.vals[c] = value{text: rec[i], col: col, line: line}
		}
		if err := t.add(row); err != nil {
			return nil, fmt.Errorf("import csv: %w", err)
		}
	}
	return b.finish()
}

// csvHeader reads the header row: the column names and their indexes.
func csvHeader(r *csv.Reader, name string) ([]string, map[string]int, error) {
	header, err := r.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("import csv: %s:1: empty file, want a header row", name)
	} else if err != nil {
		return nil, nil, csvErr(name, err)
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, dup := cols[h]; dup || h == "" {
			_, col := r.FieldPos(i)
			return nil, nil, fmt.Errorf("import csv: %s:1:%d: column %q: empty or duplicate column name", name, col, h)
		}
		header[i] = h
		cols[h] = i
	}
	return header, cols, nil
}

// csvErr formats a CSV syntax error as "file:line:col: ...".
func csvErr(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("import csv: %s:%d:%d: %w", name, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("import csv: %s: %w", name, err)
}

// ImportJSONL reads a JSON Lines file, one JSON object per line, into records
// of opts.Task, as ImportCSV does; the keys are the columns. Fields default to
// the same-named keys found on any line, so a file written by "mlmforge
// datasets export" imports back with its ids, splits and cells.
func ImportJSONL(path string, opts TableOptions) (*Dataset, error) {
	name := filepath.Base(path)
	opts, err := opts.normalize(name)
	if err != nil {
		return nil, fmt.Errorf("import jsonl %s: %w", path, err)
	}
	b, err := newBuilder(opts.Task, "jsonl", opts)
	if err != nil {
		return nil, err
	}
	data, file, err := b.readFile(path, name)
	if err != nil {
		return nil, err
	}
	var rows []tableRow
	err = eachLine(bytes.TrimPrefix(data, []byte("\ufeff")), func(line int, text []byte) error {
		vals, err := parseObjectLine(text)
		if err != nil {
			return jsonLineErr(name, line, text, err)
		}
		rows = append(rows, tableRow{line: line, vals: vals})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("import jsonl: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("import jsonl: %s: no JSON objects", name)
	}
	keys := map[string]bool{} // a key on any line: optional keys are often omitted when empty
	for _, r := range rows {
		for k := range r.vals {
			keys[k] = true
		}
	}
	m, err := opts.Mapping.resolve(opts.Task, func(c string) bool { return keys[c] })
	if err != nil {
		return nil, fmt.Errorf("import jsonl: %s: %w", name, err)
	}
	t := newTableImporter(b, file, name, opts, m)
	for _, row := range rows {
		if err := t.add(row); err != nil {
			return nil, fmt.Errorf("import jsonl: %w", err)
		}
	}
	return b.finish()
}

// colError is a JSON Lines error at a 1-based byte column.
type colError struct {
	col int
	msg string
}

func (e *colError) Error() string { return e.msg }

// parseObjectLine parses one JSON object, recording where each value starts.
func parseObjectLine(line []byte) (map[string]value, error) {
	vals, err := parseObject(line)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// A Decoder's offset counts the bytes before the offending one.
		return nil, &colError{int(se.Offset) + 1, "invalid JSON: " + se.Error()}
	}
	return vals, err
}

func parseObject(line []byte) (map[string]value, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &colError{len(line) - len(bytes.TrimLeft(line, " \t")) + 1, "want a JSON object per line"}
	}
	vals := map[string]value{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := kt.(string)
		col := int(dec.InputOffset()) + 1
		for col <= len(line) && strings.IndexByte(" \t\r:", line[col-1]) >= 0 {
			col++
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		if _, dup := vals[key]; dup {
			return nil, &colError{col, fmt.Sprintf("column %q: duplicate key", key)}
		}
		v := value{raw: raw, col: col}
		switch {
		case raw[0] == '"':
			if err := json.Unmarshal(raw, &v.text); err != nil {
				return nil, &colError{col, fmt.Sprintf("column %q: %v", key, err)}
			}
		case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
			v.text = string(raw)
		}
		vals[key] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &colError{int(dec.InputOffset()) + 1, "text after the JSON object"}
	}
	return vals, nil
}

// jsonLineErr formats a JSON Lines error as "file:line:col: invalid JSON: ...".
func jsonLineErr(name string, line int, text []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var ce *colError
	switch {
	case errors.As(err, &ce):
		return fmt.Errorf("%s:%d:%d: %s", name, line, ce.col, ce.msg)
	case errors.As(err, &se):
		return fmt.Errorf("%s:%d:%d: invalid JSON: %w", name, line, max(se.Offset, 1), err)
	case errors.As(err, &te):
		return fmt.Errorf("%s:%d:%d: %w", name, line, max(te.Offset, 1), err)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("%s:%d:%d: invalid JSON: unexpected end of line", name, line, len(text)+1)
	}
	return fmt.Errorf("%s:%d: %w", name, line, err)
}
