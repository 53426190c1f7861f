package importer

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/datasets"
)

// TableFile is one file of a table import, and the split of its rows
// ("" for the rows' split column, else TableOptions.DefaultSplit).
type TableFile struct {
	// Path is the file to read.
	Path string
	// Split is the split every row of the file belongs to; a row whose split
	// column says otherwise is a bad row.
	Split string
}

// tableFileOptions is what an import records of each file (spec hash and provenance).
type tableFileOptions struct {
	Name    string  `json:"name"`
	Split   string  `json:"split,omitempty"`
	Mapping Mapping `json:"mapping"` // resolved: the columns actually read
}

// tableImportOptions are the recorded options of a table import.
type tableImportOptions struct {
	TableOptions
	Files []tableFileOptions `json:"files"`
}

// ImportCSV reads a CSV file with a header row (tab-separated when the name
// ends in .tsv) into records of opts.Task, one per row, mapping columns to
// fields by opts.Mapping: ImportTable with one file.
func ImportCSV(path string, opts TableOptions) (*Dataset, error) {
	return ImportTable("csv", []TableFile{{Path: path}}, opts)
}

// ImportJSONL reads a JSON Lines file, one JSON object per line, into records
// of opts.Task, as ImportCSV does; the keys are the columns. Fields default to
// the same-named keys found on any line, so a file written by "mlmforge
// datasets export" imports back with its ids, splits and cells.
func ImportJSONL(path string, opts TableOptions) (*Dataset, error) {
	return ImportTable("jsonl", []TableFile{{Path: path}}, opts)
}

// ImportTable reads CSV ("csv") or JSON Lines ("jsonl") files into one
// dataset of opts.Task, one record per row; several files each name their
// split (train.csv as train, test.csv as test). Every error names the file,
// the line and the column (in characters), e.g. `tests.csv:7:12: column
// "split": unknown split "dev": allowed splits are train, val, test`. A bad row
// is skipped and listed in Dataset.BadRows unless opts.Strict; a bad file
// (unreadable, no header, a mapped column missing) stops the import. Columns
// no field is mapped to are kept in Meta "columns". Ids come from the id
// column, else "<IDPrefix>-<hash of split, input and target>", so they do not
// shift when rows are added or skipped.
func ImportTable(source string, files []TableFile, opts TableOptions) (*Dataset, error) {
	if source != "csv" && source != "jsonl" {
		return nil, fmt.Errorf("import table: source %q: want csv or jsonl", source)
	}
	if err := checkTableFiles(files); err != nil {
		return nil, fmt.Errorf("import %s: %w", source, err)
	}
	b, err := newBuilder(opts.Task, source, nil)
	if err != nil {
		return nil, err
	}
	b.strict = opts.Strict
	rec := tableImportOptions{TableOptions: opts}
	for _, f := range files {
		name := filepath.Base(f.Path)
		fopts, err := opts.normalize(name)
		if err != nil {
			return nil, fmt.Errorf("import %s %s: %w", source, f.Path, err)
		}
		if f.Split != "" && !slices.Contains(fopts.Splits, f.Split) {
			fopts.Splits = append(slices.Clone(fopts.Splits), f.Split)
		}
		read := importCSVFile
		if source == "jsonl" {
			read = importJSONLFile
		}
		m, err := read(b, f, name, fopts)
		if err != nil {
			return nil, err
		}
		rec.TableOptions = fopts
		rec.Files = append(rec.Files, tableFileOptions{Name: name, Split: f.Split, Mapping: m})
	}
	if len(files) > 1 {
		rec.IDPrefix = opts.IDPrefix // per file when empty
	}
	if b.d.Options, err = json.Marshal(rec); err != nil {
		return nil, fmt.Errorf("import %s: options: %w", source, err)
	}
	checkLabels(b)
	d, err := b.finish()
	if err != nil && len(b.d.Records) == 0 && len(b.d.BadRows) == 0 {
		// Nothing but headers or blank lines: say which files.
		names := make([]string, len(files))
		for i, f := range files {
			names[i] = f.Path
		}
		return nil, fmt.Errorf("%w in %s", err, strings.Join(names, ", "))
	}
	return d, err
}

// checkTableFiles refuses ambiguous file lists: several files need a split
// each, and two files may not share one.
func checkTableFiles(files []TableFile) error {
	if len(files) == 0 {
		return fmt.Errorf("no file to read")
	}
	seen := map[string]string{}
	for _, f := range files {
		if len(files) > 1 && f.Split == "" {
			return fmt.Errorf("%s: several files need a split each (train=FILE, test=FILE)", f.Path)
		}
		if f.Split == "" {
			continue
		}
		if err := datasets.ValidateSplit(f.Split); err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		if prev, dup := seen[f.Split]; dup {
			return fmt.Errorf("split %s given twice (%s and %s): put its rows in one file", f.Split, prev, f.Path)
		}
		seen[f.Split] = f.Path
	}
	return nil
}

// importCSVFile adds the rows of one CSV file and returns the resolved mapping.
func importCSVFile(b *builder, f TableFile, name string, opts TableOptions) (Mapping, error) {
	data, file, err := b.readFile(f.Path, name)
	if err != nil {
		return Mapping{}, err
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(data))
	if strings.EqualFold(filepath.Ext(name), ".tsv") {
		// TSV files rarely quote: a JSON target's quotes are text, not CSV quoting.
		r.Comma, r.LazyQuotes = '\t', true
	}
	lines := &lineIndex{data: data}
	header, cols, err := csvHeader(r, name, lines)
	if err != nil {
		return Mapping{}, err
	}
	has := func(c string) bool { _, ok := cols[c]; return ok }
	m, err := opts.Mapping.resolve(opts.Task, has)
	if err != nil {
		return Mapping{}, fmt.Errorf("import csv: %s: %w", name, err)
	}
	for _, fc := range m.columns() {
		if !has(fc[1]) {
			return Mapping{}, fmt.Errorf("import csv: %s:1: no column %q (field %s): the header has %s",
				name, fc[1], fc[0], strings.Join(header, ", "))
		}
	}
	t := newTableImporter(b, file, name, data, opts, m)
	t.split = f.Split
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if err := b.skip(csvErr(name, err, lines)); err != nil {
				return Mapping{}, fmt.Errorf("import csv: %w", err)
			}
			continue
		}
		row := tableRow{vals: make(map[string]value, len(rec))}
		row.line, _ = r.FieldPos(0)
		for c, i := range cols {
			line, col := r.FieldPos(i)
			row.vals[c] = value{text: rec[i], col: col, line: line}
		}
		if err := b.skip(t.add(row)); err != nil {
			return Mapping{}, fmt.Errorf("import csv: %w", err)
		}
	}
	return m, nil
}

// csvHeader reads the header row: the column names and their indexes.
func csvHeader(r *csv.Reader, name string, lines *lineIndex) ([]string, map[string]int, error) {
	header, err := r.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("import csv: %s:1: empty file, want a header row", name)
	} else if err != nil {
		return nil, nil, fmt.Errorf("import csv: %w", csvErr(name, err, lines))
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, dup := cols[h]; dup || h == "" {
			_, col := r.FieldPos(i)
			return nil, nil, fmt.Errorf("import csv: %s:1:%d: column %q: empty or duplicate column name", name, charColumn(lines.line(1), col), h)
		}
		header[i] = h
		cols[h] = i
	}
	return header, cols, nil
}

// csvErr turns a CSV syntax error into a *RowError at its line and column
// (in characters).
func csvErr(name string, err error, lines *lineIndex) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return rowErr(name, pe.Line, charColumn(lines.line(pe.Line), pe.Column), "%v", pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// importJSONLFile adds the rows of one JSON Lines file and returns the
// resolved mapping.
func importJSONLFile(b *builder, f TableFile, name string, opts TableOptions) (Mapping, error) {
	data, file, err := b.readFile(f.Path, name)
	if err != nil {
		return Mapping{}, err
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var rows []tableRow
	err = eachLine(data, func(line int, text []byte) error {
		vals, err := parseObjectLine(text)
		if err != nil {
			return b.skip(jsonLineErr(name, line, text, err))
		}
		rows = append(rows, tableRow{line: line, vals: vals})
		return nil
	})
	if err != nil {
		return Mapping{}, fmt.Errorf("import jsonl: %w", err)
	}
	if len(rows) == 0 && len(b.d.BadRows) == 0 {
		return Mapping{}, fmt.Errorf("import jsonl: %s: no JSON objects", name)
	}
	keys := map[string]bool{} // a key on any line: optional keys are often omitted when empty
	for _, r := range rows {
		for k := range r.vals {
			keys[k] = true
		}
	}
	m, err := opts.Mapping.resolve(opts.Task, func(c string) bool { return keys[c] })
	if err != nil {
		return Mapping{}, fmt.Errorf("import jsonl: %s: %w", name, err)
	}
	t := newTableImporter(b, file, name, data, opts, m)
	t.split = f.Split
	for _, row := range rows {
		if err := b.skip(t.add(row)); err != nil {
			return Mapping{}, fmt.Errorf("import jsonl: %w", err)
		}
	}
	return m, nil
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

// jsonLineErr turns a JSON Lines error into a *RowError at its line and
// column (in characters).
func jsonLineErr(name string, line int, text []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var ce *colError
	switch {
	case errors.As(err, &ce):
		return rowErr(name, line, charColumn(text, ce.col), "%s", ce.msg)
	case errors.As(err, &se):
		return rowErr(name, line, charColumn(text, max(int(se.Offset), 1)), "invalid JSON: %v", err)
	case errors.As(err, &te):
		return rowErr(name, line, charColumn(text, max(int(te.Offset), 1)), "%v", err)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return rowErr(name, line, charColumn(text, len(text)+1), "invalid JSON: unexpected end of line")
	}
	return rowErr(name, line, 0, "%v", err)
}
